"""Payment instructions: idempotent by key, and a claim pays once even under concurrency.

Three guards, any one of which suffices: the claim row is locked (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite writers serialise on ``BEGIN IMMEDIATE``) and re-read
before paying; ``(claim_id, seq)`` is unique, so two writers that both computed "first
payment" cannot both insert; and the claim's version column makes a second writer's
update fail as stale.

Answers, whatever the interleaving: the same key on the same claim returns the payment
that key made (a retry is a no-op, also while the first request is still committing);
the same key on another claim is IDEMPOTENCY_KEY_REUSED and changes nothing; another key
on a paid claim is ALREADY_PAID. The key is looked up again after the lock, and a unique
violation is resolved by reading what the winner wrote, never guessed from the error.
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
from resolvers.claims.models import Claim, ClaimState, PayeeKind, Payment, PaymentStatus
from resolvers.claims.reasons import Reason, ReasonCode
from resolvers.claims.scoping import claim_visible
from resolvers.claims.states import transition

__all__ = ["pay_claim"]

_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,80}$")


def _by_key(session: Session, claim_id: int, idempotency_key: str) -> Payment | None:
    """The payment ``idempotency_key`` made for this claim; IDEMPOTENCY_KEY_REUSED if it paid another."""
    existing = session.scalar(select(Payment).where(Payment.idempotency_key == idempotency_key)
                              .execution_options(populate_existing=True))
    if existing is not None and existing.claim_id != claim_id:
        raise ConflictError("this idempotency key paid another claim", field="idempotencyKey",
                            code="IDEMPOTENCY_KEY_REUSED")
    return existing


def pay_claim(
    session: Session, *, principal: Principal, claim_id: int, idempotency_key: str, now: dt.datetime,
) -> Payment:
    """Instruct and settle the open approved amount of a claim; the same key returns the same payment."""
    if not _KEY.match(idempotency_key):
        raise ValidationError("idempotency key: 8-80 of letters, digits and . _ : -", field="idempotencyKey")
    existing = _by_key(session, claim_id, idempotency_key)  # a retry after the commit: no lock needed
    if existing is not None:
        return existing
    claim = session.scalar(
        select(Claim).where(Claim.id == claim_id, claim_visible(principal))
        .with_for_update().execution_options(populate_existing=True)
    )
    if claim is None:
        raise NotFoundError("claim not found", field="claimId")
    # A request with this key may have committed while we waited for the lock.
    existing = _by_key(session, claim_id, idempotency_key)
    if existing is not None:
        return existing
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
        status=PaymentStatus.SETTLED.value, instructed_by=principal.subject,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError as exc:
        # Which constraint? Read what the concurrent winner committed instead of guessing.
        existing = _by_key(session, claim_id, idempotency_key)
        if existing is not None:
            return existing
        raise ConflictError("the claim is paid already", field="claimId", code="ALREADY_PAID") from exc
    claim.paid_amount = claim.paid_amount + amount
    transition(session, claim, ClaimState.PAID, actor=principal, at=now, reason=Reason(ReasonCode.PAID, {
        "seq": seq, "amount": amount, "payee": payment.payee_kind, "key": idempotency_key}))
    session.flush()
    return payment
