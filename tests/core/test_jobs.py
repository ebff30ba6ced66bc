"""Periodic jobs: registered once, run under their lock, run by the worker beside the others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core import jobs
from core.leadership import leadership
from opsure.worker import run_jobs_once


@pytest.fixture
def registry() -> Iterator[dict[str, jobs.Job]]:
    saved = dict(jobs._JOBS)
    jobs._JOBS.clear()
    yield jobs._JOBS
    jobs._JOBS.clear()
    jobs._JOBS.update(saved)


def test_a_job_runs_with_the_time_given(registry: Any, engine: Engine, session_factory: Any, data_dir: Path) -> None:
    seen: list[dt.datetime] = []

    @jobs.job("test.count", "counts its runs")
    def count(_sessions: sessionmaker[Session], at: dt.datetime) -> int:
        seen.append(at)
        return len(seen)

    at = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
    assert jobs.run_job(engine, session_factory, data_dir, "test.count", at=at) == 1
    assert seen == [at]
    assert [j.name for j in jobs.registered_jobs()] == ["test.count"]


def test_a_job_another_process_runs_is_skipped(registry: Any, engine: Engine, session_factory: Any,
                                               data_dir: Path) -> None:
    jobs.job("test.held", "never runs here")(lambda _s, _at: 1)
    with leadership(engine, data_dir, "job:test.held") as lead:
        assert lead is not None
        assert jobs.run_job(engine, session_factory, data_dir, "test.held") is None
    assert jobs.run_job(engine, session_factory, data_dir, "test.held") == 1


def test_unknown_and_twice_registered_jobs_are_refused(registry: Any, engine: Engine, session_factory: Any,
                                                       data_dir: Path) -> None:
    jobs.job("test.once", "one")(lambda _s, _at: 0)
    with pytest.raises(ValueError, match="twice"):
        jobs.job("test.once", "again")(lambda _s, _at: 0)
    with pytest.raises(KeyError, match=r"known: test\.once"):
        jobs.run_job(engine, session_factory, data_dir, "test.nope")


def test_the_worker_runs_every_job_and_a_failing_one_stops_none(registry: Any, runtime: Any) -> None:
    def broken(_s: Any, _at: Any) -> int:
        raise RuntimeError("boom")

    jobs.job("test.a_broken", "fails")(broken)
    jobs.job("test.b_fine", "works")(lambda _s, _at: 3)
    done = run_jobs_once(runtime, today=dt.date(2026, 6, 1))
    assert done["test.b_fine"] == 3 and "test.a_broken" not in done
    assert done["policies_expired"] == 0
