"""How far behind each consumer is: position, lag in events and seconds, failures, dead letters.

Example::

    for s in consumer_status(session):
        print(s.name, s.position, s.lag_events, s.lag_seconds, s.dead_letters)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from core.event_stream.consumers import ConsumerRow, DeadLetter, DeadLetterState, registered_consumers
from core.event_stream.outbox import EVENTS, head_id

__all__ = ["ConsumerStatus", "consumer_status"]


@dataclass(frozen=True)
class ConsumerStatus:
    """One consumer's state as ``opsure events status`` shows it."""

    name: str
    registered: bool  # known to this process's code
    position: int | None  # None: registered but never ran
    head: int
    lag_events: int
    lag_seconds: float
    failing_event_id: int | None
    failing_attempts: int
    dead_letters: int


def consumer_status(session: Session) -> list[ConsumerStatus]:
    """Every consumer with a stored position or a registration, by name."""
    head = head_id(session)
    events = EVENTS
    rows = {row.name: row for row in session.execute(select(ConsumerRow)).scalars()}
    registered = {c.name: c for c in registered_consumers()}
    letters: dict[str, int] = {
        consumer: count
        for consumer, count in session.execute(
            select(DeadLetter.consumer, func.count())
            .where(DeadLetter.state != DeadLetterState.RESOLVED)
            .group_by(DeadLetter.consumer)
        ).tuples()
    }
    now = clock.now()
    out: list[ConsumerStatus] = []
    for name in sorted(set(rows) | set(registered)):
        row = rows.get(name)
        consumer = registered.get(name)
        position = row.position if row is not None else None
        after = position or 0
        pending = select(events.c.id, events.c.occurred_at).where(events.c.id > after)
        if consumer is not None and consumer.types is not None:
            pending = pending.where(events.c.type.in_(sorted(consumer.types)))
        lag_events = session.execute(select(func.count()).select_from(pending.subquery())).scalar_one()
        oldest = session.execute(pending.order_by(events.c.id).limit(1)).first()
        lag_seconds = max(0.0, (now - oldest.occurred_at).total_seconds()) if oldest is not None else 0.0
        out.append(ConsumerStatus(
            name=name,
            registered=consumer is not None,
            position=position,
            head=head,
            lag_events=int(lag_events),
            lag_seconds=lag_seconds,
            failing_event_id=row.failing_event_id if row is not None else None,
            failing_attempts=row.failing_attempts if row is not None else 0,
            dead_letters=int(letters.get(name, 0)),
        ))
    return out
