"""The experiment layer through its services: variant, sticky, forced, kill switch, schedule, exposures, bad input."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import transaction
from core.errors import DomainError, InvalidTransitionError, each_error
from resolvers.operations import experiments
from resolvers.operations.experiments import variant
from resolvers.operations.models import ExperimentExposure, ExperimentStatus, Flow
from tests.experiment_factories import MANAGER, QA, T0, make_experiment, spec, subjects


def _codes(exc: pytest.ExceptionInfo[DomainError]) -> set[str]:
    return {e.code for e in each_error(exc.value)}


def test_no_experiment_gives_the_flow_default(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        a = variant(s, flow=Flow.CLAIM, subject="customer:1", now=T0)
        assert (a.variant, a.in_experiment) == ("fast", False)
        assert variant(s, flow=Flow.CALLBACK, subject="customer:1", now=T0).variant == "immediate"


def test_assignment_follows_weights_and_logs_one_exposure_per_subject(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s, variants=[("fast", 0.3), ("standard", 0.7)])
        got = Counter(variant(s, flow=Flow.CLAIM, subject=x, now=T0).variant for x in subjects(2000))
        again = Counter(variant(s, flow=Flow.CLAIM, subject=x, now=T0).variant for x in subjects(2000))
        assert got == again
        assert 0.25 < got["fast"] / 2000 < 0.35
        assert s.scalar(select(func.count()).select_from(ExperimentExposure).where(
            ExperimentExposure.experiment_id == exp.id)) == 2000


def test_sticky_when_weights_change(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s)
        before = {x: variant(s, flow=Flow.CLAIM, subject=x, now=T0).variant for x in subjects(300)}
        experiments.update_experiment(s, principal=MANAGER, experiment_id=exp.id, expected_version=None, now=T0,
                                      spec=spec(variants=[("fast", 0.05), ("standard", 0.95)]))
        after = {x: variant(s, flow=Flow.CLAIM, subject=x, now=T0).variant for x in subjects(300)}
        assert before == after
        newcomers = Counter(variant(s, flow=Flow.CLAIM, subject=f"new:{i}", now=T0).variant for i in range(400))
        assert newcomers["standard"] > 340


def test_forced_variant_for_qa_and_its_removal(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s, start=False)
        experiments.force_variant(s, principal=QA, experiment_id=exp.id, subject="qa:1", variant_key="standard", now=T0)
        a = variant(s, flow=Flow.CLAIM, subject="qa:1", now=T0)  # a draft: only the override applies
        assert (a.variant, a.forced, a.experiment_key) == ("standard", True, "claim-fast")
        assert variant(s, flow=Flow.CLAIM, subject="customer:1", now=T0).in_experiment is False
        experiments.force_variant(s, principal=QA, experiment_id=exp.id, subject="qa:1", variant_key=None, now=T0)
        assert variant(s, flow=Flow.CLAIM, subject="qa:1", now=T0).forced is False
        assert s.scalar(select(func.count()).select_from(ExperimentExposure)) == 0  # overrides are never exposures
        with pytest.raises(DomainError) as exc:
            experiments.force_variant(s, principal=QA, experiment_id=exp.id, subject="", variant_key="video", now=T0)
        assert _codes(exc) == {"BAD_SUBJECT", "UNKNOWN_VARIANT"}


def test_kill_switch_gives_everyone_the_default_at_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s, variants=[("fast", 0.0), ("standard", 1.0)])
        assert variant(s, flow=Flow.CLAIM, subject="customer:1", now=T0).variant == "standard"
        experiments.set_status(s, principal=MANAGER, experiment_id=exp.id, action="kill", expected_version=None, now=T0)
        assert exp.status is ExperimentStatus.KILLED
        a = variant(s, flow=Flow.CLAIM, subject="customer:1", now=T0)
        assert (a.variant, a.in_experiment) == ("fast", False)
        with pytest.raises(InvalidTransitionError):
            experiments.set_status(s, principal=MANAGER, experiment_id=exp.id, action="start", expected_version=None,
                                   now=T0)


def test_schedule_in_business_time(session_factory: Any) -> None:
    start = dt.datetime(2026, 11, 11, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # midnight in Beijing
    stop = start + dt.timedelta(days=1)
    with transaction(session_factory) as s:
        make_experiment(s, variants=[("fast", 0.0), ("standard", 1.0)], starts_at=start, ends_at=stop)
        assert variant(s, flow=Flow.CLAIM, subject="c:1", now=start - dt.timedelta(seconds=1)).variant == "fast"
        assert variant(s, flow=Flow.CLAIM, subject="c:1", now=start).variant == "standard"
        assert variant(s, flow=Flow.CLAIM, subject="c:1", now=stop).variant == "fast"


def test_unbalanced_and_bad_input_all_at_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        with pytest.raises(DomainError) as exc:
            experiments.create_experiment(s, principal=MANAGER, now=T0, spec=spec(
                "Bad Key", variants=[("fast", 0.6), ("video", 0.6)], coverage=0.0, namespace_start=0.8,
                namespace_end=0.2, starts_at=T0, ends_at=T0))
        assert _codes(exc) == {"BAD_KEY", "UNKNOWN_VARIANT", "UNBALANCED_WEIGHTS", "BAD_COVERAGE",
                               "BAD_NAMESPACE_RANGE", "BAD_SCHEDULE"}
        with pytest.raises(DomainError) as exc:
            experiments.create_experiment(s, principal=MANAGER, now=T0, spec=spec(variants=[("fast", 1.0)]))
        assert _codes(exc) == {"TOO_FEW_VARIANTS"}


def test_overlapping_experiments_in_one_namespace_are_refused(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        make_experiment(s, "left", namespace="claims", namespace_start=0.0, namespace_end=0.5)
        with pytest.raises(DomainError) as exc:
            experiments.create_experiment(s, principal=MANAGER, now=T0, spec=spec(
                "middle", namespace="claims", namespace_start=0.4, namespace_end=0.8))
        assert _codes(exc) == {"NAMESPACE_OVERLAP"}
        with pytest.raises(DomainError) as exc:
            experiments.create_experiment(s, principal=MANAGER, now=T0, spec=spec("elsewhere", namespace="other"))
        assert _codes(exc) == {"FLOW_OVERLAP"}
        with pytest.raises(DomainError) as exc:
            experiments.create_experiment(s, principal=MANAGER, now=T0, spec=spec("left"))
        assert "KEY_TAKEN" in _codes(exc)
        right = make_experiment(s, "right", namespace="claims", namespace_start=0.5, namespace_end=1.0)
        # disjoint halves: every subject is in at most one of them
        by = Counter(variant(s, flow=Flow.CLAIM, subject=x, now=T0).experiment_key for x in subjects(1000))
        assert set(by) == {"left", "right"} and 400 < by["left"] < 600
        assert right.status is ExperimentStatus.RUNNING


def test_a_stopped_experiment_frees_its_range_and_only_drafts_are_deleted(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        old = make_experiment(s, "old")
        experiments.set_status(s, principal=MANAGER, experiment_id=old.id, action="stop", expected_version=None, now=T0)
        with pytest.raises(InvalidTransitionError):
            experiments.delete_experiment(s, principal=MANAGER, experiment_id=old.id)
        new = make_experiment(s, "new", start=False)
        assert experiments.delete_experiment(s, principal=MANAGER, experiment_id=new.id) == new.id


def test_exposure_logged_once_under_concurrency(session_factory: Any) -> None:
    """Threads asking for the same subject at once: one exposure row, one variant for all."""
    from concurrent.futures import ThreadPoolExecutor

    with transaction(session_factory) as s:
        make_experiment(s)

    def ask(_: int) -> str:
        with transaction(session_factory) as s:
            return variant(s, flow=Flow.CLAIM, subject="customer:77", now=T0).variant

    with ThreadPoolExecutor(8) as pool:
        answers = set(pool.map(ask, range(16)))
    assert len(answers) == 1
    with transaction(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(ExperimentExposure)) == 1
