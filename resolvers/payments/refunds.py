"""Premium refunds paid through the rail: a policy cancelled in its cooling-off period (full premium) or
surrendered (unearned premium less expenses) owes its customer the refund the policies domain computed.

The policies domain announces the end (``policy.cancelled`` / ``policy.surrendered``, with ``refund``);
the ``payments.refunds`` consumer records one :class:`PremiumRefund` per policy (unique: a redelivered
event changes nothing) and instructs a ``REFUND`` credit to the customer's current account with the
idempotency key ``refund-policy-<id>`` (never twice). Without an account on file the refund waits
(``AWAITING_ACCOUNT``); the ``payments.refunds`` job instructs it once the customer registers one. The
bank's answer arrives like any other: settled, or returned (``reinstructPayment`` sends the next attempt).
A lapse (refund 0) owes nothing.

Invariant: per policy, at most one refund, and at most one live instruction of it (the rail's).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.auth import Principal, Role
from core.db import Base, BigId, IdPk, Timestamped, transaction, value_enum
from core.errors import ConflictError
from core.event_stream import Consumer, StoredEvent, register_consumer
from core.jobs import job
from resolvers.payments import service as rail
from resolvers.payments.models import InstructionState, Money, Purpose
from resolvers.payments.service import Payee, PayeeKind

__all__ = ["REFUND_CONSUMER", "PremiumRefund", "RefundState", "instruct_waiting", "record_refund", "refund_of"]

SYSTEM = Principal(subject="system:refunds", role=Role.ADMIN)
#: The policy events that owe a refund, and why.
REFUND_EVENTS = {"policy.cancelled": "cooling_off_cancellation", "policy.surrendered": "surrender"}


class RefundState(enum.StrEnum):
    """awaiting_account → instructed → settled | failed (returned; reinstructed as the next attempt)."""

    AWAITING_ACCOUNT = "awaiting_account"
    INSTRUCTED = "instructed"
    SETTLED = "settled"
    FAILED = "failed"


class PremiumRefund(IdPk, Timestamped, Base):
    """What a policy's end owes its customer, and where its payment stands (one per policy)."""

    __tablename__ = "payment_refund"

    policy_id: Mapped[int] = mapped_column(BigId, unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(32))
    state: Mapped[RefundState] = mapped_column(value_enum(RefundState, "payment_refund_state"))
    event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    settled_at: Mapped[dt.datetime | None] = mapped_column()


def _key(refund: PremiumRefund) -> str:
    return f"refund-policy-{refund.policy_id}"


def _instruct(session: Session, refund: PremiumRefund) -> None:
    """Instruct the refund's credit, or leave it awaiting an account (idempotent by its key)."""
    try:
        with session.begin_nested():
            rail.instruct(session, purpose=Purpose.REFUND, source_id=refund.id, amount=refund.amount,
                          payee=Payee(PayeeKind.CUSTOMER, refund.customer_id), idempotency_key=_key(refund),
                          actor=SYSTEM)
    except ConflictError as exc:
        if exc.code != "NO_PAYEE_ACCOUNT":
            raise
        refund.state = RefundState.AWAITING_ACCOUNT
        session.flush()
        return
    if refund.state is RefundState.AWAITING_ACCOUNT:
        refund.state = RefundState.INSTRUCTED
    session.flush()


def record_refund(session: Session, *, policy_id: int, customer_id: int, amount: Decimal, reason: str,
                  event_id: int) -> PremiumRefund | None:
    """Record what a policy's end owes (once per policy) and instruct it; None when nothing is owed."""
    if amount <= 0:
        return None
    existing = session.scalar(select(PremiumRefund).where(PremiumRefund.policy_id == policy_id))
    if existing is not None:
        return existing
    refund = PremiumRefund(policy_id=policy_id, customer_id=customer_id, amount=amount.quantize(Decimal("0.01")),
                           reason=reason, state=RefundState.INSTRUCTED, event_id=event_id)
    session.add(refund)
    session.flush()
    _instruct(session, refund)
    return refund


def refund_of(session: Session, policy_id: int) -> PremiumRefund | None:
    """The refund a policy's end owes, if any."""
    return session.scalar(select(PremiumRefund).where(PremiumRefund.policy_id == policy_id))


def _on_policy_end(session: Session, event: StoredEvent) -> None:
    payload = event.payload
    record_refund(session, policy_id=payload.policy_id, customer_id=payload.customer_id,  # type: ignore[attr-defined]
                  amount=Decimal(str(payload.refund)), reason=REFUND_EVENTS[event.type],  # type: ignore[attr-defined]
                  event_id=event.id)


REFUND_CONSUMER = register_consumer(Consumer("payments.refunds", _on_policy_end, types=frozenset(REFUND_EVENTS)))


@rail.on_outcome(Purpose.REFUND)
def _refund_changed(session: Session, instruction: rail.PaymentInstruction, at: dt.datetime) -> None:
    """The bank settled or returned a refund (or it was instructed again)."""
    refund = session.get(PremiumRefund, instruction.source_id, with_for_update=True)
    if refund is None:
        raise LookupError(f"refund {instruction.source_id} of instruction {instruction.id} is missing")
    refund.state = {InstructionState.INSTRUCTED: RefundState.INSTRUCTED, InstructionState.SETTLED: RefundState.SETTLED,
                    InstructionState.FAILED: RefundState.FAILED}[instruction.state]
    if instruction.state is InstructionState.SETTLED:
        refund.settled_at = at
    session.flush()


def instruct_waiting(sessions: sessionmaker[Session], at: dt.datetime, limit: int = 500) -> int:
    """Instruct the refunds that waited for an account, now that some have one; returns how many went."""
    with transaction(sessions) as session:
        waiting = session.scalars(select(PremiumRefund).where(PremiumRefund.state == RefundState.AWAITING_ACCOUNT)
                                  .order_by(PremiumRefund.id).limit(limit).with_for_update(skip_locked=True)).all()
        for refund in waiting:
            _instruct(session, refund)
        return sum(1 for r in waiting if r.state is not RefundState.AWAITING_ACCOUNT)


@job("payments.refunds", "instruct premium refunds that waited for the customer's bank account")
def refunds_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """The periodic round of refunds awaiting an account."""
    return instruct_waiting(sessions, at)
