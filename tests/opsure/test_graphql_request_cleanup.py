"""A request leaves nothing behind: no DataLoader batch of an ended execution reopens its session later.

An error that nulls the whole result (a non-null root field failing) ends execution while
batches of other fields are still scheduled on the worker thread's loop. Run by that
thread's next request, they reopened the closed request's session and kept a pooled
connection idle in a transaction (on PostgreSQL its locks then blocked TRUNCATE and DDL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine

from core.auth import Role
from core.db import transaction
from tests.factories import make_customer, make_policy

# customers' policies resolve through DataLoaders; webhookEndpoints (non-null) fails for staff without partnerId
FAILS_WHILE_LOADING = """{ customers(first: 100) { edges { node {
    policies { edges { node { id product { code coverageItems { code } } } } } } } }
  webhookEndpoints { totalCount } }"""


def test_an_execution_ended_by_an_error_leaves_no_connection_checked_out(gql: Any, session_factory: Any,
                                                                         engine: Engine) -> None:
    with transaction(session_factory) as s:
        for _ in range(3):
            make_policy(s, today=dt.date(2026, 6, 1), customer=make_customer(s))
    admin = gql(Role.ADMIN)
    for _ in range(4):
        failed = admin.post(FAILS_WHILE_LOADING).json()
        assert failed["data"] is None and failed["errors"][0]["path"] == ["webhookEndpoints"]
    for _ in range(8):  # the worker threads' next requests
        admin("{ products { edges { node { code } } } }")
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
