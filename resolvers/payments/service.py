"""The payment rail: one instruction model for claim payouts, advance payouts, repayments and refunds.

An instruction moves instructed → settled | failed (returned by the bank, with its reason
code). It never doubles: its idempotency key is unique, ``(purpose, source, attempt)`` is
unique, and at most one attempt per source is live (instructed or settled: a partial unique
index), so a returned payout is re-instructed as the next attempt and two concurrent
re-instructions cannot both stand. The domain owning a purpose (claims, advances) hears each
outcome through the handler it registers (:func:`on_outcome`), in the same transaction. A
returns line whose handler fails is held (``payment_return_hold``) while the rest of its file
applies, retried with backoff and dead-lettered after ``MAX_RETURN_ATTEMPTS`` (finance sees and
requeues it: ``paymentReturnHolds``, ``opsure payments held|requeue``).

Example::

    instruction = instruct(session, purpose=Purpose.CLAIM_PAYOUT, source_id=payment.id, amount=amount,
                           payee=Payee(PayeeKind.CUSTOMER, claim.customer_id), idempotency_key=key,
                           actor=principal)
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import (
    ConflictError,
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
    collect_errors,
)
from core.event_stream import Actor, Aggregate, append
from core.pagination import KeyColumn, Page, PageRequest, keyset_page
from core.roles import INTERNAL
from resolvers.payments.bankfile import BatchLine, FormatError, ReturnLine, format_batch, parse_returns
from resolvers.payments.events import (
    PaymentInstructed,
    PaymentReturned,
    PaymentReturnHoldChanged,
    PaymentSettled,
)
from resolvers.payments.models import (
    DIRECTION,
    LIVE,
    Direction,
    InstructionState,
    PayeeAccount,
    PayeeKind,
    PaymentBatch,
    PaymentInstruction,
    Purpose,
    ReturnHold,
    ReturnHoldState,
    ReturnsFile,
)
from resolvers.payments.scoping import account_visible, owns

log = logging.getLogger(__name__)

__all__ = [
    "MAX_RETURN_ATTEMPTS",
    "Direction",
    "InstructionState",
    "OutcomeHandler",
    "Payee",
    "PayeeAccount",
    "PayeeKind",
    "PaymentInstruction",
    "Purpose",
    "RetryOutcome",
    "ReturnHold",
    "ReturnHoldState",
    "ReturnsOutcome",
    "accounts_by_id",
    "accounts_of",
    "batch_text",
    "batches_by_id",
    "count_holds",
    "count_instructions",
    "current_account",
    "export_batch",
    "get_account",
    "get_instruction",
    "import_returns",
    "instruct",
    "instruction_by_key",
    "instructions_of",
    "list_accounts",
    "list_holds",
    "list_instructions",
    "on_outcome",
    "register_account",
    "reinstruct",
    "requeue_hold",
    "retry_held_return",
    "retry_held_returns",
    "unwritten_batches",
]

KEY = re.compile(r"^[A-Za-z0-9._:-]{8,80}$")
_BANK = re.compile(r"^[A-Z0-9]{3,12}$")
_ACCOUNT = re.compile(r"^[0-9]{8,30}$")


@dataclass(frozen=True)
class Payee:
    """Who an instruction pays (or collects from)."""

    kind: PayeeKind
    id: int


#: Called in the transaction that changes an instruction (instructed again, settled, failed).
OutcomeHandler = Callable[[Session, PaymentInstruction, dt.datetime], None]
_HANDLERS: dict[Purpose, OutcomeHandler] = {}


def on_outcome(purpose: Purpose) -> Callable[[OutcomeHandler], OutcomeHandler]:
    """Register the owning domain's handler of ``purpose``'s outcomes (one per purpose)."""

    def register(fn: OutcomeHandler) -> OutcomeHandler:
        existing = _HANDLERS.get(purpose)
        if existing is not None and existing is not fn:
            raise ValueError(f"{purpose} has an outcome handler already")
        _HANDLERS[purpose] = fn
        return fn

    return register


def _notify(session: Session, row: PaymentInstruction, at: dt.datetime) -> None:
    handler = _HANDLERS.get(row.purpose)
    if handler is None:  # an outcome nobody hears would leave the owner wrong: refuse, roll back
        raise LookupError(f"no outcome handler for {row.purpose}; import its domain's payment module")
    handler(session, row, at)


# --- accounts --------------------------------------------------------------------------------


def register_account(
    session: Session, *, principal: Principal, payee: Payee, bank_code: str, account_number: str, holder_name: str,
) -> PayeeAccount:
    """Register ``payee``'s bank account (it becomes the one paid); every input error at once."""
    if principal.role not in INTERNAL and not owns(principal, payee.kind, payee.id):
        raise ForbiddenError("an account is registered by its holder or by staff", field="payee")
    number = re.sub(r"[\s-]", "", account_number)
    name = holder_name.strip()
    with collect_errors() as errors:
        if not _BANK.match(bank_code):
            errors.add(ValidationError("bank code: 3-12 capital letters or digits", field="bankCode",
                                       code="BAD_BANK_CODE"))
        if not _ACCOUNT.match(number):
            errors.add(ValidationError("account number: 8-30 digits", field="accountNumber", code="BAD_ACCOUNT_NUMBER"))
        if not name or len(name) > 100 or re.search(r"[|\r\n]", name):
            errors.add(ValidationError("holder name: 1-100 characters, no | or line end", field="holderName",
                                       code="BAD_HOLDER_NAME"))
    row = PayeeAccount(owner_kind=payee.kind, owner_id=payee.id, bank_code=bank_code, account_number=number,
                       holder_name=name, last4=number[-4:], active=True, registered_by=principal.subject)
    session.add(row)
    session.flush()
    return row


