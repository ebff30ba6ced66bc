"""Cursors through the live API: every edge cursor resumes the list, both ways, in every sort order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.auth import Role
from tests.factories import make_customer, make_policy, make_product


def test_edge_cursors_resume_the_list_after_that_edge(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        product = make_product(s)
        for _ in range(4):
            make_policy(s, today=dt.date(2026, 6, 1), customer=make_customer(s), product=product)
        s.commit()
    admin = gql(Role.ADMIN)
    for field in ("customers", "policies"):
        query = f"query($a: String) {{ {field}(first: 3, after: $a) {{ edges {{ cursor node {{ id }} }} }} }}"
        edges = admin(query)[field]["edges"]
        rest = admin(query, {"a": edges[1]["cursor"]})[field]["edges"]
        assert [e["node"]["id"] for e in rest] == [e["node"]["id"] for e in edges[2:]] + [rest[-1]["node"]["id"]]
        assert len(rest) == 2


def _walk(client: Any, field: str, size: int, *, backward: bool, args: str = "") -> list[str]:
    """Ids of the whole list, page by page, forward from the start or backward from the end."""
    query = (f"query($n: Int, $c: String) {{ {field}({'last: $n, before: $c' if backward else 'first: $n, after: $c'}"
             f"{args}) {{ totalCount edges {{ cursor node {{ id }} }} "
             "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }")
    pages: list[list[str]] = []
    cursor = None
    while True:
        conn = client(query, {"n": size, "c": cursor})[field]
        ids = [e["node"]["id"] for e in conn["edges"]]
        assert [e["cursor"] for e in conn["edges"]][:1] == ([conn["pageInfo"]["startCursor"]] if ids else [])
        pages.append(ids)
        info = conn["pageInfo"]
        more = info["hasPreviousPage"] if backward else info["hasNextPage"]
        if cursor is not None:  # we came from the other side: Relay says items exist there
            assert info["hasNextPage" if backward else "hasPreviousPage"] is True
        if not more:
            flat = [i for page in (reversed(pages) if backward else pages) for i in page]
            assert len(flat) == conn["totalCount"] == len(set(flat))
            return flat
        cursor = info["startCursor"] if backward else info["endCursor"]


def test_lists_page_backward_to_the_same_rows_in_the_same_order(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        product = make_product(s)
        for _ in range(7):
            make_policy(s, today=dt.date(2026, 6, 1), customer=make_customer(s), product=product)
        s.commit()
    admin = gql(Role.ADMIN)
    for field in ("customers", "policies"):
        forward = _walk(admin, field, 3, backward=False)
        assert forward == _walk(admin, field, 3, backward=True) == _walk(admin, field, 2, backward=True)
        assert len(forward) == 7


def test_the_claims_queue_pages_both_ways_in_every_sort_order(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from resolvers.claims.service import LineItemSpec
    from tests.claim_factories import make_claim_policy, report

    with session_factory() as s:
        policy = make_claim_policy(s)
        for amount in ("800.00", "300.00", "800.00", "1200.00", "300.00", "800.00"):
            report(s, policy, amount=Decimal(amount),
                   items=[LineItemSpec("BED-01", "inpatient", Decimal(amount), 1, "ward bed")])
        s.commit()
    admin = gql(Role.ADMIN)
    for sort in ("OLDEST", "NEWEST", "AMOUNT_DESC", "RISK_DESC", "SLA_DUE"):
        forward = _walk(admin, "claims", 4, backward=False, args=f", sort: {sort}")
        assert forward == _walk(admin, "claims", 4, backward=True, args=f", sort: {sort}"), sort
        assert len(forward) == 6
    amounts = admin("{ claims(first: 10, sort: AMOUNT_DESC) { edges { node { claimedAmount } } } }")["claims"]
    assert [e["node"]["claimedAmount"] for e in amounts["edges"]] == [
        "1200.00", "800.00", "800.00", "800.00", "300.00", "300.00"]
