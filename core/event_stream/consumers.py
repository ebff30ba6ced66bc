"""Durable consumers: a named reader of the stream with a stored position.

A consumer's handler runs inside the transaction that advances its position, one
transaction per batch. A handler that writes to this database therefore applies each event
exactly once: a crash (even kill -9) in the middle of a batch rolls back its writes together
with the position, and the batch is delivered again. A handler with effects elsewhere (an
HTTP call) is delivered at least once and dedupes by ``event.id``.

A handler that raises rolls its batch back; the events before the failing one are applied
again and committed, and the failing event is retried with exponential backoff. After
``max_attempts`` it becomes a dead letter (with its error) and the consumer moves on; other
consumers never wait for it. ``opsure events dead-letters --retry ID`` asks the running
consumer to try it again. :func:`replay` moves a consumer back to a position (calling its
``reset`` in the same transaction, so derived state can be dropped and rebuilt). Each
consumer runs in one process at a time (:mod:`core.leadership`); its position update is
also fenced, so a stale leader's batch is rolled back rather than applied twice.

Example::

    def count_claims(session: Session, ev: StoredEvent) -> None:
        session.execute(insert(ClaimCount).values(day=ev.business_date) ...)

    register_consumer(Consumer("analytics.claims", count_claims, types={"claim.reported"}))
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import threading
import time
import traceback
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core import clock
from core.db import Base, BigId, UTCDateTime, transaction, value_enum
from core.event_stream.outbox import DomainEventRow, StoredEvent, head_id, read_events
from core.event_stream.wakeup import Wakeup
from core.leadership import leadership

__all__ = [
    "Consumer",
    "ConsumerRow",
    "ConsumerRunner",
    "DeadLetter",
    "DeadLetterState",
    "Handler",
    "PositionMoved",
    "RoundResult",
    "consumer_named",
    "register_consumer",
    "registered_consumers",
    "replay",
    "request_retry",
    "retry_dead_letters",
    "run_once",
]

log = logging.getLogger("opsure.events")

Handler = Callable[[Session, StoredEvent], None]


@dataclass(frozen=True)
class Consumer:
    """A named consumer: its handler, the event types it reads, and how it retries."""

    name: str
    handle: Handler
    types: frozenset[str] | None = None  # None: every event
    batch_size: int = 100
    max_attempts: int = 5
    backoff_seconds: float = 0.5  # the first retry's delay; doubles with each attempt
    max_backoff_seconds: float = 60.0
    start_from: Literal["beginning", "now"] = "beginning"  # where a new consumer starts
    reset: Callable[[Session, int], None] | None = None  # on replay: drop state derived from events after the position

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 80:
            raise ValueError("a consumer name has 1 to 80 characters")
        if self.types is not None and not isinstance(self.types, frozenset):
            object.__setattr__(self, "types", frozenset(self.types))

    def delay(self, attempts: int) -> float:
        """Seconds to wait before attempt ``attempts + 1``."""
        return float(min(self.max_backoff_seconds, self.backoff_seconds * 2 ** max(0, attempts - 1)))


class ConsumerRow(Base):
    """A consumer's stored position and the event it is failing on, if any."""

    __tablename__ = "event_consumer"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    failing_event_id: Mapped[int | None] = mapped_column(BigInteger)
    failing_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeadLetterState(enum.StrEnum):
    """A dead letter waits (``dead``), is asked to run again (``retry``), or went through (``resolved``)."""

    DEAD = "dead"
    RETRY = "retry"
    RESOLVED = "resolved"


class DeadLetter(Base):
    """An event a consumer gave up on after its retries, with the last error."""

    __tablename__ = "event_dead_letter"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    event_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    error: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[DeadLetterState] = mapped_column(value_enum(DeadLetterState, "dead_letter_state", length=16),
                                                   nullable=False, default=DeadLetterState.DEAD)
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


_lock = threading.Lock()
_consumers: dict[str, Consumer] = {}


def register_consumer(consumer: Consumer) -> Consumer:
    """Make ``consumer`` known to every process that runs consumers (idempotent for the same one)."""
    with _lock:
        known = _consumers.get(consumer.name)
        if known is not None and known != consumer:
            raise ValueError(f"another consumer is registered as {consumer.name!r}")
        _consumers[consumer.name] = consumer
    return consumer


def unregister_consumer(name: str) -> None:
    """Forget a consumer (tests)."""
    with _lock:
        _consumers.pop(name, None)


def registered_consumers() -> list[Consumer]:
    """Every registered consumer, by name."""
    with _lock:
        return sorted(_consumers.values(), key=lambda c: c.name)


def consumer_named(name: str) -> Consumer | None:
    """The registered consumer called ``name``, if any."""
    with _lock:
        return _consumers.get(name)


class PositionMoved(Exception):
    """The stored position changed under a running batch (a replay, or a stale leader)."""


@dataclass(frozen=True)
class RoundResult:
    """What one round did: events handled, the position after it, and any failure."""

    handled: int
    position: int
    caught_up: bool
    failed_event: int | None = None
    dead_lettered: int | None = None
    retry_in: float | None = None


