"""Experiment statistics: z-test and intervals against the textbook formulas, SRM, not enough data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from sqlalchemy import insert

from core.db import transaction
from resolvers.operations import stats
from resolvers.operations.models import ExperimentExposure, ExperimentOutcome
from resolvers.operations.stats import Verdict
from tests.experiment_factories import T0, make_experiment


def _load(session: Any, exp_id: int, arms: list[tuple[int, int]]) -> None:
    """Exposures and conversions per arm: [(exposed, converted), ...]; each conversion settles in 2 hours."""
    exposures, outcomes = [], []
    for variant, (n, x) in enumerate(arms):
        for i in range(n):
            subject = f"s{variant}-{i}"
            exposures.append({"experiment_id": exp_id, "subject": subject, "variant": variant, "forced": False,
                              "exposed_at": T0})
            if i < x:
                outcomes.append({"experiment_id": exp_id, "subject": subject, "variant": variant,
                                 "converted_at": T0 + dt.timedelta(hours=2), "seconds_to_settle": 7200.0})
    session.execute(insert(ExperimentExposure), exposures)
    if outcomes:
        session.execute(insert(ExperimentOutcome), outcomes)


def test_two_proportion_z_test_matches_the_textbook() -> None:
    diff, low, high, z, p = stats.two_proportion(200, 1000, 250, 1000, 0.95)
    pooled = 450 / 2000
    expect_z = 0.05 / (pooled * (1 - pooled) * (2 / 1000)) ** 0.5
    assert diff == pytest.approx(0.05) and z == pytest.approx(expect_z)
    assert p == pytest.approx(2 * scipy_stats.norm.sf(expect_z))
    half = 1.959964 * (0.2 * 0.8 / 1000 + 0.25 * 0.75 / 1000) ** 0.5
    assert (low, high) == (pytest.approx(0.05 - half, abs=1e-6), pytest.approx(0.05 + half, abs=1e-6))


@given(st.integers(1, 500), st.integers(0, 500))
def test_wilson_interval_holds_the_rate(n: int, x: int) -> None:
    x = min(x, n)
    low, high = stats.wilson(x, n, 0.95)
    assert 0.0 <= low <= x / n <= high <= 1.0


def test_srm_detected_on_a_skewed_sample(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s)
        _load(s, exp.id, [(1000, 100), (850, 90)])  # 50/50 weights, 54/46 exposures
        r = stats.results(s, experiment_id=exp.id)
        assert r.verdict is Verdict.SAMPLE_RATIO_MISMATCH
        assert r.srm_p_value is not None and r.srm_p_value < 0.001


def test_balanced_sample_has_no_srm_and_a_significant_lift(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s)
        _load(s, exp.id, [(1000, 200), (1010, 260)])
        r = stats.results(s, experiment_id=exp.id)
        assert r.srm_p_value is not None and r.srm_p_value > 0.5
        assert r.verdict is Verdict.SIGNIFICANT
        control, fast = r.variants
        assert control.p_value is None and fast.p_value is not None and fast.p_value < 0.01
        assert fast.difference_low is not None and fast.difference_low > 0
        assert fast.mean_hours_to_settle == pytest.approx(2.0)


def test_no_lift_is_not_significant(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s)
        _load(s, exp.id, [(500, 100), (500, 104)])
        assert stats.results(s, experiment_id=exp.id).verdict is Verdict.NOT_SIGNIFICANT


@pytest.mark.parametrize("arms", [[(10, 3), (12, 5)], [(500, 2), (500, 40)], [(0, 0), (0, 0)]])
def test_not_enough_data(session_factory: Any, arms: list[tuple[int, int]]) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s)
        _load(s, exp.id, arms) if any(n for n, _ in arms) else None
        r = stats.results(s, experiment_id=exp.id)
        assert r.verdict is Verdict.NOT_ENOUGH_DATA
