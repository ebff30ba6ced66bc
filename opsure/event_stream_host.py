"""Hosting the event stream in this process: wake-ups, the tail, the durable consumers, pruning.

Every ``opsure serve`` worker and ``opsure worker`` starts one host. It listens for other
processes' commits (PostgreSQL ``LISTEN``, or Redis pub/sub when ``OPSURE_REDIS_URL`` is
set; always a poll every ``OPSURE_EVENT_POLL_SECONDS``), runs the process tail behind
GraphQL subscriptions, and, when asked to, a runner per registered consumer (each leads in
one process at a time) and hourly pruning (``OPSURE_EVENT_RETENTION_DAYS``).

Example::

    host = EventStreamHost(runtime, run_consumers=True)
    host.start()
    ...
    host.close()
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from typing import Any

from sqlalchemy.engine import Engine

from core.db import make_engine, make_session_factory
from core.event_stream import (
    ConsumerRunner,
    EventTail,
    install_correlation_source,
    install_process_tail,
    process_tail,
    registered_consumers,
    wakeup,
)
from core.event_stream.retention import prune_events
from core.event_stream.wakeup import PgListener, RedisListener, install_redis_publisher
from core.leadership import leadership
from opsure.logs import request_id_var
from opsure.runtime import Runtime

__all__ = ["EVENT_MODULES", "EventStreamHost", "load_event_modules"]

log = logging.getLogger("opsure.events")

#: Modules that register event types and consumers (each domain adds its ``events`` module here).
EVENT_MODULES: tuple[str, ...] = (
    "resolvers.policies.events",
    "resolvers.claims.events",
    "partners.events",
    "ledger.events",
    "resolvers.investigations.events",
    "resolvers.knowledge.events",
    "resolvers.payments.events",
    "resolvers.payments.refunds",  # pays the refund a policy's cancellation or surrender owes
    "resolvers.advances.events",
    "resolvers.service.events",
    "partners.webhooks",  # the consumer turning partner events into webhook deliveries
    "resolvers.operations.events",  # claim payments as conversions of claim-flow experiments
    "resolvers.operations.tags.events",  # tags, segments, classes; policy events re-evaluate a customer's tags
    "resolvers.analytics.events",  # policy and claim changes into the metric rollups
)

PRUNE_EVERY_SECONDS = 3600.0


def load_event_modules() -> None:
    """Import every module that registers event types and consumers."""
    for name in EVENT_MODULES:
        importlib.import_module(name)


install_correlation_source(request_id_var.get)  # events carry the request id that made them


def _own_engine(engine: Engine) -> Engine | None:
    """A small pool of the stream's own for the tail and the consumers (None: share ``engine``).

    An in-memory SQLite database exists only on the shared connection: the stream uses that one.
    """
    url = engine.url.render_as_string(hide_password=False)
    if url in {"sqlite://", "sqlite:///:memory:"}:
        return None
    return make_engine(url, pool_size=2, max_overflow=8)


class EventStreamHost:
    """Owns this process's listener, tail, consumer runners and pruning thread."""

    def __init__(self, runtime: Runtime, *, run_consumers: bool) -> None:
        self.runtime = runtime
        self.run_consumers = run_consumers
        settings = runtime.settings
        # The tail and the consumers read and write on connections of their own: their polling
        # never waits for (nor shows up in) the request pool.
        self._own_engine = _own_engine(runtime.engine)
        self._engine = self._own_engine or runtime.engine
        self._sessions = make_session_factory(self._own_engine) if self._own_engine else runtime.session_factory
        self.tail = EventTail(self._sessions, wakeup, poll_seconds=settings.event_poll_seconds)
        self.listener: PgListener | RedisListener | None = None
        self.runners: list[ConsumerRunner] = []
        self._redis: Any = None
        self._stop = threading.Event()
        self._pruner: threading.Thread | None = None

    def start(self) -> None:
        """Start listening, the tail, and (if asked) the consumers and pruning."""
        load_event_modules()
        settings = self.runtime.settings
        engine = self.runtime.engine
        if settings.redis_url:
            import redis

            self._redis = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
            install_redis_publisher(self._redis)
            self.listener = RedisListener(wakeup, settings.redis_url)
        elif engine.dialect.name == "postgresql":
            from core.event_stream.outbox import NOTIFY_CHANNEL

            conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.listener = PgListener(wakeup, conninfo, NOTIFY_CHANNEL)
        if self.listener is not None:
            self.listener.start()
        self.tail.start()
        install_process_tail(self.tail)
        if self.run_consumers:
            for consumer in registered_consumers():
                runner = ConsumerRunner(consumer, self._engine, self._sessions, settings.data_dir, wakeup,
                                        poll_seconds=settings.event_poll_seconds)
                runner.start()
                self.runners.append(runner)
            self._pruner = threading.Thread(target=self._prune_loop, name="opsure-events-prune", daemon=True)
            self._pruner.start()

    def _prune_loop(self) -> None:
        settings = self.runtime.settings
        while not self._stop.wait(PRUNE_EVERY_SECONDS):
            try:
                with leadership(self.runtime.engine, settings.data_dir, "events:prune") as lead:
                    if lead is not None:
                        pruned = prune_events(self.runtime.session_factory,
                                              retention_days=settings.event_retention_days,
                                              past_consumers=settings.event_prune_past_consumers)
                        log.info("events pruned", extra={"events": pruned})
            except Exception:
                log.exception("pruning events failed; retried next hour")

    def close(self) -> None:
        """Stop everything this host started."""
        self._stop.set()
        for runner in self.runners:
            runner.stop()
        self.runners.clear()
        if self._pruner is not None:
            self._pruner.join(timeout=30)
            self._pruner = None
        with contextlib.suppress(RuntimeError):
            if process_tail() is self.tail:
                install_process_tail(None)
        self.tail.stop()
        if self._own_engine is not None:
            self._own_engine.dispose()
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        if self._redis is not None:
            install_redis_publisher(None)
            self._redis.close()
            self._redis = None
