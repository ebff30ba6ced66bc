"""Advances: money to a customer in hospital before the claim is settled, repaid or kept from the claim.

A customer (or an agent for them) applies against an expected claim. Eligibility: the policy
in force on the admission date, a covered diagnosis, the amount within the product's advance
limit and a share of the annual limit still open. Pay-first: a credit provider's signed
CreditReport for the case (``ADV-<policy number>``, EIP-712, committed to the ledger) at or
above the configured score band approves at once and instructs the payout; otherwise the
advance waits for manual review. The payout goes through the payment rail; when it settles
the advance is PAID and its repayment schedule starts. Repayments (a transfer recorded, or a
direct debit through the rail), an offset against the final claim payment, and a write-off on
default reduce what is outstanding. At every step::

    advanced = repaid + offset + outstanding + written off

(a CHECK constraint on the row, and a property test over random sequences of operations).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.clock import business_date
from core.errors import (
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from core.event_stream import Actor, Aggregate, append
from core.pagination import Page, PageRequest, keyset_page
from core.settings import get_settings
from partners import signed_records
from resolvers.advances.events import AdvanceApplied, AdvanceBalanceMoved, AdvanceStateChanged
from resolvers.advances.models import (
    Advance,
    AdvanceState,
    Decision,
    Installment,
    Movement,
    MovementKind,
    MovementState,
)
from resolvers.advances.scoping import advance_visible
from resolvers.claims.adjudication import annual_limit_used
from resolvers.payments import service as rail
from resolvers.payments.service import InstructionState, Payee, PayeeKind, Purpose
from resolvers.policies import service as policy_service
from resolvers.policies.underwriting import validate_icd10

__all__ = [
    "AdvanceConfig",
    "AdvanceState",
    "RepaymentChannel",
    "apply_advance",
    "count_advances",
    "count_movements",
    "get_advance",
    "installments_of",
    "list_advances",
    "list_movements",
    "mark_overdue",
    "movements_of",
    "offset_for_claim",
    "pay_advance",
    "record_repayment",
    "review_advance",
]

CENT = Decimal("0.01")
SYSTEM = Principal(subject="system:advances", role=Role.ADMIN)
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,80}$")
#: States in which something is outstanding and may be repaid or kept from the claim.
OWING = (AdvanceState.PAID, AdvanceState.OVERDUE)
_OPEN = (AdvanceState.IN_REVIEW, AdvanceState.APPROVED, AdvanceState.PAID, AdvanceState.OVERDUE)


@dataclass(frozen=True)
class AdvanceConfig:
    """Advance limits and terms (``advances.*`` in settings.extra)."""

    max_amount: Decimal = Decimal("20000")
    limit_share: Decimal = Decimal("0.5")
    pay_first_min_band: int = 3
    report_max_age_days: int = 30
    installments: int = 3
    installment_days: int = 30
    grace_days: int = 30

    @classmethod
    def from_extra(cls, extra: dict[str, str]) -> AdvanceConfig:
        """Read ``advances.max_amount``, ``.limit_share``, ``.pay_first_min_band``, ``.report_max_age_days``,
        ``.installments``, ``.installment_days``, ``.grace_days``."""
        d = cls()
        return cls(
            max_amount=Decimal(extra.get("advances.max_amount", str(d.max_amount))),
            limit_share=Decimal(extra.get("advances.limit_share", str(d.limit_share))),
            pay_first_min_band=int(extra.get("advances.pay_first_min_band", d.pay_first_min_band)),
            report_max_age_days=int(extra.get("advances.report_max_age_days", d.report_max_age_days)),
            installments=max(1, int(extra.get("advances.installments", d.installments))),
            installment_days=max(1, int(extra.get("advances.installment_days", d.installment_days))),
            grace_days=max(0, int(extra.get("advances.grace_days", d.grace_days))),
        )


class RepaymentChannel:
    """How a repayment arrives: a transfer already received (recorded), or a direct debit through the rail."""

    TRANSFER = "transfer"
    DIRECT_DEBIT = "direct_debit"


def _event_state(session: Session, advance: Advance, actor: Principal) -> None:
    session.flush()
    append(session, AdvanceStateChanged(advance_id=advance.id, customer_id=advance.customer_id,
                                        state=advance.state.value),
           aggregate=Aggregate("Advance", advance.id, advance.version), actor=Actor.of(actor))


def _check_key(key: str, field: str = "idempotencyKey") -> None:
    if not _KEY.match(key):
        raise ValidationError("idempotency key: 8-80 of letters, digits and . _ : -", field=field)


def _amount(value: Decimal, field: str = "amount") -> Decimal:
    try:
        ok = value.is_finite() and value > 0 and value == value.quantize(CENT)
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValidationError("a positive amount with at most 2 decimals", field=field, code="BAD_AMOUNT")
    return value


# --- reads -----------------------------------------------------------------------------------


def get_advance(session: Session, *, principal: Principal, advance_id: int, lock: bool = False) -> Advance:
    """One advance ``principal`` may see (NOT_FOUND otherwise, never 'forbidden')."""
    query = select(Advance).where(Advance.id == advance_id, advance_visible(principal))
    if lock:
        query = query.with_for_update()
    row = session.scalar(query.execution_options(populate_existing=True))
    if row is None:
        raise NotFoundError("advance not found", field="advanceId")
    return row


def _advances(principal: Principal, state: AdvanceState | None) -> Select[Any]:
    stmt = select(Advance).where(advance_visible(principal))
    return stmt if state is None else stmt.where(Advance.state == state)


def list_advances(session: Session, *, principal: Principal, page: PageRequest,
                  state: AdvanceState | None = None) -> Page[Advance]:
    """A keyset page of the advances ``principal`` may see, oldest first."""
    return keyset_page(session, _advances(principal, state), Advance.id, request=page)


def count_advances(session: Session, *, principal: Principal, state: AdvanceState | None = None) -> int:
    """How many advances :func:`list_advances` pages through."""
    stmt = _advances(principal, state).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(stmt)) or 0)


def installments_of(session: Session, advance_ids: Sequence[int]) -> dict[int, list[Installment]]:
    """The schedules of several advances, one query."""
    out: dict[int, list[Installment]] = {i: [] for i in advance_ids}
    for row in session.scalars(select(Installment).where(Installment.advance_id.in_(set(advance_ids)))
                               .order_by(Installment.advance_id, Installment.seq)):
        out[row.advance_id].append(row)
    return out


def movements_of(session: Session, advance_ids: Sequence[int]) -> dict[int, list[Movement]]:
    """The balance movements of several advances, oldest first, one query."""
    out: dict[int, list[Movement]] = {i: [] for i in advance_ids}
    for row in session.scalars(select(Movement).where(Movement.advance_id.in_(set(advance_ids)))
                               .order_by(Movement.advance_id, Movement.id)):
        out[row.advance_id].append(row)
    return out


# --- applying and deciding -------------------------------------------------------------------


def _credit_band(session: Session, *, record_id: int, case_reference: str, today: dt.date,
                 config: AdvanceConfig) -> int:
    """The score band of a credit provider's signed report for this case (BAD_CREDIT_REPORT otherwise)."""
    bad = ValidationError("not a current credit report for this advance's case", field="creditReportId",
                          code="BAD_CREDIT_REPORT")
    try:
        record = signed_records.get_signed_record(session, principal=SYSTEM, record_id=record_id)
    except NotFoundError:
        raise bad from None
    message = json.loads(record.message)
    if record.primary_type != "CreditReport" or message.get("caseReference") != case_reference:
        raise bad
    try:
        issued = dt.date.fromisoformat(str(message.get("issuedOn")))
        band = int(message.get("scoreBand"))
    except (TypeError, ValueError):
        raise bad from None
    if not (today - dt.timedelta(days=config.report_max_age_days) <= issued <= today):
        raise bad
    return band


