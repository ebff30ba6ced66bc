"""Adjusters' queue: filters, sort, and SQL statements independent of page size."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import event

from core.auth import Role
from core.db import transaction
from tests.claim_factories import make_claim_policy, report

QUEUE = """query($first: Int!) { claims(first: $first, sort: AMOUNT_DESC, filter: {states: [DRAFT]}) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { number state claimedAmount riskLevel riskHints { code }
    policy { number product { code coverageItems { category } } } customer { name }
    documents { totalCount edges { node { sha256 } } } lineItems { itemCode amount }
    timeline(last: 2) { totalCount edges { cursor node { kind } } pageInfo { hasPreviousPage } } } } } }"""


def test_queue_statement_count_is_independent_of_page_size(gql: Any, session_factory: Any, engine: Any) -> None:
    with transaction(session_factory) as s:
        for i in range(12):
            policy = make_claim_policy(s, code=f"QP{i}")
            report(s, policy, amount=Decimal("800.00"))
    counts: dict[int, int] = {}
    adjuster = gql(Role.ADJUSTER)
    adjuster(QUEUE, {"first": 1})  # warm up: what the app loads once (e.g. on its first request) is not counted
    for first in (3, 12):
        seen: list[str] = []

        def listener(*args: Any, seen: list[str] = seen) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            data = adjuster(QUEUE, {"first": first})["claims"]
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len(data["edges"]) == first and data["totalCount"] == 12
        counts[first] = len([q for q in seen if q.lstrip().upper().startswith("SELECT")])
    assert counts[3] == counts[12], counts
