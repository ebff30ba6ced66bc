"""Every edge cursor is one the list's ``after`` accepts (customers and policies)."""

from __future__ import annotations

import datetime as dt

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