def apply_advance(
    session: Session, *, principal: Principal, policy_id: int, diagnosis_code: str, admission_date: dt.date,
    hospital: str, amount: Decimal, credit_report_id: int | None, today: dt.date, now: dt.datetime,
    config: AdvanceConfig,
) -> Advance:
    """Apply for an advance (every input error at once); pay-first approves and instructs the payout at once."""
    policy = policy_service.get_policy(session, principal=principal, policy_id=policy_id)
    product = policy_service.get_product(session, product_id=policy.product_id)
    case = f"ADV-{policy.number}"
    band: int | None = None
    with collect_errors() as errors:
        with errors.check():
            _amount(amount)
        with errors.check():
            diagnosis_code = validate_icd10(diagnosis_code, field="diagnosisCode")
            if any(diagnosis_code.startswith(x.upper()) for x in policy.exclusions or ()):
                raise ValidationError("the policy excludes this diagnosis", field="diagnosisCode",
                                      code="NOT_COVERED")
        if admission_date > today:
            errors.add(ValidationError("the admission date is after today", field="admissionDate",
                                       code="DATE_IN_FUTURE"))
        if not policy_service.covered_on(policy, admission_date):
            errors.add(ValidationError("the policy was not in force on the admission date", field="policyId",
                                       code="POLICY_NOT_IN_FORCE"))
        if not hospital.strip() or len(hospital) > 200:
            errors.add(ValidationError("hospital: 1-200 characters", field="hospital"))
        open_limit = max(product.annual_limit - annual_limit_used(session, policy_id=policy.id), Decimal(0))
        limit = min(config.max_amount, (open_limit * config.limit_share).quantize(CENT, ROUND_DOWN))
        if amount.is_finite() and amount > limit:
            errors.add(ValidationError(f"above the advance limit of {limit}", field="amount",
                                       code="ABOVE_LIMIT"))
        if session.scalar(select(Advance.id).where(Advance.policy_id == policy.id, Advance.state.in_(_OPEN))
                          .limit(1)) is not None:
            errors.add(ConflictError("an advance on this policy is open already", field="policyId",
                                     code="ADVANCE_OPEN"))
        if credit_report_id is not None:
            with errors.check():
                band = _credit_band(session, record_id=credit_report_id, case_reference=case, today=today,
                                    config=config)
    pay_first = band is not None and band >= config.pay_first_min_band
    advance = Advance(
        number=f"ADV{today:%Y%m%d}{secrets.token_hex(4).upper()}", customer_id=policy.customer_id,
        policy_id=policy.id, case_reference=case, diagnosis_code=diagnosis_code, admission_date=admission_date,
        hospital=hospital.strip(), requested=amount, credit_report_id=credit_report_id, score_band=band,
        state=AdvanceState.APPROVED if pay_first else AdvanceState.IN_REVIEW,
        decision=Decision.PAY_FIRST if pay_first else None, decided_by="system:pay-first" if pay_first else None,
        applied_by=principal.subject, advanced=Decimal(0), repaid=Decimal(0), offset_amount=Decimal(0),
        written_off=Decimal(0), outstanding=Decimal(0))
    session.add(advance)
    session.flush()
    append(session, AdvanceApplied(advance_id=advance.id, customer_id=advance.customer_id, requested=amount,
                                   state=advance.state.value),
           aggregate=Aggregate("Advance", advance.id, advance.version), actor=Actor.of(principal))
    if pay_first:
        _instruct_payout(session, advance, key=f"advance-{advance.number}", actor=principal, now=now,
                         missing_account_ok=True)
    return advance


