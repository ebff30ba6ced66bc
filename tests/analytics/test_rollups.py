"""Live rollups equal an offline rebuild; a change applies only its difference; replays change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from core.db import transaction
from opsure.demo import load_demo
from opsure.runtime import Runtime
from opsure.worker import drain_consumers_once
from resolvers.analytics.facts import Fact
from resolvers.analytics.rollups import rebuild, refresh, rollup_totals
from resolvers.policies.facts import iter_policy_views


def _drain(runtime: Runtime) -> None:
    while drain_consumers_once(runtime).get("analytics.rollups"):
        pass


def _totals(runtime: Runtime) -> dict[Any, Any]:
    with runtime.session_factory() as s:
        return rollup_totals(s)


def test_live_rollups_equal_an_offline_rebuild_on_the_demo_data(runtime: Runtime) -> None:
    load_demo(runtime, customers=40, years=2, seed=3, today=dt.date(2026, 6, 1))
    _drain(runtime)
    live = _totals(runtime)
    facts = {k[0] for k in live}
    assert {Fact.POLICY_ISSUED, Fact.POLICY_RENEWED, Fact.IN_FORCE, Fact.PREMIUM_RATE, Fact.RENEWAL_DUE} <= facts
    with transaction(runtime.session_factory) as s:
        policies = sum(len(page) for page in iter_policy_views(s))
        assert rebuild(s) == policies
    assert _totals(runtime) == live
    issued = sum(c for k, (c, _) in live.items() if k[0] in (Fact.POLICY_ISSUED, Fact.POLICY_RENEWED))
    assert issued == policies


def test_refreshing_an_unchanged_row_or_replaying_changes_nothing(runtime: Runtime) -> None:
    load_demo(runtime, customers=10, years=1, seed=5, today=dt.date(2026, 6, 1))
    _drain(runtime)
    before = _totals(runtime)
    with transaction(runtime.session_factory) as s:
        ids = [v.id for page in iter_policy_views(s) for v in page]
        refresh(s, policy_ids=ids)
        refresh(s, policy_ids=[*ids, 10**9])  # an absent id contributes nothing
    assert _totals(runtime) == before
    premium = sum(a for k, (_, a) in before.items() if k[0] == Fact.PREMIUM_RATE)
    assert abs(premium) < Decimal("0.01") * len(ids) * 2  # every policy's rate starts and stops