def current_account(session: Session, payee: Payee) -> PayeeAccount | None:
    """The newest active account of ``payee``."""
    return session.scalar(
        select(PayeeAccount).where(PayeeAccount.owner_kind == payee.kind, PayeeAccount.owner_id == payee.id,
                                   PayeeAccount.active.is_(True)).order_by(PayeeAccount.id.desc()).limit(1))


def accounts_of(session: Session, *, principal: Principal, payee: Payee) -> Sequence[PayeeAccount]:
    """Every account of ``payee`` ``principal`` may see, newest first."""
    return session.scalars(
        select(PayeeAccount).where(PayeeAccount.owner_kind == payee.kind, PayeeAccount.owner_id == payee.id,
                                   account_visible(principal)).order_by(PayeeAccount.id.desc())).all()


# --- instructions ----------------------------------------------------------------------------


def instruction_by_key(session: Session, idempotency_key: str) -> PaymentInstruction | None:
    """The instruction ``idempotency_key`` made, as committed now."""
    return session.scalar(select(PaymentInstruction).where(PaymentInstruction.idempotency_key == idempotency_key)
                          .execution_options(populate_existing=True))


def instructions_of(session: Session, purpose: Purpose, source_id: int) -> Sequence[PaymentInstruction]:
    """Every attempt of one source, first attempt first."""
    return session.scalars(select(PaymentInstruction).where(
        PaymentInstruction.purpose == purpose, PaymentInstruction.source_id == source_id)
        .order_by(PaymentInstruction.attempt).execution_options(populate_existing=True)).all()


def get_instruction(session: Session, instruction_id: int, *, lock: bool = False) -> PaymentInstruction:
    """One instruction by id (NOT_FOUND otherwise)."""
    query = select(PaymentInstruction).where(PaymentInstruction.id == instruction_id)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query.execution_options(populate_existing=True))
    if row is None:
        raise NotFoundError("payment instruction not found", field="instructionId")
    return row


def _check_key(idempotency_key: str) -> None:
    if not KEY.match(idempotency_key):
        raise ValidationError("idempotency key: 8-80 of letters, digits and . _ : -", field="idempotencyKey")


def _same_source(row: PaymentInstruction, purpose: Purpose, source_id: int) -> PaymentInstruction:
    if row.purpose is not purpose or row.source_id != source_id:
        raise ConflictError("this idempotency key instructed another payment", field="idempotencyKey",
                            code="IDEMPOTENCY_KEY_REUSED")
    return row


