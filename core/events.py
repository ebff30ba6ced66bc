"""Domain events published only after the transaction that raised them commits.

Services call ``emit(session, topic, payload)``; subscribers (GraphQL subscriptions, the
worker) receive the event from the process broker once the session commits, and never
for a transaction that rolled back.

Example::

    emit(session, "policy", {"id": 7, "kind": "issued"})
    session.commit()                      # subscribers of "policy" now get the event
    async for event in broker.subscribe("policy"): ...
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

__all__ = ["Broker", "DomainEvent", "broker", "emit"]

_PENDING = "opsure.pending_events"


@dataclass(frozen=True)
class DomainEvent:
    """A fact that happened: a topic and a JSON-ready payload."""

    topic: str
    payload: dict[str, Any] = field(default_factory=dict)


class Broker:
    """In-process pub/sub fanning committed events out to asyncio subscribers."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[DomainEvent]]]] = {}
        self._queue_size = queue_size

    def publish(self, ev: DomainEvent) -> None:
        """Deliver ``ev`` to every subscriber of its topic (thread-safe; never blocks)."""
        with self._lock:
            targets = list(self._subscribers.get(ev.topic, ()))
        for loop, queue in targets:
            with contextlib.suppress(RuntimeError):  # loop closed: subscriber is gone
                loop.call_soon_threadsafe(_offer, queue, ev)

    async def subscribe(self, topic: str) -> AsyncIterator[DomainEvent]:
        """Yield events of ``topic`` committed after this call, until the caller stops."""
        queue: asyncio.Queue[DomainEvent] = asyncio.Queue(self._queue_size)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.setdefault(topic, set()).add(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._subscribers.get(topic, set()).discard(entry)

    def subscriber_count(self, topic: str) -> int:
        """How many subscribers listen to ``topic`` now."""
        with self._lock:
            return len(self._subscribers.get(topic, ()))


def _offer(queue: asyncio.Queue[DomainEvent], ev: DomainEvent) -> None:
    with contextlib.suppress(asyncio.QueueFull):  # a slow subscriber misses events, not us
        queue.put_nowait(ev)


broker = Broker()


def emit(session: Session, topic: str, payload: dict[str, Any]) -> None:
    """Queue an event on ``session``; it is published when (and if) the session commits."""
    session.info.setdefault(_PENDING, []).append(DomainEvent(topic, payload))


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    for ev in session.info.pop(_PENDING, []):
        broker.publish(ev)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
