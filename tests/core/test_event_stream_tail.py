"""The process tail: one reader, many in-memory subscribers; wake-ups from this and other processes."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import redis
from sqlalchemy.engine import Engine

from core.db import transaction
from core.event_stream import Aggregate, EventTail, StoredEvent, SubscriberLagged, append, wakeup
from core.event_stream.outbox import NOTIFY_CHANNEL
from core.event_stream.wakeup import PgListener, RedisListener, Wakeup, install_redis_publisher
from tests.event_factories import ACTOR, TICKED, WidgetScored, append_ticks

pytestmark = pytest.mark.timeout(60)

REDIS_URL = "redis://127.0.0.1:6379/11"


async def _collect(tail: EventTail, count: int, ready: threading.Event, **filters: Any) -> list[StoredEvent]:
    got: list[StoredEvent] = []
    stream = tail.subscribe(**filters)
    first = asyncio.ensure_future(anext(stream))  # subscribes, then waits for the first event
    while tail.subscriber_count() == 0:
        await asyncio.sleep(0.005)
    ready.set()
    got.append(await asyncio.wait_for(first, 20))
    while len(got) < count:
        got.append(await asyncio.wait_for(anext(stream), 20))
    await stream.aclose()
    return got


def _subscribers(tail: EventTail, producer: Callable[[], None], counts: dict[str, tuple[int, dict[str, Any]]]
                 ) -> dict[str, list[StoredEvent]]:
    """Run one subscriber per entry of ``counts`` on an event loop, then ``producer`` once all listen."""
    results: dict[str, list[StoredEvent]] = {}
    readies = {name: threading.Event() for name in counts}

    async def main() -> None:
        tasks = {name: asyncio.ensure_future(_collect(tail, n, readies[name], **f)) for name, (n, f) in counts.items()}
        while not all(r.is_set() for r in readies.values()):
            await asyncio.sleep(0.005)
        await asyncio.get_running_loop().run_in_executor(None, producer)
        for name, task in tasks.items():
            results[name] = await task

    asyncio.run(main())
    return results


def test_one_tail_feeds_every_subscriber_what_it_may_see(session_factory: Any) -> None:
    append_ticks(session_factory, 3)  # before the tail starts: never delivered
    tail = EventTail(session_factory, Wakeup(), poll_seconds=0.05)
    tail.start()
    try:
        def produce() -> None:
            with transaction(session_factory) as s:
                append(s, WidgetScored(widget_id=1, score=Decimal("0.9")), aggregate=Aggregate("Widget", 1),
                       actor=ACTOR)
            append_ticks(session_factory, 5, widget_id=2, per_tx=2)

        got = _subscribers(tail, produce, {
            "all": (6, {}),
            "ticks": (5, {"types": {TICKED.name}}),
            "customer": (5, {"role": "customer"}),  # the risk score is not for customers
            "adjuster": (6, {"role": "adjuster"}),
        })
    finally:
        tail.stop()
    assert [e.type for e in got["all"]] == ["test.widget_scored"] + [TICKED.name] * 5
    assert [e.id for e in got["all"]] == sorted(e.id for e in got["all"])
    assert [e.payload.n for e in got["ticks"]] == [1, 2, 3, 4, 5]  # type: ignore[attr-defined]
    assert [e.id for e in got["customer"]] == [e.id for e in got["ticks"]]
    assert [e.id for e in got["adjuster"]] == [e.id for e in got["all"]]
    assert tail.subscriber_count() == 0  # subscribers leave when they stop


def test_a_subscriber_that_falls_behind_is_ended_not_fed_holes(session_factory: Any) -> None:
    tail = EventTail(session_factory, Wakeup(), poll_seconds=0.05, queue_size=5)
    tail.start()

    async def main() -> list[int]:
        seen: list[int] = []
        stream = tail.subscribe()
        first = asyncio.ensure_future(anext(stream))
        while tail.subscriber_count() == 0:
            await asyncio.sleep(0.005)
        await asyncio.get_running_loop().run_in_executor(None, lambda: append_ticks(session_factory, 12, per_tx=12))
        seen.append((await asyncio.wait_for(first, 20)).id)
        with pytest.raises(SubscriberLagged):
            while True:
                seen.append((await asyncio.wait_for(anext(stream), 20)).id)
        return seen

    try:
        seen = asyncio.run(main())
    finally:
        tail.stop()
    assert seen == list(range(seen[0], seen[0] + 5))  # the first five, in order, then the end


def test_subscribing_without_a_running_tail_is_an_error(session_factory: Any) -> None:
    async def main() -> None:
        await anext(EventTail(session_factory, Wakeup()).subscribe())

    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(main())


def _woken(wake: Wakeup, action: Callable[[], None], timeout: float = 10.0) -> float:
    """Seconds from ``action`` until ``wake`` moves on."""
    seen = wake.generation
    start = time.monotonic()
    action()
    while wake.wait(seen, 0.05) == seen:
        assert time.monotonic() - start < timeout, "no wake-up"
    return time.monotonic() - start


def test_commits_in_another_process_wake_this_one(engine: Engine, session_factory: Any) -> None:
    """PostgreSQL: LISTEN/NOTIFY at commit. SQLite has no channel: the tail's poll finds the events."""
    if engine.dialect.name != "postgresql":  # one process: its own commits wake it
        assert _woken(wakeup, lambda: append_ticks(session_factory, 1)) < 5
        return
    wake = Wakeup()
    listener = PgListener(wake, engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                          NOTIFY_CHANNEL)
    listener.start()
    try:
        assert listener.connected.wait(10)
        with engine.connect() as conn:  # a NOTIFY from another connection, as another process sends it
            assert _woken(wake, lambda: (conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}"), conn.commit())) < 5
        assert _woken(wake, lambda: append_ticks(session_factory, 1)) < 5  # and one from the outbox itself
    finally:
        listener.stop()


def test_redis_announces_commits_to_other_processes(session_factory: Any) -> None:
    channel = f"opsure:events:test-{secrets.token_hex(4)}"
    wake = Wakeup()
    listener = RedisListener(wake, REDIS_URL, channel)
    listener.start()
    publisher = redis.Redis.from_url(REDIS_URL)
    try:
        assert listener.connected.wait(10)
        install_redis_publisher(publisher, channel)
        assert _woken(wake, lambda: append_ticks(session_factory, 1)) < 5
        install_redis_publisher(None)
        with transaction(session_factory) as s:  # an unreachable Redis never fails a commit
            install_redis_publisher(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2),
                                    channel)
            append(s, WidgetScored(widget_id=3), aggregate=Aggregate("Widget", 3), actor=ACTOR)
    finally:
        install_redis_publisher(None)
        listener.stop()
        publisher.close()


def test_a_new_subscriber_gets_nothing_committed_before_it_subscribed_even_when_the_tail_lags(
        session_factory: Any) -> None:
    tail = EventTail(session_factory, Wakeup(), poll_seconds=3600)  # wakes only when told: it lags
    tail.start()
    try:
        append_ticks(session_factory, 3)  # committed, not yet read by the tail

        def produce() -> None:
            append_ticks(session_factory, 2, widget_id=2)
            tail.wake.notify()  # now the tail reads all five

        got = _subscribers(tail, produce, {"late": (2, {})})
        assert [e.aggregate.id for e in got["late"]] == [2, 2]
    finally:
        tail.stop()