def _insert(session: Session, *, purpose: Purpose, source_id: int, amount: Decimal, account: PayeeAccount,
            attempt: int, idempotency_key: str, actor: Principal) -> PaymentInstruction:
    row = PaymentInstruction(
        reference=f"PI{secrets.token_hex(6).upper()}", purpose=purpose, direction=DIRECTION[purpose],
        source_id=source_id, attempt=attempt, idempotency_key=idempotency_key, amount=amount, currency="CNY",
        payee_account_id=account.id, state=InstructionState.INSTRUCTED, instructed_by=actor.subject)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        # Read what the concurrent winner committed instead of guessing from the error.
        winner = instruction_by_key(session, idempotency_key)
        if winner is not None:
            return _same_source(winner, purpose, source_id)
        raise ConflictError("a payment of this source is instructed already", field="idempotencyKey",
                            code="ALREADY_INSTRUCTED") from exc
    append(session, PaymentInstructed(instruction_id=row.id, purpose=purpose.value, source_id=source_id,
                                      attempt=attempt, amount=amount),
           aggregate=Aggregate("PaymentInstruction", row.id, row.version), actor=Actor.of(actor))
    return row


def instruct(
    session: Session, *, purpose: Purpose, source_id: int, amount: Decimal, payee: Payee, idempotency_key: str,
    actor: Principal,
) -> PaymentInstruction:
    """Instruct ``amount`` for ``source_id`` once; the same key answers the same instruction.

    The caller holds its source row's lock. NO_PAYEE_ACCOUNT when the payee has no account;
    ALREADY_INSTRUCTED when another attempt of the source is live.
    """
    _check_key(idempotency_key)
    if amount <= 0:
        raise ValidationError("an instruction moves a positive amount", field="amount", code="NOT_POSITIVE")
    existing = instruction_by_key(session, idempotency_key)
    if existing is not None:
        return _same_source(existing, purpose, source_id)
    attempts = instructions_of(session, purpose, source_id)
    if any(a.state.value in LIVE for a in attempts):
        raise ConflictError("a payment of this source is instructed already", field="idempotencyKey",
                            code="ALREADY_INSTRUCTED")
    account = current_account(session, payee)
    if account is None:
        raise ConflictError("the payee has no bank account on file", field="payee", code="NO_PAYEE_ACCOUNT")
    return _insert(session, purpose=purpose, source_id=source_id, amount=amount, account=account,
                   attempt=len(attempts) + 1, idempotency_key=idempotency_key, actor=actor)


def reinstruct(
    session: Session, *, principal: Principal, instruction_id: int, idempotency_key: str, now: dt.datetime,
) -> PaymentInstruction:
    """Instruct a returned payment again, as its next attempt, to the payee's current account.

    The same key answers the same new attempt; NOT_RETURNED when the instruction did not fail;
    ALREADY_INSTRUCTED when another attempt of its source is live (re-instructed already).
    """
    _check_key(idempotency_key)
    existing = instruction_by_key(session, idempotency_key)
    failed = get_instruction(session, instruction_id, lock=True)
    if existing is not None:
        return _same_source(existing, failed.purpose, failed.source_id)
    existing = instruction_by_key(session, idempotency_key)  # committed while we waited for the lock
    if existing is not None:
        return _same_source(existing, failed.purpose, failed.source_id)
    if failed.state is not InstructionState.FAILED:
        raise ConflictError("only a returned instruction is instructed again", field="instructionId",
                            code="NOT_RETURNED")
    attempts = instructions_of(session, failed.purpose, failed.source_id)
    if any(a.state.value in LIVE for a in attempts):
        raise ConflictError("this payment is instructed again already", field="instructionId",
                            code="ALREADY_INSTRUCTED")
    payee = session.get(PayeeAccount, failed.payee_account_id)
    assert payee is not None
    account = current_account(session, Payee(payee.owner_kind, payee.owner_id))
    if account is None:
        raise ConflictError("the payee has no bank account on file", field="payee", code="NO_PAYEE_ACCOUNT")
    row = _insert(session, purpose=failed.purpose, source_id=failed.source_id, amount=failed.amount,
                  account=account, attempt=len(attempts) + 1, idempotency_key=idempotency_key, actor=principal)
    _notify(session, row, now)
    session.flush()
    return row


