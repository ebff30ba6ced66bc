"""Payments pay once and answer retries truthfully: idempotency keys, repeated and concurrent requests.

The concurrent tests run threads against the test database, SQLite (writers serialise on
BEGIN IMMEDIATE) or PostgreSQL (row lock, unique indexes); every one runs on both.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import business_today
from core.db import transaction
from core.errors import ConflictError, DomainError, InvalidTransitionError, StaleVersionError
from resolvers.claims import payments, service
from resolvers.claims.models import Claim, ClaimState, Payment
from tests.claim_factories import ADJUSTER, add_invoice, make_approved_claim, make_claim_policy, report
from tests.payment_factories import bank_round

NOW = dt.datetime.now(dt.UTC)
RETRIES = 40  # identical requests sent at once (the report saw 5-7 of 30-50 answered ALREADY_PAID)


def _approved(session_factory: Any, count: int = 1) -> list[int]:
    with transaction(session_factory) as s:
        return [make_approved_claim(s).id for _ in range(count)]


def _pay(session_factory: Any, claim_id: int, key: str) -> Payment:
    with transaction(session_factory) as s:
        return payments.pay_claim(s, principal=ADJUSTER, claim_id=claim_id, idempotency_key=key, now=NOW)


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` on threads released together; each result is its return value or its DomainError."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except DomainError as exc:
            results[i] = exc
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _outcome(result: Any) -> str:
    if isinstance(result, Payment):
        return f"payment:{result.id}"
    return getattr(result, "code", repr(result))


def _paid(session_factory: Any, claim_id: int) -> tuple[ClaimState, Decimal, int]:
    with transaction(session_factory) as s:
        bank_round(s, at=NOW)  # the bank settles what was instructed: the claim is PAID only then
        claim = s.get_one(Claim, claim_id)
        count = s.scalar(select(func.count(Payment.id)).where(Payment.claim_id == claim_id))
        return claim.state, claim.paid_amount, int(count or 0)


def test_idempotent_key_and_second_payment_refused(session_factory: Any) -> None:
    (claim_id,) = _approved(session_factory)
    p1 = _pay(session_factory, claim_id, "pay-key-0001")
    assert p1.amount == Decimal("6750.00")  # (8000 - 500) * 0.9
    assert _pay(session_factory, claim_id, "pay-key-0001").id == p1.id
    with pytest.raises(ConflictError) as err:
        _pay(session_factory, claim_id, "pay-key-0002")
    assert err.value.code == "ALREADY_PAID"
    with pytest.raises(InvalidTransitionError), transaction(session_factory) as s:
        service.transition_claim(s, principal=ADJUSTER, claim_id=claim_id, to=ClaimState.UNDER_REVIEW,
                                 reason="try", expected_version=None, now=NOW)
    with session_factory() as s:
        assert s.scalar(select(func.count(Payment.id))) == 1


def test_a_key_that_paid_one_claim_is_refused_for_another(session_factory: Any) -> None:
    first, second = _approved(session_factory, 2)
    _pay(session_factory, first, "shared-key-01")
    with pytest.raises(ConflictError) as err:
        _pay(session_factory, second, "shared-key-01")
    assert err.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert _paid(session_factory, second) == (ClaimState.APPROVED, Decimal(0), 0)
    assert _pay(session_factory, second, "fresh-key-02").amount == Decimal("6750.00")


def test_parallel_payouts_with_different_keys_pay_once(session_factory: Any) -> None:
    (claim_id,) = _approved(session_factory)
    results = _at_once([partial(_pay, session_factory, claim_id, f"parallel-{i:04d}") for i in range(8)])
    outcomes = Counter("paid" if isinstance(r, Payment) else _outcome(r) for r in results)
    assert outcomes == {"paid": 1, "ALREADY_PAID": 7}, results
    assert _paid(session_factory, claim_id) == (ClaimState.PAID, Decimal("6750.00"), 1)


def test_concurrent_retries_with_one_key_all_get_the_one_payment(session_factory: Any) -> None:
    (claim_id,) = _approved(session_factory)
    results = _at_once([partial(_pay, session_factory, claim_id, "same-key-retried")] * RETRIES)
    outcomes = Counter(_outcome(r) for r in results)
    assert len(outcomes) == 1 and next(iter(outcomes)).startswith("payment:"), outcomes
    assert _paid(session_factory, claim_id) == (ClaimState.PAID, Decimal("6750.00"), 1)


def test_one_key_sent_for_several_claims_at_once_pays_one_and_leaves_the_others_payable(
        session_factory: Any) -> None:
    claims = _approved(session_factory, 4)
    for round_ in range(3):  # several rounds: the race windows differ from run to run
        key = f"contested-key-{round_}"
        results = _at_once([partial(_pay, session_factory, c, key) for c in claims])
        outcomes = [_outcome(r) for r in results]
        winners = [c for c, r in zip(claims, results, strict=True) if isinstance(r, Payment)]
        assert len(winners) == 1 and sorted(outcomes).count("IDEMPOTENCY_KEY_REUSED") == len(claims) - 1, outcomes
        for c in claims:
            if c != winners[0]:
                assert _paid(session_factory, c) == (ClaimState.APPROVED, Decimal(0), 0)
        assert _paid(session_factory, winners[0]) == (ClaimState.PAID, Decimal("6750.00"), 1)
        claims = [c for c in claims if c != winners[0]]
    (last,) = claims
    assert _pay(session_factory, last, "a-fresh-key-0001").amount == Decimal("6750.00")


def test_stale_version_and_illegal_transition(session_factory: Any) -> None:
    (claim_id,) = _approved(session_factory)
    with pytest.raises(StaleVersionError), transaction(session_factory) as s:
        service.transition_claim(s, principal=ADJUSTER, claim_id=claim_id, to=ClaimState.REOPENED, reason="x",
                                 expected_version=1, now=NOW)
    with pytest.raises(InvalidTransitionError), transaction(session_factory) as s:
        service.transition_claim(s, principal=ADJUSTER, claim_id=claim_id, to=ClaimState.CLOSED, reason="x",
                                 expected_version=None, now=NOW)


def test_fast_claim_absorbed_by_the_deductible_closes_without_paying(session_factory: Any) -> None:
    """Approved in full but the open deductible takes it all: closed, explained, nothing paid."""
    with transaction(session_factory) as s:
        policy = make_claim_policy(s, deductible=Decimal("10000"))
        claim = report(s, policy)
        add_invoice(s, claim)
        done = service.submit_claim(s, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                                    today=business_today(), now=NOW)
        claim_id = done.id
    state, paid, count = _paid(session_factory, claim_id)
    assert state is ClaimState.CLOSED and paid == 0 and count == 0
    with session_factory() as s:
        assert (s.get_one(Claim, claim_id).approved_amount or Decimal(0)) == 0
