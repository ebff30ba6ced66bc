"""A returns line whose owner's handler fails is held, not retried forever inside its file: the rest of the
file applies; the line is retried with backoff and dead-lettered after the last attempt, visible to finance
(GraphQL, CLI) and requeued once the fault is fixed; nothing is lost or applied twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.audit import current_audit_key, install_audit_key
from core.auth import Role
from core.crypto import current_field_keys, install_field_keys, write_keyring
from core.db import transaction
from core.event_stream.outbox import read_events
from core.settings import Settings, override_settings
from ledger.commitments import current_tenant_key, install_tenant_key
from opsure.cli import main
from resolvers.claims import payments
from resolvers.claims.models import Claim, ClaimState
from resolvers.payments import jobs, service
from resolvers.payments.adapter import FileRailAdapter
from resolvers.payments.models import PaymentInstruction, Purpose, ReturnHold, ReturnHoldState
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, make_approved_claim
from tests.payment_factories import returns_text

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
HELD = """query($s: PaymentReturnHoldState) { paymentReturnHolds(state: $s) { totalCount edges { node {
  id state attempts lastError reference settled amount fileName lineNo nextAttemptAt } } } }"""
REQUEUE = """mutation($id: ID!) { requeuePaymentReturnHold(input: {holdId: $id}) {
  hold { state attempts } errors { code } } }"""


class Flaky:
    """The claims handler, failing while ``broken`` (a bug, a lock timeout, a missing row...)."""

    def __init__(self, real: Any) -> None:
        self.real, self.broken, self.calls = real, True, 0

    def __call__(self, session: Any, row: Any, at: dt.datetime) -> None:
        self.calls += 1
        if self.broken:
            raise RuntimeError("owner unavailable")
        self.real(session, row, at)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Flaky:
    handler = Flaky(service._HANDLERS[Purpose.CLAIM_PAYOUT])
    monkeypatch.setitem(service._HANDLERS, Purpose.CLAIM_PAYOUT, handler)
    return handler


def _two_paid_claims(session_factory: Any, data_dir: Path) -> tuple[list[int], list[PaymentInstruction]]:
    ids = []
    with transaction(session_factory) as s:
        for n in range(2):
            claim = make_approved_claim(s)
            payments.pay_claim(s, principal=ADJUSTER, claim_id=claim.id, idempotency_key=f"hold-pay-{n:04d}", now=NOW)
            ids.append(claim.id)
    assert jobs.export_batches(session_factory, NOW, FileRailAdapter(data_dir / "payments")) == 2
    with session_factory() as s:
        rows = list(s.scalars(select(PaymentInstruction).order_by(PaymentInstruction.id)))
    return ids, rows


def _states(session_factory: Any, ids: list[int]) -> list[ClaimState]:
    with session_factory() as s:
        return [s.get_one(Claim, i).state for i in ids]


def test_a_failing_line_is_held_retried_dead_lettered_requeued_and_applied_once(
        session_factory: Any, data_dir: Path, flaky: Flaky, gql: Any) -> None:
    ids, rows = _two_paid_claims(session_factory, data_dir)
    adapter = FileRailAdapter(data_dir / "payments")
    adapter.drop_returns("R0001.txt", returns_text(rows))
    flaky.broken = False  # the first line's owner hears it ...
    real = flaky.__call__

    def first_only(session: Any, row: PaymentInstruction, at: dt.datetime) -> None:
        flaky.broken = row.id != rows[0].id  # ... the second's fails
        real(session, row, at)
    service._HANDLERS[Purpose.CLAIM_PAYOUT] = first_only  # type: ignore[assignment]
    summary = jobs.import_returns(session_factory, NOW, adapter)
    assert (summary.files, summary.settled, summary.held_lines, summary.refused_files) == (1, 1, 1, 0)
    assert (data_dir / "payments" / "returns" / "processed" / "R0001.txt").exists()  # never read again
    assert _states(session_factory, ids) == [ClaimState.PAID, ClaimState.APPROVED]
    service._HANDLERS[Purpose.CLAIM_PAYOUT] = flaky  # type: ignore[assignment]
    flaky.broken = True

    # retried with backoff: not before its next attempt; dead-lettered after the last
    at, calls = NOW, flaky.calls
    assert jobs.retry_held(session_factory, at).applied == 0 and flaky.calls == calls  # not due yet
    for attempt in range(2, service.MAX_RETURN_ATTEMPTS + 1):
        at += dt.timedelta(minutes=2 ** (attempt - 1))
        outcome = jobs.retry_held(session_factory, at)
        assert (outcome.applied, outcome.dead_lettered) == (0, int(attempt == service.MAX_RETURN_ATTEMPTS))
    with session_factory() as s:
        (hold,) = s.scalars(select(ReturnHold))
        assert (hold.state, hold.attempts, hold.last_error, hold.reference, hold.amount) == (
            ReturnHoldState.DEAD_LETTER, service.MAX_RETURN_ATTEMPTS, "RuntimeError", rows[1].reference,
            rows[1].amount)
    assert jobs.retry_held(session_factory, at + dt.timedelta(days=1)).applied == 0  # dead letters wait for people

    # finance sees it; adjusters requeue (once the fault is fixed) and the next round applies it once
    finance = gql(Role.MANAGER)
    seen = finance(HELD, {"s": "DEAD_LETTER"})["paymentReturnHolds"]
    node = seen["edges"][0]["node"]
    assert seen["totalCount"] == 1 and (node["state"], node["attempts"], node["lastError"], node["settled"]) == (
        "DEAD_LETTER", service.MAX_RETURN_ATTEMPTS, "RuntimeError", True)
    assert node["reference"] == rows[1].reference and Decimal(node["amount"]) == rows[1].amount
    assert gql(Role.CUSTOMER, customer_id=1).post(HELD, {"s": None}).json()["errors"][0]["extensions"]["code"] \
        == "FORBIDDEN"
    flaky.broken = False
    requeued = finance(REQUEUE, {"id": node["id"]})["requeuePaymentReturnHold"]
    assert requeued == {"hold": {"state": "RETRYING", "attempts": 0}, "errors": []}
    again = finance(REQUEUE, {"id": node["id"]})["requeuePaymentReturnHold"]
    assert again == {"hold": None, "errors": [{"code": "INVALID_TRANSITION"}]}
    with session_factory() as s:
        due = s.scalars(select(ReturnHold)).one().next_attempt_at
    assert jobs.retry_held(session_factory, max(at, due) + dt.timedelta(seconds=1)).applied == 1
    assert _states(session_factory, ids) == [ClaimState.PAID, ClaimState.PAID]
    assert jobs.retry_held(session_factory, at + dt.timedelta(days=2)).applied == 0  # applied once
    assert finance(HELD, {"s": "APPLIED"})["paymentReturnHolds"]["totalCount"] == 1
    with session_factory() as s:  # every change of the held line is an event (codes, never the error's text)
        changes = [(e.payload.state, e.payload.attempts) for e in read_events(s, after=0, limit=10_000)
                   if e.type == "payment.return_hold_changed"]
    assert changes == [("retrying", n) for n in range(1, service.MAX_RETURN_ATTEMPTS)] + [
        ("dead_letter", service.MAX_RETURN_ATTEMPTS), ("retrying", 0), ("applied", 0)]


def test_the_cli_lists_held_lines_and_requeues_a_dead_letter(
        settings: Settings, session_factory: Any, data_dir: Path, flaky: Flaky) -> None:
    ids, rows = _two_paid_claims(session_factory, data_dir)
    FileRailAdapter(data_dir / "payments").drop_returns("R0002.txt", returns_text(rows))
    saved = current_field_keys(), current_audit_key(), current_tenant_key()
    write_keyring(settings.keys_dir, saved[0])
    override_settings(settings)
    try:
        imported = CliRunner().invoke(main, ["payments", "import"])
        assert imported.exit_code == 0, imported.output
        assert "2 line(s) held for retry" in imported.output
        with transaction(session_factory) as s:
            for hold in s.scalars(select(ReturnHold)):
                hold.state, hold.attempts = ReturnHoldState.DEAD_LETTER, service.MAX_RETURN_ATTEMPTS
            first = s.scalars(select(ReturnHold).order_by(ReturnHold.id)).first()
            assert first is not None
            hold_id = first.id
        listed = CliRunner().invoke(main, ["payments", "held", "--state", "dead_letter"])
        assert listed.exit_code == 0, listed.output
        assert listed.output.count("dead_letter") == 2 and rows[0].reference in listed.output
        flaky.broken = False
        requeued = CliRunner().invoke(main, ["payments", "requeue", str(hold_id)])
        assert requeued.exit_code == 0 and "retrying" in requeued.output, requeued.output
        assert CliRunner().invoke(main, ["payments", "requeue", str(hold_id)]).exit_code != 0
        retried = CliRunner().invoke(main, ["payments", "retry"])
        assert retried.exit_code == 0 and retried.output.startswith("1 applied"), retried.output
    finally:
        override_settings(None)
        install_field_keys(saved[0])
        install_audit_key(saved[1])
        install_tenant_key(saved[2])
    assert _states(session_factory, ids) == [ClaimState.PAID, ClaimState.APPROVED]
    assert encode_global_id("PaymentReturnHold", hold_id)
