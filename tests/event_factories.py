"""Event-stream factories: test payload types, appending helpers, a projection a consumer builds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.event_stream import (
    Actor,
    Aggregate,
    Consumer,
    EventPayload,
    StoredEvent,
    append,
    readers,
    register_event_type,
)
from core.event_stream.consumers import unregister_consumer
from core.roles import CLAIM_READERS, POLICY_READERS, RISK_READERS

__all__ = [
    "ACTOR",
    "TICKED",
    "WidgetScored",
    "WidgetTicked",
    "append_ticks",
    "projection",
    "projection_consumer",
    "projection_rows",
    "registered",
]

ACTOR = Actor("tester", "admin")


class WidgetTicked(EventPayload):
    """A test fact: widget ``widget_id`` ticked for the ``n``-th time."""

    widget_id: int
    n: int
    label: str = ""


class WidgetScored(EventPayload):
    """A test fact whose score only risk readers may see."""

    widget_id: int
    score: Annotated[Decimal | None, readers(RISK_READERS, source="Claim.riskScore")] = None


TICKED = register_event_type("test.widget_ticked", 1, WidgetTicked, aggregate="Widget", readers=POLICY_READERS)
SCORED = register_event_type("test.widget_scored", 1, WidgetScored, aggregate="Widget", readers=CLAIM_READERS)


def append_ticks(session_factory: sessionmaker[Session], count: int, *, widget_id: int = 1, per_tx: int = 1) -> None:
    """Commit ``count`` tick events, ``per_tx`` to a transaction."""
    n = 0
    while n < count:
        with transaction(session_factory) as session:
            for _ in range(min(per_tx, count - n)):
                n += 1
                append(session, WidgetTicked(widget_id=widget_id, n=n), aggregate=Aggregate("Widget", widget_id),
                       actor=ACTOR)


_meta = MetaData()
#: What a projection consumer builds: one row per applied event (a second application shows as a duplicate).
projection = Table(
    "test_event_projection",
    _meta,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(80), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("widget_id", BigInteger, nullable=False),
    Column("n", Integer, nullable=False),
)


@contextmanager
def projection_table(engine: Engine) -> Iterator[Table]:
    """The projection table, created empty for one test and dropped after it."""
    _meta.drop_all(engine, checkfirst=True)
    _meta.create_all(engine)
    try:
        yield projection
    finally:
        _meta.drop_all(engine, checkfirst=True)


def projection_consumer(name: str, **options: object) -> Consumer:
    """A consumer writing one projection row per tick, in its own transaction (exactly once)."""

    def handle(session: Session, ev: StoredEvent) -> None:
        payload = ev.payload
        assert isinstance(payload, WidgetTicked)
        session.execute(insert(projection).values(consumer=name, event_id=ev.id, widget_id=payload.widget_id,
                                                  n=payload.n))

    def reset(session: Session, position: int) -> None:
        session.execute(projection.delete().where(projection.c.consumer == name, projection.c.event_id > position))

    return Consumer(name, handle, types=frozenset({TICKED.name}), reset=reset, **options)  # type: ignore[arg-type]


def projection_rows(session: Session, name: str) -> list[tuple[int, int, int]]:
    """(event id, widget, n) of every projection row of consumer ``name``, in event order."""
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(projection.c.event_id, projection.c.widget_id, projection.c.n)
        .where(projection.c.consumer == name).order_by(projection.c.event_id, projection.c.row_id))]


def projection_count(session: Session, name: str) -> int:
    """How many projection rows consumer ``name`` wrote."""
    return int(session.execute(select(func.count()).select_from(projection)
                               .where(projection.c.consumer == name)).scalar_one())


@contextmanager
def registered(consumer: Consumer) -> Iterator[Consumer]:
    """``consumer`` registered for one test."""
    from core.event_stream import register_consumer

    register_consumer(consumer)
    try:
        yield consumer
    finally:
        unregister_consumer(consumer.name)