# --- bank exchange ---------------------------------------------------------------------------


def export_batch(session: Session, *, now: dt.datetime, adapter: str, limit: int = 5000) -> PaymentBatch | None:
    """Put every instructed, unbatched instruction (up to ``limit``) in a new batch; None when none waits."""
    rows = session.scalars(select(PaymentInstruction).where(
        PaymentInstruction.state == InstructionState.INSTRUCTED, PaymentInstruction.batch_id.is_(None))
        .order_by(PaymentInstruction.id).limit(limit).with_for_update()).all()
    if not rows:
        return None
    day = now.astimezone(dt.UTC).strftime("%Y%m%d")
    same_day = int(session.scalar(select(func.count(PaymentBatch.id)).where(
        PaymentBatch.reference.like(f"B{day}-%"))) or 0)
    batch = PaymentBatch(reference=f"B{day}-{same_day + 1:04d}", adapter=adapter, count=len(rows),
                         total=sum((r.amount for r in rows), Decimal(0)))
    session.add(batch)
    session.flush()
    for row in rows:
        row.batch_id = batch.id
    session.flush()
    return batch


def batch_text(session: Session, batch: PaymentBatch) -> str:
    """The batch file of ``batch`` (the same bytes every time it is written)."""
    rows = session.execute(
        select(PaymentInstruction, PayeeAccount).join(PayeeAccount, PayeeAccount.id == PaymentInstruction.payee_account_id)
        .where(PaymentInstruction.batch_id == batch.id).order_by(PaymentInstruction.id)).all()
    lines = [BatchLine(i.reference, i.direction.value, i.amount, a.bank_code, a.account_number, a.holder_name)
             for i, a in rows]
    return format_batch(batch.reference, batch.created_at.astimezone(dt.UTC).isoformat(timespec="seconds"), lines)


def unwritten_batches(session: Session) -> Sequence[PaymentBatch]:
    """Batches recorded but not yet handed to the bank (a crash between the two leaves some)."""
    return session.scalars(select(PaymentBatch).where(PaymentBatch.written_at.is_(None))
                           .order_by(PaymentBatch.id)).all()


@dataclass(frozen=True)
class ReturnsOutcome:
    """What one returns file did: applied (a file read before: ``duplicate``) or refused as a whole."""

    file: ReturnsFile | None
    duplicate: bool = False
    error: str | None = None
    held: int = 0  # lines held for retry: their owner's handler failed


def _apply(session: Session, line: ReturnLine, at: dt.datetime) -> str | None:
    """Apply one answer of the bank; a code when it cannot be applied (None: applied or a repeat)."""
    row = session.scalar(select(PaymentInstruction).where(PaymentInstruction.reference == line.reference)
                         .with_for_update().execution_options(populate_existing=True))
    if row is None:
        return "UNKNOWN_REFERENCE"
    if row.batch_id is None:
        return "NOT_EXPORTED"
    if line.amount != row.amount:
        return "AMOUNT_MISMATCH"
    target = InstructionState.SETTLED if line.settled else InstructionState.FAILED
    if row.state is target:
        return None  # the bank repeated itself
    if row.state is not InstructionState.INSTRUCTED:
        return "CONTRADICTS_EARLIER_ANSWER"
    row.state = target
    if line.settled:
        row.settled_at, row.bank_transaction = at, line.detail
    else:
        row.failed_at, row.return_code = at, line.detail
    session.flush()
    aggregate, actor = Aggregate("PaymentInstruction", row.id, row.version), Actor.system("payments")
    if line.settled:
        append(session, PaymentSettled(instruction_id=row.id, purpose=row.purpose.value, source_id=row.source_id,
                                       amount=row.amount), aggregate=aggregate, actor=actor)
    else:
        append(session, PaymentReturned(instruction_id=row.id, purpose=row.purpose.value, source_id=row.source_id,
                                        amount=row.amount, return_code=line.detail), aggregate=aggregate, actor=actor)
    _notify(session, row, at)
    return None