def _error_text(exc: BaseException) -> str:
    lines = traceback.format_exception(exc)
    return "".join(lines)[-4000:]


def _ensure_row(session: Session, consumer: Consumer) -> ConsumerRow:
    """The consumer's row, locked for this transaction (created on first use)."""
    row = session.execute(
        select(ConsumerRow).where(ConsumerRow.name == consumer.name).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        start = head_id(session) if consumer.start_from == "now" else 0
        try:
            with session.begin_nested():  # two processes may both start a new consumer: one row wins
                row = ConsumerRow(name=consumer.name, position=start, updated_at=clock.now(), failing_attempts=0)
                session.add(row)
                session.flush()
        except IntegrityError:
            row = session.execute(
                select(ConsumerRow).where(ConsumerRow.name == consumer.name).with_for_update()
            ).scalar_one()
    return row


def ensure_consumer(session: Session, consumer: Consumer) -> int:
    """Create the consumer's row if it has none; returns its position."""
    return _ensure_row(session, consumer).position


def _advance(session: Session, name: str, old: int, new: int) -> None:
    done = session.execute(
        update(ConsumerRow)
        .where(ConsumerRow.name == name, ConsumerRow.position == old)
        .values(position=new, failing_event_id=None, failing_attempts=0, last_error=None, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise PositionMoved(f"{name}: position moved from {old}")


class _HandlerFailed(Exception):
    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def run_once(session_factory: sessionmaker[Session], consumer: Consumer) -> RoundResult:
    """Deliver one batch to ``consumer`` (the caller leads it); returns what happened."""
    try:
        with transaction(session_factory) as session:
            row = _ensure_row(session, consumer)
            start = row.position
            head = head_id(session)
            # No upper bound in the query (a planner with stale statistics sorts the whole range
            # for one); rows past ``head`` are committed too, and every id below them is visible.
            events = read_events(session, after=start, limit=consumer.batch_size, types=consumer.types)
            for index, ev in enumerate(events):
                try:
                    consumer.handle(session, ev)
                except Exception as exc:
                    raise _HandlerFailed(index, exc) from exc
            # Fewer than a batch: nothing else up to head is for us (other types), so skip to it.
            last = events[-1].id if events else start
            end = max(start, head, last) if len(events) < consumer.batch_size else last
            if end != start:
                _advance(session, consumer.name, start, end)
            return RoundResult(len(events), end, caught_up=end >= head)
    except PositionMoved as exc:
        log.info("consumer position moved; starting again: %s", exc)
        return RoundResult(0, -1, caught_up=False)
    except _HandlerFailed as failed:
        return _after_failure(session_factory, consumer, start, list(events), failed)


def _after_failure(
    session_factory: sessionmaker[Session],
    consumer: Consumer,
    start: int,
    events: list[StoredEvent],
    failed: _HandlerFailed,
) -> RoundResult:
    bad = events[failed.index]
    done = events[: failed.index]
    position = start
    try:
        if done:  # apply again what went through before the failure (its work was rolled back)
            with transaction(session_factory) as session:
                _ensure_row(session, consumer)
                for ev in done:
                    consumer.handle(session, ev)
                _advance(session, consumer.name, start, done[-1].id)
            position = done[-1].id
        with transaction(session_factory) as session:
            row = _ensure_row(session, consumer)
            if row.position != position:
                raise PositionMoved(f"{consumer.name}: position moved from {position}")
            attempts = row.failing_attempts + 1 if row.failing_event_id == bad.id else 1
            error = _error_text(failed.error)
            if attempts >= consumer.max_attempts:
                session.add(DeadLetter(consumer=consumer.name, event_id=bad.id, attempts=attempts, error=error,
                                       state=DeadLetterState.DEAD, failed_at=clock.now()))
                _advance(session, consumer.name, position, bad.id)
                log.error("event %s dead-lettered by %s after %s attempts", bad.id, consumer.name, attempts)
                return RoundResult(len(done), bad.id, caught_up=False, failed_event=bad.id, dead_lettered=bad.id)
            row.failing_event_id = bad.id
            row.failing_attempts = attempts
            row.last_error = error
            row.updated_at = clock.now()
        log.warning("consumer %s failed on event %s (attempt %s)", consumer.name, bad.id, attempts)
        return RoundResult(len(done), position, caught_up=False, failed_event=bad.id,
                           retry_in=consumer.delay(attempts))
    except Exception as exc:  # a flaky handler, or a replay: the next round starts from the stored position
        log.warning("consumer %s: could not settle a failed batch: %s", consumer.name, exc)
        return RoundResult(0, position, caught_up=False, failed_event=bad.id, retry_in=consumer.delay(1))


def retry_dead_letters(session_factory: sessionmaker[Session], consumer: Consumer) -> int:
    """Run the dead letters asked to retry once more; returns how many went through."""
    with session_factory() as session:
        waiting = session.execute(
            select(DeadLetter.id, DeadLetter.event_id).where(
                DeadLetter.consumer == consumer.name, DeadLetter.state == DeadLetterState.RETRY
            ).order_by(DeadLetter.event_id)
        ).all()
    resolved = 0
    for letter_id, event_id in waiting:
        try:
            with transaction(session_factory) as session:
                found = session.get(DomainEventRow, event_id)
                if found is None:
                    raise LookupError(f"event {event_id} was pruned")
                consumer.handle(session, StoredEvent.from_model(found))
                letter = session.get(DeadLetter, letter_id, with_for_update=True)
                if letter is not None:
                    letter.state = DeadLetterState.RESOLVED
                    letter.resolved_at = clock.now()
            resolved += 1
        except Exception as exc:
            with transaction(session_factory) as session:
                letter = session.get(DeadLetter, letter_id, with_for_update=True)
                if letter is not None:
                    letter.state = DeadLetterState.DEAD
                    letter.attempts += 1
                    letter.error = _error_text(exc)
                    letter.failed_at = clock.now()
    return resolved


def request_retry(session: Session, letter_id: int) -> DeadLetter:
    """Ask the consumer that owns dead letter ``letter_id`` to run it again."""
    letter = session.get(DeadLetter, letter_id, with_for_update=True)
    if letter is None:
        raise LookupError(f"no dead letter {letter_id}")
    if letter.state is DeadLetterState.RESOLVED:
        raise ValueError(f"dead letter {letter_id} is resolved already")
    letter.state = DeadLetterState.RETRY
    return letter


def replay(
    session: Session,
    name: str,
    *,
    from_id: int | None = None,
    from_time: dt.datetime | None = None,
) -> int:
    """Move consumer ``name`` back so it reads again from event ``from_id`` (or the first at/after ``from_time``).

    Returns the new position. The consumer's ``reset`` (if registered here) runs in the same
    transaction, which also holds the consumer's row so a running batch cannot interleave.
    """
    if (from_id is None) == (from_time is None):
        raise ValueError("give exactly one of from_id and from_time")
    row = session.execute(select(ConsumerRow).where(ConsumerRow.name == name).with_for_update()).scalar_one_or_none()
    consumer = consumer_named(name)
    if row is None:
        if consumer is None:
            raise LookupError(f"no consumer {name!r}")
        row = _ensure_row(session, consumer)
    if from_id is not None:
        position = max(0, from_id - 1)
    else:
        first = session.execute(
            select(func.min(DomainEventRow.id)).where(DomainEventRow.occurred_at >= from_time)
        ).scalar_one_or_none()
        position = (first - 1) if first is not None else head_id(session)
    if consumer is not None and consumer.reset is not None:
        consumer.reset(session, position)
    row.position = position
    row.failing_event_id = None
    row.failing_attempts = 0
    row.last_error = None
    row.updated_at = clock.now()
    session.flush()
    return position


@dataclass
class ConsumerRunner:
    """Runs one consumer in a daemon thread while this process leads it."""

    consumer: Consumer
    engine: Engine
    session_factory: sessionmaker[Session]
    data_dir: Path
    wake: Wakeup
    poll_seconds: float = 1.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    leading: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"opsure-consumer-{self.consumer.name}",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the current batch."""
        self._stop.set()
        self.wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        name = f"consumer:{self.consumer.name}"
        while not self._stop.is_set():
            try:
                with leadership(self.engine, self.data_dir, name) as lead:
                    if lead is None:
                        self._stop.wait(max(self.poll_seconds, 5.0))
                        continue
                    self.leading.set()
                    log.info("consumer %s: leading", self.consumer.name)
                    self._lead(lead.alive)
            except Exception:
                log.exception("consumer %s stopped leading after an error", self.consumer.name)
                self._stop.wait(5.0)
            finally:
                self.leading.clear()

    def _lead(self, alive: Callable[[], bool]) -> None:
        last_retry_check = -1e9
        while not self._stop.is_set() and alive():
            seen = self.wake.generation
            now = time.monotonic()
            if now - last_retry_check >= self.poll_seconds:
                retry_dead_letters(self.session_factory, self.consumer)
                last_retry_check = now
            result = run_once(self.session_factory, self.consumer)
            if result.retry_in is not None:
                self._stop.wait(result.retry_in)
            elif result.caught_up:
                self.wake.wait(seen, self.poll_seconds)


def drain(session_factory: sessionmaker[Session], consumer: Consumer, *, max_rounds: int = 1_000_000) -> int:
    """Run ``consumer`` until it has caught up, skipping retry waits (tests, ``opsure worker --once``).

    Returns the events handled. The caller makes sure no other process leads the consumer.
    """
    handled = 0
    for _ in range(max_rounds):
        result = run_once(session_factory, consumer)
        handled += result.handled
        if result.caught_up:
            return handled
    return handled


def positions(session: Session, names: Collection[str] | None = None) -> Sequence[ConsumerRow]:
    """Stored consumer rows (all, or those named), by name."""
    stmt = select(ConsumerRow).order_by(ConsumerRow.name)
    if names is not None:
        stmt = stmt.where(ConsumerRow.name.in_(sorted(names)))
    return session.execute(stmt).scalars().all()
