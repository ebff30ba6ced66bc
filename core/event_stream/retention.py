"""Retention: prune events older than the configured days, never past a consumer that needs them.

An event is pruned when it is older than ``OPSURE_EVENT_RETENTION_DAYS`` (0 keeps every
event) and every consumer that reads its type has read it (unless
``OPSURE_EVENT_PRUNE_PAST_CONSUMERS``; a stored consumer this process does not know reads every
type). The
newest event and events behind an open dead letter always stay. Deletes go in chunks, so
writers never wait long.

Example::

    prune_events(session_factory, retention_days=30)     # -> events deleted
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from core.db import transaction
from core.event_stream.consumers import (
    ConsumerRow,
    DeadLetter,
    DeadLetterState,
    ensure_consumer,
    registered_consumers,
)
from core.event_stream.outbox import EVENTS, head_id

__all__ = ["prunable_through", "prune_events"]

_CHUNK = 10_000


def prunable_through(session: Session, *, past_consumers: bool = False) -> int:
    """The highest event id pruning may reach: below the newest event and every consumer's position."""
    limit = head_id(session) - 1
    if not past_consumers:
        slowest = session.execute(select(func.min(ConsumerRow.position))).scalar_one_or_none()
        if slowest is not None:
            limit = min(limit, slowest)
    return max(0, limit)


def _read_by_every_consumer(session: Session) -> list[ColumnElement[bool]]:
    """One condition per stored consumer: it has read the event, or does not read its type."""
    known = {c.name: c for c in registered_consumers()}
    conditions: list[ColumnElement[bool]] = []
    for name, position in session.execute(select(ConsumerRow.name, ConsumerRow.position)).tuples():
        consumer = known.get(name)
        read = EVENTS.c.id <= position
        if consumer is None or consumer.types is None:
            conditions.append(read)
        else:
            conditions.append(or_(read, EVENTS.c.type.not_in(sorted(consumer.types))))
    return conditions


def prune_events(
    session_factory: sessionmaker[Session],
    *,
    retention_days: int,
    past_consumers: bool = False,
    now: dt.datetime | None = None,
) -> int:
    """Delete events older than ``retention_days`` that nobody needs; returns how many went."""
    if retention_days <= 0:
        return 0
    cutoff = (now or clock.now()) - dt.timedelta(days=retention_days)
    with transaction(session_factory) as session:
        for consumer in registered_consumers():  # a registered consumer that never ran still counts
            ensure_consumer(session, consumer)
    events = EVENTS
    open_letter = exists().where(
        DeadLetter.event_id == events.c.id, DeadLetter.state != DeadLetterState.RESOLVED
    )
    deleted = 0
    while True:
        with transaction(session_factory) as session:
            limit = max(0, head_id(session) - 1)
            read = [] if past_consumers else _read_by_every_consumer(session)
            chunk = (
                select(events.c.id)
                .where(events.c.id <= limit, events.c.occurred_at < cutoff, ~open_letter, *read)
                .order_by(events.c.id)
                .limit(_CHUNK)
            )
            ids = list(session.execute(chunk).scalars())
            if ids:
                session.execute(delete(events).where(events.c.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < _CHUNK:
            return deleted