def review_advance(
    session: Session, *, principal: Principal, advance_id: int, approve: bool, expected_version: int | None,
    now: dt.datetime,
) -> Advance:
    """Decide an advance in manual review; an approval instructs the payout when the customer has an account."""
    advance = get_advance(session, principal=principal, advance_id=advance_id, lock=True)
    if expected_version is not None and expected_version != advance.version:
        raise StaleVersionError("the advance changed since you read it", field="expectedVersion")
    if advance.state is not AdvanceState.IN_REVIEW:
        raise InvalidTransitionError(f"a {advance.state.value} advance is not in review", field="advanceId")
    advance.state = AdvanceState.APPROVED if approve else AdvanceState.REJECTED
    advance.decision = Decision.MANUAL_APPROVED if approve else Decision.MANUAL_REJECTED
    advance.decided_by = principal.subject
    _event_state(session, advance, principal)
    if approve:
        _instruct_payout(session, advance, key=f"advance-{advance.number}", actor=principal, now=now,
                         missing_account_ok=True)
    return advance


def _instruct_payout(session: Session, advance: Advance, *, key: str, actor: Principal, now: dt.datetime,
                     missing_account_ok: bool = False) -> None:
    attempts = rail.instructions_of(session, Purpose.ADVANCE_PAYOUT, advance.id)
    try:
        if attempts and attempts[-1].state is InstructionState.FAILED:
            rail.reinstruct(session, principal=actor, instruction_id=attempts[-1].id, idempotency_key=key, now=now)
        else:
            rail.instruct(session, purpose=Purpose.ADVANCE_PAYOUT, source_id=advance.id, amount=advance.requested,
                          payee=Payee(PayeeKind.CUSTOMER, advance.customer_id), idempotency_key=key, actor=actor)
    except ConflictError as exc:
        if exc.code == "NO_PAYEE_ACCOUNT" and missing_account_ok:
            return  # approved; payAdvance pays once the customer registers an account
        if exc.code == "ALREADY_INSTRUCTED":
            raise ConflictError("the advance is paid or being paid", field="advanceId", code="ALREADY_PAID") from exc
        raise
    advance.payout_key = advance.payout_key or key
    session.flush()


