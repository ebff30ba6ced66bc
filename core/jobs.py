"""Periodic jobs: registered by the domains, run by ``opsure worker`` and on demand by ``opsure jobs run``.

A job is a function of a session factory and the business time that does one round of work
(SLA checks, overdue detection, sampling, reminders) and returns how many things it did. It
must be idempotent: a round repeated, or interrupted and run again, does no harm. Each run
holds the named leadership ``job:<name>`` (a PostgreSQL advisory lock, or a file lock on
SQLite), so two workers never run one job at the same time.

Example::

    @job("claims.document_reminders", "remind customers of supplementary documents past due")
    def send_reminders(sessions: sessionmaker[Session], at: dt.datetime) -> int:
        with transaction(sessions) as session:
            return remind_overdue(session, at=at)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.clock import now
from core.leadership import leadership

__all__ = ["Job", "JobFn", "job", "registered_jobs", "run_job"]

JobFn = Callable[[sessionmaker[Session], dt.datetime], int]


@dataclass(frozen=True)
class Job:
    """A named periodic job."""

    name: str
    description: str
    run: JobFn


_JOBS: dict[str, Job] = {}


def job(name: str, description: str) -> Callable[[JobFn], JobFn]:
    """Register the decorated function as the periodic job ``name``."""

    def register(fn: JobFn) -> JobFn:
        existing = _JOBS.get(name)
        if existing is not None and existing.run is not fn:
            raise ValueError(f"job {name!r} is registered twice")
        _JOBS[name] = Job(name, description, fn)
        return fn

    return register


def registered_jobs() -> list[Job]:
    """Every registered job, by name."""
    return [_JOBS[name] for name in sorted(_JOBS)]


def run_job(engine: Engine, sessions: sessionmaker[Session], data_dir: Path, name: str,
            *, at: dt.datetime | None = None) -> int | None:
    """Run one round of job ``name`` under its lock; None when another process runs it now."""
    found = _JOBS.get(name)
    if found is None:
        raise KeyError(f"no job named {name!r}; known: {', '.join(sorted(_JOBS)) or 'none'}")
    with leadership(engine, data_dir, f"job:{name}") as lead:
        if lead is None:
            return None
        return found.run(sessions, at or now())
