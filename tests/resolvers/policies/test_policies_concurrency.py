"""Two requests racing to change the same rows: exactly one wins, nothing is doubled."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from core.db import transaction
from core.errors import DomainError
from resolvers.policies import service
from resolvers.policies.models import Policy
from tests.factories import ADMIN, make_customer, make_product, make_quote

TODAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)


def _race(session_factory: Any, work: Any, n: int = 4) -> list[str]:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            with transaction(session_factory) as s:
                work(s)
            result = "ok"
        except (DomainError, StaleDataError, DBAPIError) as exc:
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_parallel_issues_of_one_quote_issue_one_policy(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        quote = make_quote(s, customer=make_customer(s), product=make_product(s), today=TODAY)
        s.commit()
    outcomes = _race(
        session_factory,
        lambda s: service.issue_policy(s, principal=ADMIN, quote_id=quote.id, today=TODAY, now=NOW),
    )
    assert outcomes.count("ok") == 1, outcomes
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Policy).where(Policy.quote_id == quote.id)) == 1


def test_parallel_renewals_renew_once(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        quote = make_quote(s, customer=make_customer(s), product=make_product(s), today=TODAY)
        policy = service.issue_policy(s, principal=ADMIN, quote_id=quote.id, today=TODAY, now=NOW)
        s.commit()
    day = policy.period_end - dt.timedelta(days=5)
    outcomes = _race(
        session_factory,
        lambda s: service.renew_policy(
            s, principal=ADMIN, policy_id=policy.id, expected_version=None, today=day, now=NOW
        ),
    )
    assert outcomes.count("ok") == 1, outcomes
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Policy).where(Policy.renewed_from_id == policy.id)) == 1