def pay_advance(session: Session, *, principal: Principal, advance_id: int, idempotency_key: str,
                now: dt.datetime) -> Advance:
    """Instruct an approved advance's payout once (a returned payout: again, as its next attempt)."""
    _check_key(idempotency_key)
    existing = rail.instruction_by_key(session, idempotency_key)
    if existing is not None:
        if existing.purpose is not Purpose.ADVANCE_PAYOUT or existing.source_id != advance_id:
            raise ConflictError("this idempotency key moved other money", field="idempotencyKey",
                                code="IDEMPOTENCY_KEY_REUSED")
        return get_advance(session, principal=principal, advance_id=advance_id)
    advance = get_advance(session, principal=principal, advance_id=advance_id, lock=True)
    existing = rail.instruction_by_key(session, idempotency_key)  # committed while we waited for the lock
    if existing is not None:
        return pay_advance(session, principal=principal, advance_id=advance_id, idempotency_key=idempotency_key,
                           now=now)
    if advance.state in (*OWING, AdvanceState.CLOSED, AdvanceState.DEFAULTED):
        raise ConflictError("the advance is paid already", field="advanceId", code="ALREADY_PAID")
    if advance.state is not AdvanceState.APPROVED:
        raise InvalidTransitionError(f"a {advance.state.value} advance is not paid", field="advanceId")
    _instruct_payout(session, advance, key=idempotency_key, actor=principal, now=now)
    return advance


@rail.on_outcome(Purpose.ADVANCE_PAYOUT)
def _payout_changed(session: Session, instruction: rail.PaymentInstruction, at: dt.datetime) -> None:
    """The rail moved an advance payout: settled starts the schedule; returned leaves it APPROVED."""
    if instruction.state is not InstructionState.SETTLED:
        return
    advance = session.scalar(select(Advance).where(Advance.id == instruction.source_id).with_for_update()
                             .execution_options(populate_existing=True))
    if advance is None:
        raise LookupError(f"advance {instruction.source_id} of instruction {instruction.id} is missing")
    day = business_date(at)
    config = AdvanceConfig.from_extra(_extra())
    advance.advanced = advance.outstanding = instruction.amount
    advance.state, advance.paid_on = AdvanceState.PAID, day
    n = config.installments
    part = (instruction.amount / n).quantize(CENT, ROUND_DOWN)
    for seq in range(1, n + 1):
        amount = instruction.amount - part * (n - 1) if seq == n else part
        session.add(Installment(advance_id=advance.id, seq=seq, amount=amount, covered=Decimal(0),
                                due_on=day + dt.timedelta(days=config.installment_days * seq)))
    _event_state(session, advance, SYSTEM)


def _extra() -> dict[str, str]:
    return get_settings().extra


# --- reducing what is outstanding ------------------------------------------------------------


def _reduce(session: Session, advance: Advance, kind: MovementKind, amount: Decimal, *, today: dt.date,
            actor: Principal) -> None:
    """Apply a repayment, offset or write-off to the balances and the schedule (oldest instalment first)."""
    if amount > advance.outstanding:
        raise ConflictError("more than is outstanding", field="amount", code="REPAYMENT_EXCEEDS_BALANCE")
    if kind is MovementKind.REPAYMENT:
        advance.repaid += amount
    elif kind is MovementKind.OFFSET:
        advance.offset_amount += amount
    else:
        advance.written_off += amount
    advance.outstanding -= amount
    left = amount
    for item in session.scalars(select(Installment).where(Installment.advance_id == advance.id)
                                .order_by(Installment.seq)):
        take = min(left, item.amount - item.covered)
        if take > 0:
            item.covered += take
            left -= take
    if advance.outstanding == 0 and advance.state in OWING:
        advance.state, advance.overdue_since = AdvanceState.CLOSED, None
    elif advance.state is AdvanceState.OVERDUE and _first_unpaid_due(session, advance.id, today) is None:
        advance.state, advance.overdue_since = AdvanceState.PAID, None
    session.flush()
    append(session, AdvanceBalanceMoved(advance_id=advance.id, customer_id=advance.customer_id, kind=kind.value,
                                        amount=amount, outstanding=advance.outstanding),
           aggregate=Aggregate("Advance", advance.id, advance.version), actor=Actor.of(actor))


