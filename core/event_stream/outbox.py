"""The outbox: events appended inside the business transaction, numbered in commit order.

:func:`append` validates a payload at once (a programming error raises here, in the service
that made it) and stages the event on the session; the session's ``before_commit`` hook
writes every staged event in the same transaction, so a rolled-back transaction (or a
rolled-back savepoint) leaves no event, and a committed one leaves all of them.

Ids are in commit order, so a reader keeping ``id > position`` never passes an event that
commits later. On PostgreSQL the hook takes the transaction-scoped advisory lock of the audit
chain (:mod:`core.audit`) before inserting: the next writer gets its ids only after this
transaction is visible, because PostgreSQL releases the lock after the commit shows. One lock
for both means no lock-order deadlock, and a mutation already holds it for its audit row,
so events cost no extra serialisation. It also sends ``NOTIFY opsure_events``, delivered at
commit. On SQLite a writer holds the database write lock from BEGIN IMMEDIATE to COMMIT.

Example::

    append(session, PolicyIssued(policy_id=7, customer_id=3),
           aggregate=Aggregate("Policy", 7, version=1), actor=Actor.of(principal))
    session.commit()                    # the event row is written and readers are woken
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pydantic
from pydantic_core import PydanticSerializationError
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column
from sqlalchemy.sql.elements import TextClause

from core import clock
from core.db import Base, BigId, UTCDateTime
from core.event_stream.types import (
    Actor,
    Aggregate,
    EventPayload,
    EventType,
    EventTypeError,
    event_type_of,
    resolve_event_type,
)
from core.event_stream.wakeup import after_local_commit

__all__ = [
    "COMMIT_ORDER_LOCK",
    "EVENTS",
    "NOTIFY_CHANNEL",
    "DomainEventRow",
    "StoredEvent",
    "append",
    "head_id",
    "install_correlation_source",
    "read_events",
]

#: The audit chain's advisory lock (``core.audit``): events are numbered under it.
COMMIT_ORDER_LOCK = 0x0A0D17
#: The PostgreSQL channel notified when events commit.
NOTIFY_CHANNEL = "opsure_events"

_STAGED = "opsure.staged_events"
_VERSIONED = "_versioned"
_WRITTEN = "opsure.written_events"


class DomainEventRow(Base):
    """One domain event as stored: numbered in commit order, never updated."""

    __tablename__ = "domain_event"
    # Only the primary key: every secondary index would be written inside the commit-order
    # lock. Readers go by id; pruning and replay-by-time scan ids in order (times grow with them).
    __table_args__ = ({"sqlite_autoincrement": True},)  # SQLite never reuses an id, even after pruning

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(80), nullable=False)
    version: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    aggregate_type: Mapped[str] = mapped_column(String(40), nullable=False)
    aggregate_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    aggregate_version: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    business_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    actor_subject: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str | None] = mapped_column(String(32))
    readers: Mapped[str] = mapped_column(String(200), nullable=False)  # sorted role names, comma-separated
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text, nullable=False)  # the payload's JSON


#: The outbox as a Core table (bulk inserts, range reads, pruning).
EVENTS: Table = cast(Table, DomainEventRow.__table__)
_TABLE = EVENTS
_COLUMNS = tuple(_TABLE.c)


def _no_correlation() -> str | None:
    return None


_correlation: Callable[[], str | None] = _no_correlation


def install_correlation_source(source: Callable[[], str | None]) -> Callable[[], str | None]:
    """Where appended events take their correlation id from (the roof installs the request id); returns the previous one."""
    global _correlation
    previous, _correlation = _correlation, source
    return previous


def append(
    session: Session, payload: EventPayload, *, aggregate: Aggregate, actor: Actor, versioned: Any = None
) -> None:
    """Stage one event in ``session``'s transaction; it is written when (and if) the transaction commits.

    ``versioned``: the aggregate's ORM row; the event then carries the row's ``version`` as
    committed with it (read after the last flush), rather than ``aggregate.version``.
    """
    event_type = event_type_of(payload)
    if aggregate.type != event_type.aggregate:
        raise EventTypeError(f"{event_type.name} is about a {event_type.aggregate}, not a {aggregate.type}")
    try:  # what is stored must read back: catches payloads built without validation
        body = payload.model_dump_json(warnings="error")
        type(payload).model_validate_json(body)
    except (pydantic.ValidationError, PydanticSerializationError) as exc:
        raise EventTypeError(f"{event_type.name}: the payload breaks its schema: {exc}") from exc
    now = clock.now()
    correlation = _correlation()
    row = {
        "type": event_type.name,
        "version": event_type.version,
        "aggregate_type": aggregate.type,
        "aggregate_id": aggregate.id,
        "aggregate_version": aggregate.version,
        "occurred_at": now,
        "business_date": clock.business_date(now),
        "actor_subject": actor.subject[:200],
        "actor_role": actor.role,
        "readers": ",".join(sorted(event_type.visible_to(payload))),
        "correlation_id": correlation[:64] if correlation else None,
        "payload": body,
    }
    if versioned is not None:
        row[_VERSIONED] = versioned
    session.connection()  # the transaction exists from here, so its end (commit or not) settles the event
    session.info.setdefault(_STAGED, []).append((_savepoints(session), row))


def _savepoints(session: Session) -> tuple[SessionTransaction, ...]:
    """The savepoints open in ``session`` now (innermost first)."""
    chain: list[SessionTransaction] = []
    tx = session.get_nested_transaction()
    while tx is not None and tx.nested:
        chain.append(tx)
        tx = tx.parent
    return tuple(chain)


@event.listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    # before_commit also fires when a savepoint is released: write only when the transaction
    # itself commits (Session.commit() releases open savepoints first, then commits it).
    if not session.info.get(_STAGED) or session.in_nested_transaction():
        return
    session.flush()  # row locks first, the commit-order lock last: it is held only to the commit
    rows = [row for _scope, row in session.info.pop(_STAGED)]
    for row in rows:
        if _VERSIONED in row:  # the version the last flush wrote: the one committed with the event
            row["aggregate_version"] = row.pop(_VERSIONED).version
    if session.connection().dialect.name != "postgresql":  # SQLite: locked since BEGIN IMMEDIATE
        session.execute(insert(_TABLE), rows)
    elif len(rows) <= _PG_ONE_TRIP:  # lock, insert and notify in one round trip (the usual case)
        params = {f"{name}_{i}": row[name] for i, row in enumerate(rows) for name in _INSERTED}
        session.execute(_pg_insert(len(rows)), {**params, "lock_key": COMMIT_ORDER_LOCK, "channel": NOTIFY_CHANNEL})
    else:
        session.execute(text("SELECT pg_advisory_xact_lock(:k), pg_notify(:c, '')"),
                        {"k": COMMIT_ORDER_LOCK, "c": NOTIFY_CHANNEL})
        session.execute(insert(_TABLE), rows)
    session.info[_WRITTEN] = len(rows)


_PG_ONE_TRIP = 4  # longer statements are not cached by psycopg: more rows go as an executemany
_INSERTED = ("type", "version", "aggregate_type", "aggregate_id", "aggregate_version", "occurred_at",
             "business_date", "actor_subject", "actor_role", "readers", "correlation_id", "payload")
_PG_TYPES = ("varchar", "smallint", "varchar", "bigint", "integer", "timestamptz", "date", "varchar", "varchar",
             "varchar", "varchar", "text")


@functools.lru_cache(maxsize=_PG_ONE_TRIP)
def _pg_insert(count: int) -> TextClause:
    """INSERT of ``count`` events that first takes the commit-order lock and queues the NOTIFY.

    Every inserted row joins the materialised lock row, so each id (a ``nextval``) is drawn
    after the lock is held.
    """
    values = ", ".join(
        "(" + ", ".join(f"CAST(:{name}_{i} AS {kind})" for name, kind in zip(_INSERTED, _PG_TYPES, strict=True)) + ")"
        for i in range(count)
    )
    columns = ", ".join(_INSERTED)
    return text(
        "WITH commit_order AS MATERIALIZED "
        "(SELECT pg_advisory_xact_lock(:lock_key) AS locked, pg_notify(:channel, '') AS notified) "
        f"INSERT INTO domain_event ({columns}) SELECT v.* FROM (VALUES {values}) AS v({columns}) "
        "CROSS JOIN commit_order"
    )


@event.listens_for(Session, "after_commit")
def _wake_readers(session: Session) -> None:
    if session.info.pop(_WRITTEN, 0):
        after_local_commit()


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    staged = session.info.get(_STAGED)
    if not staged:
        return
    if previous.nested:
        session.info[_STAGED] = [(scope, row) for scope, row in staged if previous not in scope]
    else:
        session.info.pop(_STAGED, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction is over, committed or not
        session.info.pop(_STAGED, None)
        session.info.pop(_WRITTEN, None)


@functools.lru_cache(maxsize=256)
def _roles(readers: str) -> frozenset[str]:
    return frozenset(readers.split(",")) if readers else frozenset()


@functools.lru_cache(maxsize=4096)
def _actor(subject: str, role: str | None) -> Actor:
    return Actor(subject, role)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event read back from the outbox; ``payload`` is decoded on first use."""

    id: int
    type: str
    version: int
    aggregate: Aggregate
    occurred_at: dt.datetime
    business_date: dt.date
    actor: Actor
    readers: frozenset[str]
    correlation_id: str | None
    payload_json: str
    _payload: EventPayload | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StoredEvent:
        """An event from a row of the outbox's columns, in table order (what :func:`read_events` selects)."""
        (id_, type_, version, agg_type, agg_id, agg_version, occurred_at, business_date, subject, role,
         readers, correlation_id, payload) = row
        return cls(id_, type_, version, Aggregate(agg_type, agg_id, agg_version), _aware(occurred_at),
                   business_date, _actor(subject, role), _roles(readers), correlation_id, payload)

    @classmethod
    def from_model(cls, row: DomainEventRow) -> StoredEvent:
        """An event from its ORM row."""
        return cls.from_row([getattr(row, c.key) for c in _COLUMNS])

    @property
    def event_type(self) -> EventType:
        """This event's registration (EventTypeError when this process does not know it)."""
        return resolve_event_type(self.type, self.version)

    @property
    def payload(self) -> EventPayload:
        """The typed payload (decoded once)."""
        if self._payload is None:  # a cache on a frozen object, set once
            object.__setattr__(self, "_payload", self.event_type.payload.model_validate_json(self.payload_json))
        assert self._payload is not None
        return self._payload

    @property
    def business_time(self) -> dt.datetime:
        """When it happened, in the business time zone."""
        return self.occurred_at.astimezone(clock.business_zone())

    def visible_to(self, role: str | None) -> bool:
        """Whether a caller with ``role`` may see this event."""
        return role is not None and role in self.readers


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)  # UTCDateTime did it already


def head_id(session: Session) -> int:
    """The id of the last committed event (0 when there is none)."""
    return int(session.execute(select(func.coalesce(func.max(_TABLE.c.id), 0))).scalar_one())


def read_events(
    session: Session,
    *,
    after: int,
    limit: int,
    types: Collection[str] | None = None,
    until: int | None = None,
) -> Sequence[StoredEvent]:
    """Committed events with ``after < id (<= until)``, oldest first, at most ``limit``."""
    stmt = select(*_COLUMNS).where(_TABLE.c.id > after).order_by(_TABLE.c.id).limit(limit)
    if until is not None:
        stmt = stmt.where(_TABLE.c.id <= until)
    if types is not None:
        stmt = stmt.where(_TABLE.c.type.in_(sorted(types)))
    return [StoredEvent.from_row(row) for row in session.execute(stmt).all()]
