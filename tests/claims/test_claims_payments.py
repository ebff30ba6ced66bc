"""Payments pay once: idempotency keys, repeated attempts, and parallel requests (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import business_today
from core.db import transaction
from core.errors import ConflictError, InvalidTransitionError
from resolvers.claims import payments, service
from resolvers.claims.models import ClaimState, Payment
from tests.claim_factories import ADJUSTER, make_claim_policy, report

NOW = dt.datetime.now(dt.UTC)


def _approved_claim(session_factory: Any) -> int:
    """A claim an adjuster approved (too large for fast-claim, so it went to review)."""
    items = [service.LineItemSpec("SURG-1", "inpatient", Decimal("8000.00"), 1)]
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        claim = report(s, policy, amount=Decimal("8000.00"), items=items)
        claim.state = ClaimState.DRAFT
        s.flush()
        claim_id = claim.id
    with transaction(session_factory) as s:
        from resolvers.claims.models import ClaimDocument, DocumentKind

        s.add(ClaimDocument(claim_id=claim_id, kind=DocumentKind.INVOICE, filename="i.pdf",
                            content_type="application/pdf", size=1, sha256="0" * 64, storage_key="x",
                            uploaded_by="t"))
        s.flush()
        c = service.submit_claim(s, principal=ADJUSTER, claim_id=claim_id, expected_version=None,
                                 today=business_today(), now=NOW)
        assert c.state is ClaimState.UNDER_REVIEW
        c = service.adjudicate_claim(s, principal=ADJUSTER, claim_id=claim_id, expected_version=c.version, now=NOW)
        assert c.state is ClaimState.APPROVED
    return claim_id


def test_idempotent_key_and_second_payment_refused(session_factory: Any) -> None:
    claim_id = _approved_claim(session_factory)
    with transaction(session_factory) as s:
        p1 = payments.pay_claim(s, principal=ADJUSTER, claim_id=claim_id, idempotency_key="pay-key-0001", now=NOW)
        assert p1.amount == Decimal("6750.00")  # (8000 - 500) * 0.9
    with transaction(session_factory) as s:
        again = payments.pay_claim(s, principal=ADJUSTER, claim_id=claim_id, idempotency_key="pay-key-0001", now=NOW)
        assert again.id == p1.id
    with pytest.raises(ConflictError) as err, transaction(session_factory) as s:
        payments.pay_claim(s, principal=ADJUSTER, claim_id=claim_id, idempotency_key="pay-key-0002", now=NOW)
    assert err.value.code == "ALREADY_PAID"
    with pytest.raises(InvalidTransitionError), transaction(session_factory) as s:
        service.transition_claim(s, principal=ADJUSTER, claim_id=claim_id, to=ClaimState.UNDER_REVIEW,
                                 reason="try", expected_version=None, now=NOW)
    with session_factory() as s:
        assert s.scalar(select(func.count(Payment.id))) == 1


@pytest.mark.skipif(not os.environ.get("OPSURE_TEST_DATABASE_URL"), reason="parallel payouts need PostgreSQL")
def test_parallel_payouts_pay_once(session_factory: Any) -> None:
    claim_id = _approved_claim(session_factory)
    barrier = threading.Barrier(8)
    results: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        barrier.wait()
        try:
            with transaction(session_factory) as s:
                payments.pay_claim(s, principal=ADJUSTER, claim_id=claim_id, idempotency_key=f"parallel-{i:04d}",
                                   now=NOW)
            outcome = "paid"
        except ConflictError as exc:
            outcome = exc.code
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ALREADY_PAID"] * 7 + ["paid"]
    with session_factory() as s:
        assert s.scalar(select(func.count(Payment.id)).where(Payment.claim_id == claim_id)) == 1


def test_stale_version_and_illegal_transition(session_factory: Any) -> None:
    claim_id = _approved_claim(session_factory)
    from core.errors import StaleVersionError

    with pytest.raises(StaleVersionError), transaction(session_factory) as s:
        service.transition_claim(s, principal=ADJUSTER, claim_id=claim_id, to=ClaimState.REOPENED, reason="x",
                                 expected_version=1, now=NOW)
    with pytest.raises(InvalidTransitionError), transaction(session_factory) as s:
        service.transition_claim(s, principal=ADJUSTER, claim_id=claim_id, to=ClaimState.CLOSED, reason="x",
                                 expected_version=None, now=NOW)


def test_fast_claim_absorbed_by_the_deductible_closes_without_paying(session_factory: Any) -> None:
    """Approved in full but the open deductible takes it all: closed, explained, nothing paid."""
    from resolvers.claims.models import Claim, ClaimDocument, DocumentKind

    with transaction(session_factory) as s:
        policy = make_claim_policy(s, deductible=Decimal("10000"))
        claim = report(s, policy)
        s.add(ClaimDocument(claim_id=claim.id, kind=DocumentKind.INVOICE, filename="i.pdf",
                            content_type="application/pdf", size=1, sha256="1" * 64, storage_key="y",
                            uploaded_by="t"))
        s.flush()
        done = service.submit_claim(s, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                                    today=business_today(), now=NOW)
        claim_id = done.id
    with session_factory() as s:
        row = s.get(Claim, claim_id)
        assert row is not None
        assert row.state is ClaimState.CLOSED and (row.approved_amount or Decimal(0)) == 0
        assert s.scalar(select(func.count(Payment.id)).where(Payment.claim_id == claim_id)) == 0