def import_returns(session: Session, *, name: str, text: str, sha256: str, at: dt.datetime) -> ReturnsOutcome:
    """Apply a returns file once (by digest): settle or fail each instruction it answers.

    Each line applies in its own savepoint: a line whose owner's outcome handler fails is held
    (:class:`ReturnHold`, retried by :func:`retry_held_returns`) while the rest of the file applies.
    """
    seen = session.scalar(select(ReturnsFile).where(ReturnsFile.sha256 == sha256))
    if seen is not None:
        return ReturnsOutcome(seen, duplicate=True)
    try:
        lines = parse_returns(text)
    except FormatError as exc:
        return ReturnsOutcome(None, error=f"{exc.code} at line {exc.line}")
    settled = returned = held = 0
    rejected: list[dict[str, object]] = []
    for line in lines:
        try:
            with session.begin_nested():
                code = _apply(session, line, at)
        except Exception as exc:  # the owner could not hear it: hold the line, never lose it
            hold = ReturnHold(file_name=name[:200], file_sha256=sha256, line_no=line.line,
                              reference=line.reference, settled=line.settled, amount=line.amount,
                              detail=line.detail[:40], state=ReturnHoldState.RETRYING, attempts=1,
                              last_error=type(exc).__name__[:120], next_attempt_at=_next_attempt(at, 1))
            session.add(hold)
            _hold_changed(session, hold)
            held += 1
            continue
        if code is not None:
            rejected.append({"line": line.line, "code": code})
        elif line.settled:
            settled += 1
        else:
            returned += 1
    row = ReturnsFile(name=name[:200], sha256=sha256, settled=settled, returned=returned, rejected=rejected)
    session.add(row)
    session.flush()
    return ReturnsOutcome(row, held=held)


def _hold_changed(session: Session, hold: ReturnHold) -> None:
    session.flush()
    append(session, PaymentReturnHoldChanged(hold_id=hold.id, reference=hold.reference, state=hold.state.value,
                                             attempts=hold.attempts, error=hold.last_error),
           aggregate=Aggregate("PaymentReturnHold", hold.id), actor=Actor.system("payments"))


#: Attempts at a held returns line (the first at import included) before it is dead-lettered.
MAX_RETURN_ATTEMPTS = 5


def _next_attempt(at: dt.datetime, attempts: int) -> dt.datetime:
    """Backoff: 2, 4, 8, 16 minutes after attempts 1-4."""
    return at + dt.timedelta(minutes=2 ** attempts)


@dataclass(frozen=True)
class RetryOutcome:
    """What a retry round of held returns lines did."""

    applied: int
    retrying: int
    dead_lettered: int


def retry_held_return(session: Session, hold: ReturnHold, at: dt.datetime) -> ReturnHoldState:
    """Apply one held line again (in a savepoint); on failure count the attempt, dead-letter after the last."""
    line = ReturnLine(line=hold.line_no, reference=hold.reference, settled=hold.settled, amount=hold.amount,
                      detail=hold.detail)
    try:
        with session.begin_nested():
            code = _apply(session, line, at)
    except Exception as exc:  # still failing
        hold.attempts += 1
        hold.last_error = type(exc).__name__[:120]
        if hold.attempts >= MAX_RETURN_ATTEMPTS:
            hold.state, hold.next_attempt_at = ReturnHoldState.DEAD_LETTER, None
            log.error("returns line dead-lettered", extra={"hold": hold.id, "reference": hold.reference})
        else:
            hold.next_attempt_at = _next_attempt(at, hold.attempts)
        _hold_changed(session, hold)
        return hold.state
    hold.state, hold.applied_at, hold.next_attempt_at = ReturnHoldState.APPLIED, at, None
    hold.last_error = code or hold.last_error  # a line the rail itself refuses now is done: its code is kept
    _hold_changed(session, hold)
    return hold.state


def retry_held_returns(session: Session, *, at: dt.datetime, limit: int = 500) -> RetryOutcome:
    """Retry every held line whose next attempt is due (oldest first)."""
    due = session.scalars(select(ReturnHold).where(ReturnHold.state == ReturnHoldState.RETRYING,
                                                   ReturnHold.next_attempt_at <= at)
                          .order_by(ReturnHold.id).limit(limit).with_for_update(skip_locked=True)).all()
    counts = {state: 0 for state in ReturnHoldState}
    for hold in due:
        counts[retry_held_return(session, hold, at)] += 1
    return RetryOutcome(counts[ReturnHoldState.APPLIED], counts[ReturnHoldState.RETRYING],
                        counts[ReturnHoldState.DEAD_LETTER])