def _pending(session: Session, advance_id: int) -> Decimal:
    """What direct debits of the advance are still with the bank."""
    total = session.scalar(select(func.coalesce(func.sum(Movement.amount), 0)).where(
        Movement.advance_id == advance_id, Movement.kind == MovementKind.REPAYMENT,
        Movement.state == MovementState.INSTRUCTED)) or 0
    return Decimal(str(total))


def _first_unpaid_due(session: Session, advance_id: int, today: dt.date) -> dt.date | None:
    return session.scalar(select(func.min(Installment.due_on)).where(
        Installment.advance_id == advance_id, Installment.due_on < today, Installment.covered < Installment.amount))


def _movement_by_key(session: Session, advance_id: int, key: str) -> Movement | None:
    row = session.scalar(select(Movement).where(Movement.idempotency_key == key)
                         .execution_options(populate_existing=True))
    if row is not None and row.advance_id != advance_id:
        raise ConflictError("this idempotency key recorded another advance's movement", field="idempotencyKey",
                            code="IDEMPOTENCY_KEY_REUSED")
    return row


def record_repayment(
    session: Session, *, principal: Principal, advance_id: int, amount: Decimal, idempotency_key: str,
    channel: str, today: dt.date,
) -> Movement:
    """Record a repayment once per key: a transfer applies now, a direct debit when the bank settles it."""
    _check_key(idempotency_key)
    _amount(amount)
    existing = _movement_by_key(session, advance_id, idempotency_key)
    if existing is not None:
        return existing
    advance = get_advance(session, principal=principal, advance_id=advance_id, lock=True)
    existing = _movement_by_key(session, advance_id, idempotency_key)
    if existing is not None:
        return existing
    if advance.state is AdvanceState.CLOSED:  # repaid: the same refusal as any amount over the balance
        raise ConflictError("nothing is still owed: the advance is closed", field="amount",
                            code="REPAYMENT_EXCEEDS_BALANCE")
    if advance.state not in OWING:
        raise InvalidTransitionError(f"nothing is owed on a {advance.state.value} advance", field="advanceId")
    pending = session.scalar(select(func.coalesce(func.sum(Movement.amount), 0)).where(
        Movement.advance_id == advance.id, Movement.state == MovementState.INSTRUCTED)) or 0
    if amount > advance.outstanding - Decimal(str(pending)):
        raise ConflictError(f"more than the {advance.outstanding - Decimal(str(pending))} still owed",
                            field="amount", code="REPAYMENT_EXCEEDS_BALANCE")
    debit = channel == RepaymentChannel.DIRECT_DEBIT
    row = Movement(advance_id=advance.id, kind=MovementKind.REPAYMENT, amount=amount,
                   state=MovementState.INSTRUCTED if debit else MovementState.APPLIED,
                   idempotency_key=idempotency_key, recorded_by=principal.subject, on_day=today)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        winner = _movement_by_key(session, advance_id, idempotency_key)
        if winner is None:
            raise
        return winner
    if debit:
        rail.instruct(session, purpose=Purpose.REPAYMENT, source_id=row.id, amount=amount,
                      payee=Payee(PayeeKind.CUSTOMER, advance.customer_id), idempotency_key=idempotency_key,
                      actor=principal)
    else:
        _reduce(session, advance, MovementKind.REPAYMENT, amount, today=today, actor=principal)
    return row


@rail.on_outcome(Purpose.REPAYMENT)
def _debit_changed(session: Session, instruction: rail.PaymentInstruction, at: dt.datetime) -> None:
    """A direct debit settled (the repayment applies) or was returned (it does not)."""
    row = session.get(Movement, instruction.source_id, populate_existing=True)
    if row is None:
        raise LookupError(f"repayment {instruction.source_id} of instruction {instruction.id} is missing")
    if instruction.state is InstructionState.FAILED:
        row.state = MovementState.FAILED
        advance = session.scalar(select(Advance).where(Advance.id == row.advance_id).with_for_update()
                                 .execution_options(populate_existing=True))
        assert advance is not None
        if advance.state is AdvanceState.DEFAULTED and advance.outstanding > 0:  # what default left to this debit
            session.add(Movement(advance_id=advance.id, kind=MovementKind.WRITE_OFF, amount=row.amount,
                                 state=MovementState.APPLIED, idempotency_key=f"default-returned-{row.id}",
                                 recorded_by=SYSTEM.subject, on_day=business_date(at)))
            _reduce(session, advance, MovementKind.WRITE_OFF, row.amount, today=business_date(at), actor=SYSTEM)
    elif instruction.state is InstructionState.SETTLED and row.state is not MovementState.APPLIED:
        advance = session.scalar(select(Advance).where(Advance.id == row.advance_id).with_for_update()
                                 .execution_options(populate_existing=True))
        assert advance is not None
        row.state = MovementState.APPLIED
        _reduce(session, advance, MovementKind.REPAYMENT, row.amount, today=business_date(at), actor=SYSTEM)
    elif instruction.state is InstructionState.INSTRUCTED:
        row.state = MovementState.INSTRUCTED
    session.flush()


