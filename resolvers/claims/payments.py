"""Claim payouts through the payment rail: instructed once, PAID only when the bank settles.

``pay_claim`` instructs the claim's open approved amount on the rail
(``resolvers.payments``); the claim stays APPROVED until the bank's returns file settles
the instruction, and then becomes PAID (``_payout_changed``, the rail's outcome handler for
claim payouts). A returned payout leaves the claim APPROVED with its payment FAILED; paying
again (a new key) re-instructs that payment as its next attempt, never a second payment.
What an advance on the policy still owes is kept from the payout (``resolvers.advances``:
an offset); when it keeps all of it nothing goes to the bank and the claim is PAID at once.

Three guards keep a claim from paying twice, any one of which suffices: the claim row is
locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite writers serialise on ``BEGIN
IMMEDIATE``) and re-read before paying; ``(claim_id, seq)`` is unique; and the rail allows
one live instruction per payment (a partial unique index).

Answers, whatever the interleaving: the same key on the same claim returns the payment
that key made (a retry is a no-op, also while the first request is still committing);
the same key on another claim is IDEMPOTENCY_KEY_REUSED and changes nothing; another key
on a claim paid or being paid is ALREADY_PAID; NO_PAYEE_ACCOUNT when the payee has no bank
account on file. The key is looked up again after the lock, and a unique violation is
resolved by reading what the winner wrote, never guessed from the error.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.clock import business_date
from core.errors import ConflictError, InvalidTransitionError, NotFoundError, ValidationError
from resolvers.advances import service as advances
from resolvers.claims.models import Claim, ClaimState, PayeeKind, Payment, PaymentStatus
from resolvers.claims.reasons import Reason, ReasonCode
from resolvers.claims.scoping import claim_visible
from resolvers.claims.states import allowed, transition
from resolvers.payments import service as rail
from resolvers.payments.service import InstructionState, Payee, Purpose

__all__ = ["pay_claim", "pay_claim_if_payee_known"]

_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,80}$")
_RAIL = Principal(subject="system:payments", role=Role.ADMIN)
_STATUS = {InstructionState.INSTRUCTED: PaymentStatus.INSTRUCTED, InstructionState.SETTLED: PaymentStatus.SETTLED,
           InstructionState.FAILED: PaymentStatus.FAILED}


def _by_key(session: Session, claim_id: int, idempotency_key: str) -> Payment | None:
    """The payment ``idempotency_key`` made (or re-instructed) for this claim; IDEMPOTENCY_KEY_REUSED elsewhere."""
    existing = session.scalar(select(Payment).where(Payment.idempotency_key == idempotency_key)
                              .execution_options(populate_existing=True))
    if existing is None:
        again = rail.instruction_by_key(session, idempotency_key)
        if again is not None and again.purpose is not Purpose.CLAIM_PAYOUT:
            raise ConflictError("this idempotency key moved other money", field="idempotencyKey",
                                code="IDEMPOTENCY_KEY_REUSED")
        if again is not None:
            existing = session.get(Payment, again.source_id, populate_existing=True)
    if existing is not None and existing.claim_id != claim_id:
        raise ConflictError("this idempotency key paid another claim", field="idempotencyKey",
                            code="IDEMPOTENCY_KEY_REUSED")
    return existing


def _payee(claim: Claim) -> tuple[PayeeKind, Payee]:
    if claim.partner_id is not None:
        return PayeeKind.HOSPITAL, Payee(rail.PayeeKind.PARTNER, claim.partner_id)
    return PayeeKind.CUSTOMER, Payee(rail.PayeeKind.CUSTOMER, claim.customer_id)


def pay_claim(
    session: Session, *, principal: Principal, claim_id: int, idempotency_key: str, now: dt.datetime,
) -> Payment:
    """Instruct the open approved amount of a claim on the rail; the same key returns the same payment."""
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
    payments = session.scalars(select(Payment).where(Payment.claim_id == claim.id).order_by(Payment.seq)
                               .execution_options(populate_existing=True)).all()
    if any(p.status == PaymentStatus.INSTRUCTED for p in payments):
        raise ConflictError("a payment of the claim is on its way", field="claimId", code="ALREADY_PAID")
    failed = [p for p in payments if p.status == PaymentStatus.FAILED]
    if failed:  # the bank returned it: instruct it again, as its next attempt
        last = rail.instructions_of(session, Purpose.CLAIM_PAYOUT, failed[-1].id)[-1]
        rail.reinstruct(session, principal=principal, instruction_id=last.id, idempotency_key=idempotency_key,
                        now=now)
        return failed[-1]
    amount = (claim.approved_amount or Decimal(0)) - claim.paid_amount
    if amount <= 0:
        raise ConflictError("nothing left to pay on this claim", field="claimId", code="NOTHING_TO_PAY")
    payee_kind, payee = _payee(claim)
    if rail.current_account(session, payee) is None:
        raise ConflictError("the payee has no bank account on file", field="claimId", code="NO_PAYEE_ACCOUNT")
    seq = int(session.scalar(select(func.count(Payment.id)).where(Payment.claim_id == claim.id)) or 0) + 1
    payment = Payment(
        claim_id=claim.id, seq=seq, idempotency_key=idempotency_key, amount=amount, payee_kind=payee_kind,
        payee_ref=f"partner:{claim.partner_id}" if payee.kind is rail.PayeeKind.PARTNER
        else f"customer:{claim.customer_id}",
        status=PaymentStatus.INSTRUCTED.value, instructed_by=principal.subject,
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
    # What the policy's advances still owe is kept from the payout (the advance is offset, not repaid).
    kept = advances.offset_for_claim(session, principal=principal, claim_id=claim.id, policy_id=claim.policy_id,
                                     payable=amount, key=idempotency_key, today=business_date(now))
    if kept == amount:  # the advance took all of it: nothing for the bank to move
        payment.status = PaymentStatus.SETTLED.value
        _settled(session, claim, payment, key=idempotency_key, at=now)
    else:
        rail.instruct(session, purpose=Purpose.CLAIM_PAYOUT, source_id=payment.id, amount=amount - kept,
                      payee=payee, idempotency_key=idempotency_key, actor=principal)
    session.flush()
    return payment


def pay_claim_if_payee_known(
    session: Session, *, principal: Principal, claim_id: int, idempotency_key: str, now: dt.datetime,
) -> Payment | None:
    """:func:`pay_claim`, or None (nothing written) when the payee has no account yet: the claim waits APPROVED."""
    try:
        return pay_claim(session, principal=principal, claim_id=claim_id, idempotency_key=idempotency_key, now=now)
    except ConflictError as exc:
        if exc.code == "NO_PAYEE_ACCOUNT":
            return None
        raise


@rail.on_outcome(Purpose.CLAIM_PAYOUT)
def _payout_changed(session: Session, instruction: rail.PaymentInstruction, at: dt.datetime) -> None:
    """The rail moved a claim payout: instructed again, settled (the claim is PAID) or returned."""
    payment = session.get(Payment, instruction.source_id, populate_existing=True)
    if payment is None:
        raise LookupError(f"claim payment {instruction.source_id} of instruction {instruction.id} is missing")
    claim = session.scalar(select(Claim).where(Claim.id == payment.claim_id).with_for_update()
                           .execution_options(populate_existing=True))
    assert claim is not None
    payment.status = _STATUS[instruction.state].value
    if instruction.state is InstructionState.SETTLED:
        _settled(session, claim, payment, key=instruction.idempotency_key, at=at)
    session.flush()


def _settled(session: Session, claim: Claim, payment: Payment, *, key: str, at: dt.datetime) -> None:
    """The payment is settled (by the bank, or kept whole for an advance): the claim is PAID."""
    claim.paid_amount = claim.paid_amount + payment.amount
    if allowed(claim.state, ClaimState.PAID):
        transition(session, claim, ClaimState.PAID, actor=_RAIL, at=at, reason=Reason(ReasonCode.PAID, {
            "seq": payment.seq, "amount": payment.amount, "payee": payment.payee_kind, "key": key}))