def requeue_hold(session: Session, *, hold_id: int, at: dt.datetime) -> ReturnHold:
    """Send a dead-lettered line back to retrying (after its owner's fault is fixed), attempts from zero."""
    hold = session.get(ReturnHold, hold_id, with_for_update=True)
    if hold is None:
        raise NotFoundError("held returns line not found", field="holdId")
    if hold.state is not ReturnHoldState.DEAD_LETTER:
        raise InvalidTransitionError(f"a {hold.state.value} line is not dead-lettered", field="holdId")
    hold.state, hold.attempts, hold.next_attempt_at = ReturnHoldState.RETRYING, 0, at
    _hold_changed(session, hold)
    return hold


def count_holds(session: Session, *, state: ReturnHoldState | None = None) -> int:
    """How many held lines :func:`list_holds` would page through."""
    stmt = select(func.count()).select_from(ReturnHold)
    if state is not None:
        stmt = stmt.where(ReturnHold.state == state)
    return int(session.scalar(stmt) or 0)


def list_holds(session: Session, *, page: PageRequest, state: ReturnHoldState | None = None) -> Page[ReturnHold]:
    """A keyset page of held returns lines (of ``state``), oldest first (readers: ``PAYMENT_READERS``)."""
    stmt = select(ReturnHold)
    if state is not None:
        stmt = stmt.where(ReturnHold.state == state)
    return keyset_page(session, stmt, ReturnHold.id, request=page)


# --- reads -----------------------------------------------------------------------------------


def _instructions(state: InstructionState | None, purpose: Purpose | None) -> Select[Any]:
    stmt = select(PaymentInstruction)
    if state is not None:
        stmt = stmt.where(PaymentInstruction.state == state)
    if purpose is not None:
        stmt = stmt.where(PaymentInstruction.purpose == purpose)
    return stmt


def list_instructions(session: Session, *, page: PageRequest, state: InstructionState | None = None,
                      purpose: Purpose | None = None) -> Page[PaymentInstruction]:
    """A keyset page of instructions, oldest first (readers: ``PAYMENT_READERS``, every row)."""
    return keyset_page(session, _instructions(state, purpose), PaymentInstruction.id, request=page)


def count_instructions(session: Session, *, state: InstructionState | None = None,
                       purpose: Purpose | None = None) -> int:
    """How many instructions :func:`list_instructions` would page through."""
    stmt = _instructions(state, purpose).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(stmt)) or 0)


def get_account(session: Session, *, principal: Principal, account_id: int) -> PayeeAccount:
    """One payee account ``principal`` may see (NOT_FOUND otherwise)."""
    row = session.scalar(select(PayeeAccount).where(PayeeAccount.id == account_id, account_visible(principal)))
    if row is None:
        raise NotFoundError("payee account not found", field="id")
    return row


def accounts_by_id(session: Session, ids: Sequence[int]) -> dict[int, PayeeAccount]:
    """Payee accounts by id, one query (for a page of instructions)."""
    return {a.id: a for a in session.scalars(select(PayeeAccount).where(PayeeAccount.id.in_(set(ids))))}


def batches_by_id(session: Session, ids: Sequence[int]) -> dict[int, PaymentBatch]:
    """Batches by id, one query."""
    return {b.id: b for b in session.scalars(select(PaymentBatch).where(PaymentBatch.id.in_(set(ids))))}


def list_accounts(session: Session, *, principal: Principal, payee: Payee, page: PageRequest) -> Page[PayeeAccount]:
    """A keyset page of ``payee``'s accounts ``principal`` may see, newest first."""
    stmt = select(PayeeAccount).where(PayeeAccount.owner_kind == payee.kind, PayeeAccount.owner_id == payee.id,
                                      account_visible(principal))
    return keyset_page(session, stmt, [KeyColumn(PayeeAccount.id, descending=True)], request=page)