def offset_for_claim(session: Session, *, principal: Principal, claim_id: int, policy_id: int, payable: Decimal,
                     key: str, today: dt.date) -> Decimal:
    """Keep what the policy's paid advances still owe from a claim payment; returns the amount kept."""
    kept = Decimal(0)
    advances = session.scalars(select(Advance).where(
        Advance.policy_id == policy_id, Advance.state.in_(OWING), Advance.outstanding > 0,
        (Advance.claim_id.is_(None)) | (Advance.claim_id == claim_id)).order_by(Advance.id).with_for_update()
        .execution_options(populate_existing=True)).all()
    for advance in advances:
        pending = session.scalar(select(func.coalesce(func.sum(Movement.amount), 0)).where(
            Movement.advance_id == advance.id, Movement.state == MovementState.INSTRUCTED)) or 0
        take = min(payable - kept, advance.outstanding - Decimal(str(pending)))
        if take <= 0:
            continue
        advance.claim_id = claim_id
        session.add(Movement(advance_id=advance.id, kind=MovementKind.OFFSET, amount=take,
                             state=MovementState.APPLIED, idempotency_key=f"{key}:adv{advance.id}"[:80],
                             claim_id=claim_id, recorded_by=principal.subject, on_day=today))
        _reduce(session, advance, MovementKind.OFFSET, take, today=today, actor=principal)
        kept += take
    return kept


def mark_overdue(session: Session, *, today: dt.date, grace_days: int) -> int:
    """Overdue: an instalment past due and not covered; defaulted: overdue longer than the grace period
    (what is outstanding is written off). Idempotent; returns how many advances moved."""
    moved = 0
    for advance in session.scalars(select(Advance).where(Advance.state.in_(OWING)).order_by(Advance.id)
                                   .with_for_update().execution_options(populate_existing=True)).all():
        since = _first_unpaid_due(session, advance.id, today)
        if advance.state is AdvanceState.PAID and since is not None:
            advance.state, advance.overdue_since = AdvanceState.OVERDUE, since
            _event_state(session, advance, SYSTEM)
            moved += 1
        if (advance.state is AdvanceState.OVERDUE and advance.overdue_since is not None
                and advance.overdue_since + dt.timedelta(days=grace_days) < today):
            # A direct debit still with the bank is not written off: it settles (a repayment) or,
            # returned, is written off then (``_debit_changed``).
            rest = advance.outstanding - _pending(session, advance.id)
            session.add(Movement(advance_id=advance.id, kind=MovementKind.WRITE_OFF, amount=rest,
                                 state=MovementState.APPLIED, idempotency_key=f"default-{advance.number}",
                                 recorded_by=SYSTEM.subject, on_day=today))
            advance.written_off += rest
            advance.outstanding -= rest
            advance.state, advance.defaulted_on = AdvanceState.DEFAULTED, today
            _event_state(session, advance, SYSTEM)
            append(session, AdvanceBalanceMoved(advance_id=advance.id, customer_id=advance.customer_id,
                                                kind=MovementKind.WRITE_OFF.value, amount=rest,
                                                outstanding=advance.outstanding),
                   aggregate=Aggregate("Advance", advance.id, advance.version), actor=Actor.of(SYSTEM))
            moved += 1
    return moved


def list_movements(session: Session, *, advance_id: int, page: PageRequest) -> Page[Movement]:
    """A keyset page of one advance's repayments, offsets and write-offs, oldest first."""
    return keyset_page(session, select(Movement).where(Movement.advance_id == advance_id), Movement.id,
                       request=page)


def count_movements(session: Session, *, advance_id: int) -> int:
    """How many movements one advance has."""
    return int(session.scalar(select(func.count(Movement.id)).where(Movement.advance_id == advance_id)) or 0)
