"""The payment rail: batch files out, returns files in, claims PAID only when settled, never paid twice."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from core.db import transaction
from core.errors import ConflictError, DomainErrors, ForbiddenError
from core.event_stream.outbox import DomainEventRow
from resolvers.claims import payments
from resolvers.claims.models import Claim, ClaimState, Payment
from resolvers.payments import jobs, service
from resolvers.payments.adapter import FileRailAdapter
from resolvers.payments.bankfile import FormatError, parse_returns
from resolvers.payments.models import InstructionState, PayeeAccount, PaymentInstruction, Purpose, ReturnsFile
from resolvers.payments.service import Payee, PayeeKind
from tests.claim_factories import ADJUSTER, customer_principal, make_approved_claim
from tests.claims.test_claims_payments import _at_once
from tests.payment_factories import OPERATOR, add_account, bank_round, returns_text

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)


def _approved(session_factory: Any) -> int:
    with transaction(session_factory) as s:
        return make_approved_claim(s).id


def _pay(session_factory: Any, claim_id: int, key: str) -> Payment:
    with transaction(session_factory) as s:
        return payments.pay_claim(s, principal=ADJUSTER, claim_id=claim_id, idempotency_key=key, now=NOW)


def _claim(session_factory: Any, claim_id: int) -> tuple[ClaimState, Decimal, list[str]]:
    with session_factory() as s:
        claim = s.get_one(Claim, claim_id)
        statuses = list(s.scalars(select(Payment.status).where(Payment.claim_id == claim_id).order_by(Payment.seq)))
        return claim.state, claim.paid_amount, statuses


def _attempts(session_factory: Any, payment_id: int) -> list[tuple[int, str]]:
    with session_factory() as s:
        return [(r.attempt, r.state.value) for r in service.instructions_of(s, Purpose.CLAIM_PAYOUT, payment_id)]


def test_a_claim_is_paid_only_when_the_bank_settles_its_batch_file(session_factory: Any, data_dir: Path) -> None:
    claim_id = _approved(session_factory)
    payment = _pay(session_factory, claim_id, "rail-pay-0001")
    assert _claim(session_factory, claim_id) == (ClaimState.APPROVED, Decimal(0), ["instructed"])
    adapter = FileRailAdapter(data_dir / "payments")
    assert jobs.export_batches(session_factory, NOW, adapter) == 1
    assert jobs.export_batches(session_factory, NOW, adapter) == 0  # nothing new: no second batch
    (batch_file,) = sorted((data_dir / "payments" / "outbox").glob("*.txt"))
    assert batch_file.stat().st_mode & 0o777 == 0o600
    header, line, trailer = batch_file.read_text().splitlines()
    assert header.startswith(f"H|OPSURE|{batch_file.stem}|")
    with session_factory() as s:
        (instruction,) = service.instructions_of(s, Purpose.CLAIM_PAYOUT, payment.id)
        account = s.get_one(PayeeAccount, instruction.payee_account_id)
        assert line == f"D|{instruction.reference}|CREDIT|6750.00|ICBC|{account.account_number}|张三"
    assert trailer == "T|1|6750.00"
    adapter.drop_returns("R0001.txt", returns_text([instruction]))
    summary = jobs.import_returns(session_factory, NOW, adapter)
    assert (summary.files, summary.settled, summary.returned, summary.rejected_lines) == (1, 1, 0, 0)
    assert _claim(session_factory, claim_id) == (ClaimState.PAID, Decimal("6750.00"), ["settled"])
    assert (data_dir / "payments" / "returns" / "processed" / "R0001.txt").exists()
    adapter.drop_returns("R0001-again.txt", returns_text([instruction]))  # the bank sends the same file twice
    assert jobs.import_returns(session_factory, NOW, adapter).settled == 0
    assert _claim(session_factory, claim_id) == (ClaimState.PAID, Decimal("6750.00"), ["settled"])


def test_a_returned_payout_is_reinstructed_once_to_the_new_account(session_factory: Any) -> None:
    claim_id = _approved(session_factory)
    payment = _pay(session_factory, claim_id, "rail-pay-0002")
    with transaction(session_factory) as s:
        (row,) = bank_round(s, at=NOW, returned={s.scalars(select(PaymentInstruction.reference)).one(): "AC04"})
        assert row.state is InstructionState.FAILED and row.return_code == "AC04"
    assert _claim(session_factory, claim_id) == (ClaimState.APPROVED, Decimal(0), ["failed"])
    with transaction(session_factory) as s:
        customer_id = s.get_one(Claim, claim_id).customer_id
        new_account = add_account(s, customer_id=customer_id)
    again = _pay(session_factory, claim_id, "rail-pay-0003")  # paying again re-instructs the one payment
    assert again.id == payment.id
    assert _pay(session_factory, claim_id, "rail-pay-0003").id == payment.id  # a retry: the same answer
    with pytest.raises(ConflictError) as err:
        _pay(session_factory, claim_id, "rail-pay-0004")
    assert err.value.code == "ALREADY_PAID"  # the new attempt is on its way
    assert _attempts(session_factory, payment.id) == [(1, "failed"), (2, "instructed")]
    with transaction(session_factory) as s:
        (row,) = bank_round(s, at=NOW)
        assert row.payee_account_id == new_account.id
    assert _claim(session_factory, claim_id) == (ClaimState.PAID, Decimal("6750.00"), ["settled"])


def test_concurrent_reinstructions_of_a_returned_payout_make_one_attempt(session_factory: Any) -> None:
    claim_id = _approved(session_factory)
    payment = _pay(session_factory, claim_id, "rail-pay-0005")
    with transaction(session_factory) as s:
        (failed,) = bank_round(s, at=NOW, returned={s.scalars(select(PaymentInstruction.reference)).one(): "AM04"})
        failed_id = failed.id

    def reinstruct(key: str) -> PaymentInstruction:
        with transaction(session_factory) as s:
            return service.reinstruct(s, principal=OPERATOR, instruction_id=failed_id, idempotency_key=key, now=NOW)

    keys = [f"again-{i:04d}" for i in range(6)] + ["again-same"] * 6
    results = _at_once([partial(reinstruct, k) for k in keys])
    made = {r.id for r in results if isinstance(r, PaymentInstruction)}
    codes = {getattr(r, "code", repr(r)) for r in results if not isinstance(r, PaymentInstruction)}
    assert len(made) == 1 and codes <= {"ALREADY_INSTRUCTED"}, results
    assert _attempts(session_factory, payment.id) == [(1, "failed"), (2, "instructed")]
    assert _claim(session_factory, claim_id) == (ClaimState.APPROVED, Decimal(0), ["instructed"])


def test_returns_lines_that_do_not_match_are_rejected_by_code_and_a_bad_file_as_a_whole(
        session_factory: Any, data_dir: Path) -> None:
    claim_id = _approved(session_factory)
    _pay(session_factory, claim_id, "rail-pay-0006")
    adapter = FileRailAdapter(data_dir / "payments")
    with transaction(session_factory) as s:
        (row,) = bank_round(s, at=NOW, settle=False)
        ref = row.reference
    adapter.drop_returns("bad.txt", "H|BANK|R9|2026-11-27\nR|only-three|fields\nT|1\n")
    adapter.drop_returns("wrong-amount.txt", returns_text([row]).replace("6750.00", "6750.01"))
    summary = jobs.import_returns(session_factory, NOW, adapter)
    assert (summary.refused_files, summary.files, summary.settled, summary.rejected_lines) == (1, 1, 0, 1)
    assert (data_dir / "payments" / "returns" / "rejected" / "bad.txt").exists()
    assert _claim(session_factory, claim_id) == (ClaimState.APPROVED, Decimal(0), ["instructed"])
    with session_factory() as s:
        (file_row,) = s.scalars(select(ReturnsFile)).all()
        assert file_row.rejected == [{"line": 2, "code": "AMOUNT_MISMATCH"}] and ref not in str(file_row.rejected)


def test_the_account_number_is_sealed_at_rest_and_never_in_events(session_factory: Any, engine: Any) -> None:
    claim_id = _approved(session_factory)
    _pay(session_factory, claim_id, "rail-pay-0007")
    with transaction(session_factory) as s:
        bank_round(s, at=NOW)
        account = s.scalars(select(PayeeAccount)).first()
        assert account is not None
        number = account.account_number
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT account_number, holder_name FROM payee_account")).all()
        events = " ".join(conn.execute(text("SELECT payload FROM domain_event")).scalars())
    assert all(number not in r[0] and "张三" not in r[1] for r in raw)
    assert number not in events and number[-4:] not in events
    assert "payment.settled" in {e for e in _event_types(engine)}


def _event_types(engine: Any) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(DomainEventRow.type)).scalars())


def test_accounts_are_registered_by_their_holder_or_staff_with_every_error_at_once(session_factory: Any) -> None:
    with transaction(session_factory) as s, pytest.raises(DomainErrors) as err:
        service.register_account(s, principal=OPERATOR, payee=Payee(PayeeKind.CUSTOMER, 1), bank_code="icbc",
                                 account_number="12", holder_name="a|b")
    assert {e.code for e in err.value.errors} == {"BAD_BANK_CODE", "BAD_ACCOUNT_NUMBER", "BAD_HOLDER_NAME"}
    with transaction(session_factory) as s, pytest.raises(ForbiddenError):
        service.register_account(s, principal=customer_principal(7), payee=Payee(PayeeKind.CUSTOMER, 8),
                                 bank_code="ICBC", account_number="6222000011112222", holder_name="李四")


def test_returns_format_is_checked_line_by_line() -> None:
    ok = "H|BANK|R1|2026-11-27\nR|PIABC123|SETTLED|10.00|TX1\nR|PIABC124|RETURNED|5.50|AC01\nT|2\n"
    lines = parse_returns(ok)
    assert [(x.reference, x.settled, x.amount, x.detail) for x in lines] == [
        ("PIABC123", True, Decimal("10.00"), "TX1"), ("PIABC124", False, Decimal("5.50"), "AC01")]
    for bad, line in [(ok.replace("T|2", "T|3"), 4), (ok.replace("AC01", "whatever"), 3),
                      (ok.replace("10.00", "-1"), 2), (ok.replace("H|BANK", "H|ACME"), 1)]:
        with pytest.raises(FormatError) as err:
            parse_returns(bad)
        assert err.value.line == line
    digest = hashlib.sha256(ok.encode()).hexdigest()
    assert len(digest) == 64
