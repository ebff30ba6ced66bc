"""Premium refunds through the rail: a policy cancelled in its cooling-off period or surrendered owes its
customer the refund the policies domain computed; the payments.refunds consumer instructs it once (a
redelivered event, a second round, change nothing), waits for an account when none is on file, and the
bank's settlement or return reaches the refund; a lapse owes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.db import transaction
from core.event_stream.consumers import drain, replay
from resolvers.payments import jobs, service
from resolvers.payments.adapter import FileRailAdapter
from resolvers.payments.models import InstructionState, PaymentInstruction, Purpose
from resolvers.payments.refunds import REFUND_CONSUMER, RefundState, instruct_waiting, refund_of
from resolvers.policies import service as policies
from tests.factories import ADMIN, make_policy
from tests.payment_factories import add_account, returns_text

TODAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)


def _refund_instructions(session_factory: Any) -> list[PaymentInstruction]:
    with session_factory() as s:
        return list(s.scalars(select(PaymentInstruction).where(PaymentInstruction.purpose == Purpose.REFUND)
                              .order_by(PaymentInstruction.id)))


def test_a_cooling_off_cancellation_refunds_the_premium_once_through_the_rail(
        session_factory: Any, data_dir: Path) -> None:
    with transaction(session_factory) as s:
        policy = make_policy(s, today=TODAY)
        add_account(s, customer_id=policy.customer_id)
        policies.cancel_in_cooling_off(s, principal=ADMIN, policy_id=policy.id, expected_version=None, today=TODAY)
        policy_id, premium = policy.id, policy.premium
    drain(session_factory, REFUND_CONSUMER)
    drain(session_factory, REFUND_CONSUMER)  # nothing new
    with transaction(session_factory) as s:  # the event delivered again (a replay) pays nothing twice
        replay(s, REFUND_CONSUMER.name, from_id=0)
    drain(session_factory, REFUND_CONSUMER)
    (instruction,) = _refund_instructions(session_factory)
    assert (instruction.amount, instruction.state, instruction.direction.value) == (premium, InstructionState.INSTRUCTED,
                                                                                    "credit")
    with session_factory() as s:
        refund = refund_of(s, policy_id)
        assert refund is not None and (refund.state, refund.amount, refund.reason) == (
            RefundState.INSTRUCTED, premium, "cooling_off_cancellation")
    adapter = FileRailAdapter(data_dir / "payments")
    assert jobs.export_batches(session_factory, NOW, adapter) == 1
    adapter.drop_returns("R-refund.txt", returns_text([instruction]))
    assert jobs.import_returns(session_factory, NOW, adapter).settled == 1
    with session_factory() as s:
        refund = refund_of(s, policy_id)
        assert refund is not None and refund.state is RefundState.SETTLED and refund.settled_at == NOW


def test_a_refund_waits_for_an_account_and_a_returned_one_is_reinstructed(
        session_factory: Any, data_dir: Path) -> None:
    with transaction(session_factory) as s:
        policy = make_policy(s, today=TODAY)
        policies.surrender_policy(s, principal=ADMIN, policy_id=policy.id, expected_version=None,
                                  today=TODAY + dt.timedelta(days=40), reason="moving abroad")
        lapsed = make_policy(s, today=TODAY)
        policies.lapse_policy(s, principal=ADMIN, policy_id=lapsed.id, expected_version=None,
                              today=TODAY + dt.timedelta(days=40), reason="premium unpaid")
        policy_id, customer_id = policy.id, policy.customer_id
    drain(session_factory, REFUND_CONSUMER)
    with session_factory() as s:
        refund = refund_of(s, policy_id)
        assert refund is not None and refund.state is RefundState.AWAITING_ACCOUNT and refund.reason == "surrender"
        assert Decimal(0) < refund.amount < policy.premium
        assert refund_of(s, lapsed.id) is None  # a lapse owes nothing
    assert _refund_instructions(session_factory) == []
    assert instruct_waiting(session_factory, NOW) == 0  # still no account
    with transaction(session_factory) as s:
        add_account(s, customer_id=customer_id)
    assert instruct_waiting(session_factory, NOW) == 1
    assert instruct_waiting(session_factory, NOW) == 0
    (first,) = _refund_instructions(session_factory)
    adapter = FileRailAdapter(data_dir / "payments")
    jobs.export_batches(session_factory, NOW, adapter)
    adapter.drop_returns("R-refund-ret.txt", returns_text([first], returned={first.reference: "AC04"}))
    assert jobs.import_returns(session_factory, NOW, adapter).returned == 1
    with session_factory() as s:
        assert refund_of(s, policy_id).state is RefundState.FAILED  # type: ignore[union-attr]
    with transaction(session_factory) as s:
        add_account(s, customer_id=customer_id)  # the new account
        again = service.reinstruct(s, principal=ADMIN, instruction_id=first.id, idempotency_key="refund-retry-0001",
                                   now=NOW)
        assert again.attempt == 2
    with session_factory() as s:
        assert refund_of(s, policy_id).state is RefundState.INSTRUCTED  # type: ignore[union-attr]
