"""The analytics benchmark's data set and comparison, tiny: the dashboard from the rollups equals raw SQL."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.engine import Engine

from bench.bench_analytics import (
    KPIS,
    Sizes,
    compare,
    dashboard_period,
    generate,
    raw_dashboard,
    rollup_dashboard,
)
from core.db import make_session_factory, transaction
from opsure.runtime import Runtime
from resolvers.analytics import rollups


def test_the_dashboard_from_the_rollups_equals_raw_sql_on_the_generated_data(runtime: Runtime, engine: Engine) -> None:
    counts = generate(engine, Sizes(policies=300, claims=120, events=200, customers=50), seed=5, log=lambda _: None)
    assert counts["policy"] == 300 and counts["claim"] == 120 and counts["behaviour_event"] == 200
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        assert rollups.rebuild(s) == 420
    start, end = dashboard_period()
    with factory() as s:
        ours = rollup_dashboard(s, start, end)
    theirs = raw_dashboard(engine, start, end)
    assert compare(ours, theirs) == []
    assert compare(ours, raw_dashboard(engine, start, end, levels="window")) == []
    assert {k[0] for k in ours} == set(KPIS)
    # the data set is not trivial: every KPI has a non-zero value somewhere in the 90 days
    for kpi in KPIS:
        assert any(v for (m, _, _), v in theirs.items() if m == kpi and v is not None and v != Decimal(0)), kpi


def test_a_differing_value_is_reported_as_a_mismatch() -> None:
    start, _ = dashboard_period()
    ours = {("written_premium", start, "P"): Decimal("10.00"), ("loss_ratio", start, "P"): None}
    assert compare(ours, {("written_premium", start, "P"): Decimal("10.004")}) == []
    assert compare(ours, {("written_premium", start, "P"): Decimal("10.01")}) == [
        ("written_premium", start, "P", Decimal("10.00"), Decimal("10.01"))]
    assert compare(ours, {("written_premium", start, "P"): Decimal("10.00"), ("loss_ratio", start, "P"): Decimal(0)}) \
        == [("loss_ratio", start, "P", None, Decimal("0.0000"))]
