"""Payment instructions: idempotent by key, and a claim pays once even under concurrency.

Three guards, any one of which suffices: the claim row is locked (``SELECT … FOR
UPDATE`` on PostgreSQL) and re-read before paying; ``(claim_id, seq)`` is unique, so two
writers that both computed "first payment" cannot both insert; and the claim's version
column makes a second writer's update fail as stale.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ConflictError, InvalidTransitionError, NotFoundError, ValidationError
from resolvers.claims.models import Claim, ClaimState, PayeeKind, Payment
from resolvers.claims.scoping import claim_visible
from resolvers.claims.states import transition

__all__ = ["pay_claim"]

_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,80}$")


def pay_claim(
    session: Session, *, principal: Principal, claim_id: int, idempotency_key: str, now: dt.datetime,
) -> Payment:
    """Instruct and settle the open approved amount of a claim; the same key returns the same payment."""
    if not _KEY.match(idempotency_key):
        raise ValidationError("idempotency key: 8-80 of letters, digits and . _ : -", field="idempotencyKey")
    existing = session.scalar(select(Payment).where(Payment.idempotency_key == idempotency_key))
    if existing is not None:
        if existing.claim_id != claim_id:
            raise ConflictError("this idempotency key paid another claim", field="idempotencyKey",
                                code="IDEMPOTENCY_KEY_REUSED")
        return existing
    claim = session.scalar(
        select(Claim).where(Claim.id == claim_id, claim_visible(principal))
        .with_for_update().execution_options(populate_existing=True)
    )
    if claim is None:
        raise NotFoundError("claim not found", field="claimId")
    if claim.state is ClaimState.PAID:
        raise ConflictError("the claim is paid already", field="claimId", code="ALREADY_PAID")
    if claim.state not in (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED):
        raise InvalidTransitionError(f"a {claim.state.value} claim cannot be paid", field="claimId")
    amount = (claim.approved_amount or Decimal(0)) - claim.paid_amount
    if amount <= 0:
        raise ConflictError("nothing left to pay on this claim", field="claimId", code="NOTHING_TO_PAY")
    seq = int(session.scalar(select(func.count(Payment.id)).where(Payment.claim_id == claim.id)) or 0) + 1
    hospital = claim.partner_id is not None
    payment = Payment(
        claim_id=claim.id, seq=seq, idempotency_key=idempotency_key, amount=amount,
        payee_kind=PayeeKind.HOSPITAL if hospital else PayeeKind.CUSTOMER,
        payee_ref=f"partner:{claim.partner_id}" if hospital else f"customer:{claim.customer_id}",
        status="settled", instructed_by=principal.subject,
    )
    session.add(payment)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("the claim is paid already", field="claimId", code="ALREADY_PAID") from exc
    claim.paid_amount = claim.paid_amount + amount
    payee = "hospital (direct billing)" if hospital else "customer"
    transition(session, claim, ClaimState.PAID, actor=principal, at=now,
               reason=f"payment {seq} of {amount} to the {payee}, key {idempotency_key}")
    session.flush()
    return payment
