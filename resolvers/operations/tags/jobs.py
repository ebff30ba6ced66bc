"""Periodic tag work: the incremental step (new behaviour events and customers, then windows closing)
and the nightly full rebuild that heals anything the incremental path missed.

``opsure jobs run operations.tags.incremental`` / ``operations.tags.rebuild``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.jobs import job
from resolvers.operations.tags import service

__all__ = ["incremental", "rebuild"]


@job("operations.tags.incremental", "evaluate customer tags for new behaviour events and customers, and expire "
     "windows that closed")
def incremental(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    with transaction(sessions) as session:
        done = service.apply_new_events(session, now=at)
    with transaction(sessions) as session:
        return done + service.expire(session, now=at)


@job("operations.tags.rebuild", "evaluate every customer's rule tags from scratch (the same result as the "
     "incremental path; heals missed events)")
def rebuild(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    with transaction(sessions) as session:
        return service.rebuild(session, now=at)
