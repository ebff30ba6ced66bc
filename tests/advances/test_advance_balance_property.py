"""The balance invariant holds after every step of any sequence of advance operations:
advanced = repaid + offset + outstanding + written off, and each equals the sum of its applied movements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.clock import business_today
from core.db import transaction
from core.errors import DomainError
from resolvers.advances import service
from resolvers.advances.models import Advance, AdvanceState, Movement, MovementKind, MovementState
from resolvers.payments.models import PaymentInstruction
from tests.advance_factories import OFFICER, apply, balanced, credit_report
from tests.claim_factories import make_approved_claim, make_claim_policy
from tests.payment_factories import bank_round

TODAY = business_today()
NOW = dt.datetime.now(dt.UTC)
cents = st.integers(min_value=1, max_value=400_000).map(lambda c: Decimal(c) / 100)
OPS = st.lists(st.one_of(
    st.tuples(st.just("transfer"), cents),
    st.tuples(st.just("debit"), cents),
    st.tuples(st.just("bank"), st.booleans()),  # the bank answers pending debits: settled, or returned
    st.tuples(st.just("offset"), cents),
    st.tuples(st.just("days"), st.integers(min_value=1, max_value=70)),  # time passes; the overdue job runs
), min_size=1, max_size=12)


def _check(session: Any, advance_id: int) -> None:
    advance = session.get_one(Advance, advance_id, populate_existing=True)
    assert balanced(advance), (advance.advanced, advance.repaid, advance.offset_amount, advance.outstanding,
                               advance.written_off)
    assert advance.outstanding >= 0
    applied = {k: Decimal(0) for k in MovementKind}
    for m in session.scalars(select(Movement).where(Movement.advance_id == advance_id)):
        if m.state is MovementState.APPLIED:
            applied[m.kind] += m.amount
    assert (applied[MovementKind.REPAYMENT], applied[MovementKind.OFFSET], applied[MovementKind.WRITE_OFF]) == (
        advance.repaid, advance.offset_amount, advance.written_off)
    pending = sum((m.amount for m in session.scalars(select(Movement).where(
        Movement.advance_id == advance_id, Movement.kind == MovementKind.REPAYMENT,
        Movement.state == MovementState.INSTRUCTED))), Decimal(0))
    if advance.state is AdvanceState.CLOSED:
        assert advance.outstanding == 0
    if advance.state is AdvanceState.DEFAULTED:  # only what debits still with the bank may yet bring in
        assert advance.outstanding == pending


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=100, max_value=20_000).map(Decimal), ops=OPS)
def test_the_balance_holds_after_every_operation(session_factory: Any, amount: Decimal,
                                                 ops: list[tuple[str, Any]]) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        report = credit_report(s, policy, band=5, issued_on=TODAY, now=NOW)
        advance = apply(s, policy, today=TODAY, now=NOW, amount=amount, report=report)
        bank_round(s, at=NOW)  # paid: its payout settled
        claim_id = make_approved_claim(s, policy=policy).id
        advance_id = advance.id
    day = TODAY
    for n, (op, arg) in enumerate(ops):
        try:
            with transaction(session_factory) as s:
                if op in ("transfer", "debit"):
                    channel = service.RepaymentChannel.TRANSFER if op == "transfer" else \
                        service.RepaymentChannel.DIRECT_DEBIT
                    service.record_repayment(s, principal=OFFICER, advance_id=advance_id, amount=arg,
                                             idempotency_key=f"prop-{advance_id}-{n}", channel=channel, today=day)
                elif op == "bank":
                    pending = s.scalars(select(PaymentInstruction.reference).where(
                        PaymentInstruction.state == "instructed")).all()
                    bank_round(s, at=NOW, returned={} if arg else dict.fromkeys(pending, "AM04"))
                elif op == "offset":
                    service.offset_for_claim(s, principal=OFFICER, claim_id=claim_id, policy_id=policy.id,
                                             payable=arg, key=f"prop-offset-{advance_id}-{n}", today=day)
                else:
                    day += dt.timedelta(days=arg)
                    service.mark_overdue(s, today=day, grace_days=30)
        except DomainError as exc:  # refused: nothing changed (checked below like every other step)
            assert exc.code in {"REPAYMENT_EXCEEDS_BALANCE", "INVALID_TRANSITION"}, exc
        with session_factory() as s:
            _check(s, advance_id)
