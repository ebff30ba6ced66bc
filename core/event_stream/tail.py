"""The process's tail of the stream: one reader feeding every in-memory subscriber.

GraphQL subscriptions (and anything else that wants "events from now on, in this process")
subscribe here. One thread per process reads new events from the outbox when woken (a local
commit, a PostgreSQL notification, a Redis announcement) or every ``poll_seconds``, and
hands each to the subscribers whose filter it matches, so N subscriptions cost one reader.
A subscriber sees every matching event committed after it subscribed, in id order, whichever
process committed it. One that falls ``queue_size`` events behind is ended with
:class:`SubscriberLagged` rather than silently missing events.

Example::

    tail = EventTail(session_factory, wakeup)
    tail.start()
    async for ev in tail.subscribe(types={"policy.issued"}, role="customer"):
        print(ev.id, ev.payload)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from core.db import read_only_session
from core.event_stream.outbox import StoredEvent, head_id, read_events
from core.event_stream.wakeup import Wakeup

__all__ = ["EventTail", "SubscriberLagged", "install_process_tail", "process_tail"]

log = logging.getLogger("opsure.events")


class SubscriberLagged(Exception):
    """A subscriber fell too far behind; it was ended rather than fed a stream with holes."""


_LAGGED = object()


@dataclass(eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[object]
    after: int
    types: frozenset[str] | None
    aggregate_type: str | None
    role: str | None
    limit: int
    lagged: bool = field(default=False)

    def wants(self, ev: StoredEvent) -> bool:
        return (
            ev.id > self.after
            and (self.types is None or ev.type in self.types)
            and (self.aggregate_type is None or ev.aggregate.type == self.aggregate_type)
            and (self.role is None or ev.visible_to(self.role))
        )

    def offer(self, events: list[StoredEvent]) -> None:
        """Runs on the subscriber's loop."""
        for ev in events:
            if self.lagged:
                return
            if self.queue.qsize() >= self.limit:
                self.lagged = True
                self.queue.put_nowait(_LAGGED)
                return
            self.queue.put_nowait(ev)


class EventTail:
    """Reads the outbox once per process and fans events out to asyncio subscribers."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        wake: Wakeup,
        *,
        poll_seconds: float = 1.0,
        batch: int = 500,
        queue_size: int = 1000,
    ) -> None:
        self.session_factory = session_factory
        self.wake = wake
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._subscribers: set[_Subscriber] = set()
        self._position = 0
        self._counts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def position(self) -> int:
        """The id of the last event read."""
        with self._lock:
            return self._position

    def counts(self) -> dict[str, int]:
        """Events read since this tail started, by type (``/metrics`` shows them)."""
        with self._lock:
            return dict(self._counts)

    @property
    def running(self) -> bool:
        """Whether the reader thread runs."""
        return self._thread is not None

    def start(self) -> None:
        """Start reading from the current head (idempotent); a database down now is retried by the reader."""
        if self._thread is not None:
            return
        try:
            self._find_head()
        except Exception:
            log.exception("event tail could not read the outbox's head; the reader retries")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="opsure-events-tail", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the reader thread."""
        self._stop.set()
        self.wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def subscriber_count(self, types: Collection[str] | None = None) -> int:
        """How many subscribers listen now (to any of ``types``, if given)."""
        with self._lock:
            return sum(1 for s in self._subscribers if types is None or s.types is None or s.types & set(types))

    async def subscribe(
        self,
        *,
        types: Collection[str] | None = None,
        aggregate_type: str | None = None,
        role: str | None = None,
    ) -> AsyncIterator[StoredEvent]:
        """Yield matching events committed after this call, until the caller stops.

        ``role``: only events that role may see. Raises :class:`SubscriberLagged` when the
        caller falls ``queue_size`` events behind.
        """
        if self._thread is None:
            raise RuntimeError("the event tail is not running in this process")
        sub = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(), 0,
                          frozenset(types) if types is not None else None, aggregate_type, role, self.queue_size)
        # The database's head, not only what the reader has read: a lagging reader would otherwise hand
        # the new subscriber events committed before it subscribed.
        head = await asyncio.to_thread(self._database_head)
        with self._lock:
            sub.after = max(self._position, head)
            self._subscribers.add(sub)
        try:
            while True:
                item = await sub.queue.get()
                if item is _LAGGED:
                    raise SubscriberLagged(f"more than {self.queue_size} events behind")
                assert isinstance(item, StoredEvent)
                yield item
        finally:
            with self._lock:
                self._subscribers.discard(sub)

    def _database_head(self) -> int:
        try:
            with read_only_session(self.session_factory) as session:
                return head_id(session)
        except Exception:  # the database is down: what the reader has read is all we know
            log.exception("event tail could not read the outbox's head for a new subscriber")
            return 0

    def _find_head(self) -> None:
        with read_only_session(self.session_factory) as session:
            head = head_id(session)
        with self._lock:
            # Subscribers that came while the head was unknown start from it too.
            self._position = head
            for sub in self._subscribers:
                sub.after = max(sub.after, head)
            self._started_at_head = True

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            seen = self.wake.generation
            try:
                if not self._started_at_head:
                    self._find_head()
                with read_only_session(self.session_factory) as session:
                    events = read_events(session, after=self._position, limit=self.batch)
                failures = 0
            except Exception:
                failures += 1
                log.exception("event tail could not read the outbox")
                self._stop.wait(min(30.0, self.poll_seconds * 2 ** min(failures, 5)))
                continue
            if events:
                self._dispatch(list(events))
                continue
            self.wake.wait(seen, self.poll_seconds)

    def _dispatch(self, events: list[StoredEvent]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
            self._position = events[-1].id
            self._counts.update(ev.type for ev in events)
        for sub in subscribers:
            mine = [ev for ev in events if sub.wants(ev)]
            if mine:
                with contextlib.suppress(RuntimeError):  # the loop closed: the subscriber is gone
                    sub.loop.call_soon_threadsafe(sub.offer, mine)


_process_tail: EventTail | None = None


def install_process_tail(tail: EventTail | None) -> EventTail | None:
    """Make ``tail`` the one this process's live subscribers read (the host installs it); returns the previous."""
    global _process_tail
    previous, _process_tail = _process_tail, tail
    return previous


def process_tail() -> EventTail:
    """The tail this process runs (``opsure serve`` starts one); RuntimeError when none runs."""
    tail = _process_tail
    if tail is None:
        raise RuntimeError("no event tail runs in this process (opsure serve starts one)")
    return tail
