"""Waking event readers when events commit: in this process, across processes, or by timer.

A wake-up carries nothing: readers always read the outbox table, so a lost wake-up only
delays them until their next poll. Commits in this process wake :data:`wakeup` directly;
other processes' commits arrive through a listener thread: PostgreSQL ``LISTEN`` (the
outbox sends ``NOTIFY`` inside the committing transaction), or Redis pub/sub when a Redis
URL is configured (every committing process that installed :func:`install_redis_publisher`
publishes after commit).

Example::

    seen = wakeup.generation
    ...                                     # read what is there
    seen = wakeup.wait(seen, timeout=1.0)   # until a commit anywhere, or a second
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

__all__ = [
    "REDIS_CHANNEL",
    "PgListener",
    "RedisListener",
    "Wakeup",
    "after_local_commit",
    "install_redis_publisher",
    "wakeup",
]

log = logging.getLogger("opsure.events")

#: The Redis channel events are announced on.
REDIS_CHANNEL = "opsure:events"


class Wakeup:
    """A generation counter readers wait on; every notify moves it on and wakes them all."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        """The current generation (read it before reading the table, wait on it after)."""
        with self._cond:
            return self._generation

    def notify(self) -> None:
        """Something committed: wake every waiter."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the generation differs from ``seen`` or ``timeout`` passes; returns it."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout)
            return self._generation


#: The process's wake-up: local commits and the listeners notify it.
wakeup = Wakeup()

_publisher: tuple[Any, str] | None = None


def install_redis_publisher(client: Any | None, channel: str = REDIS_CHANNEL) -> None:
    """Announce this process's commits on Redis ``channel`` (None: stop announcing)."""
    global _publisher
    _publisher = (client, channel) if client is not None else None


def after_local_commit() -> None:
    """Called after a transaction that wrote events commits in this process."""
    wakeup.notify()
    publisher = _publisher
    if publisher is not None:
        try:
            publisher[0].publish(publisher[1], b"")
        except Exception as exc:  # readers elsewhere poll; never fail a committed transaction
            log.warning("redis announce failed: %s", exc)


class _ListenerThread:
    """A daemon thread feeding :data:`wakeup` from another process's announcements."""

    name = "opsure-events-listener"

    def __init__(self, target: Wakeup) -> None:
        self.target = target
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        """Start listening (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop listening and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except Exception as exc:
                failures += 1
                self.connected.clear()
                log.warning("event listener lost its connection: %s", exc)
                self._stop.wait(min(30.0, 0.5 * 2 ** min(failures, 6)))

    def _listen(self) -> None:
        raise NotImplementedError


class PgListener(_ListenerThread):
    """``LISTEN`` on a dedicated PostgreSQL connection (libpq URL)."""

    name = "opsure-events-pg-listener"

    def __init__(self, target: Wakeup, conninfo: str, channel: str) -> None:
        super().__init__(target)
        self.conninfo = conninfo
        self.channel = channel

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.connected.set()
            self.target.notify()  # whatever committed while we were away is read now
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=1.0):
                    self.target.notify()


class RedisListener(_ListenerThread):
    """A Redis pub/sub subscription to the announcement channel."""

    name = "opsure-events-redis-listener"

    def __init__(self, target: Wakeup, url: str, channel: str = REDIS_CHANNEL) -> None:
        super().__init__(target)
        self.url = url
        self.channel = channel

    def _listen(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=5, socket_timeout=10)
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self.channel)
            pubsub.get_message(timeout=1.0)  # the subscription confirmation
            self.connected.set()
            self.target.notify()
            while not self._stop.is_set():
                if pubsub.get_message(timeout=1.0) is not None:
                    self.target.notify()
        finally:
            with contextlib.suppress(Exception):
                pubsub.close()
            client.close()
