"""Durable consumers: positions, exactly-once projections, retries, dead letters, replay, leadership, retention."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.clock import moved_clock
from core.db import make_engine, make_session_factory, read_only_session, transaction
from core.event_stream import (
    Aggregate,
    Consumer,
    ConsumerRow,
    ConsumerRunner,
    DeadLetter,
    DeadLetterState,
    StoredEvent,
    append,
    consumer_status,
    drain,
    head_id,
    prune_events,
    read_events,
    replay,
    request_retry,
    run_once,
    wakeup,
)
from core.event_stream.consumers import (
    register_consumer,
    registered_consumers,
    retry_dead_letters,
    unregister_consumer,
)
from core.event_stream.wakeup import Wakeup
from tests.event_factories import (
    ACTOR,
    WidgetScored,
    append_ticks,
    projection_consumer,
    projection_rows,
    projection_table,
    registered,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def only_this_tests_consumers() -> Any:
    """The domains' consumers (webhooks...) stay out of status and pruning here; back afterwards."""
    domains = registered_consumers()
    for consumer in domains:
        unregister_consumer(consumer.name)
    yield
    for consumer in domains:
        register_consumer(consumer)


@pytest.fixture
def projection(engine: Engine) -> Any:
    with projection_table(engine) as table:
        yield table


def _event_ids(session_factory: Any) -> list[int]:
    with session_factory() as s:
        return [ev.id for ev in read_events(s, after=0, limit=100_000)]


def test_a_consumer_applies_every_event_once_in_order(session_factory: Any, projection: Any) -> None:
    append_ticks(session_factory, 250, per_tx=7)
    consumer = projection_consumer("live", batch_size=40)
    assert drain(session_factory, consumer) == 250
    ids = _event_ids(session_factory)
    with session_factory() as s:
        assert projection_rows(s, "live") == [(i, 1, n) for i, n in zip(ids, range(1, 251), strict=True)]
        assert s.get(ConsumerRow, "live").position == ids[-1]  # type: ignore[union-attr]
    assert drain(session_factory, consumer) == 0  # nothing twice
    append_ticks(session_factory, 3, widget_id=2)
    assert run_once(session_factory, consumer).handled == 3


def test_a_consumer_skips_types_it_does_not_read(session_factory: Any, projection: Any) -> None:
    with transaction(session_factory) as s:
        for _ in range(5):
            append(s, WidgetScored(widget_id=1), aggregate=Aggregate("Widget", 1), actor=ACTOR)
    result = run_once(session_factory, projection_consumer("ticks"))
    with session_factory() as s:
        assert (result.handled, result.position, result.caught_up) == (0, head_id(s), True)


def test_a_new_consumer_may_start_from_now(session_factory: Any, projection: Any) -> None:
    append_ticks(session_factory, 4)
    consumer = projection_consumer("fresh", start_from="now")
    assert drain(session_factory, consumer) == 0
    append_ticks(session_factory, 2, widget_id=5)
    assert drain(session_factory, consumer) == 2


def _failing_on(name: str, bad_n: int, fail_times: int, **options: Any) -> tuple[Consumer, list[int]]:
    """A projection consumer whose handler raises on tick ``bad_n`` the first ``fail_times`` calls."""
    inner = projection_consumer(name)
    calls: list[int] = []

    def handle(session: Session, ev: StoredEvent) -> None:
        n = ev.payload.n  # type: ignore[attr-defined]
        if n == bad_n:
            calls.append(ev.id)
            if len(calls) <= fail_times:
                raise ValueError(f"cannot apply tick {n}")
        inner.handle(session, ev)

    return Consumer(name, handle, types=inner.types, reset=inner.reset, batch_size=10,
                    backoff_seconds=0.01, **options), calls


def test_a_failing_event_is_retried_then_dead_lettered_and_others_go_on(session_factory: Any,
                                                                        projection: Any) -> None:
    append_ticks(session_factory, 8)
    ids = _event_ids(session_factory)
    flaky, calls = _failing_on("flaky", bad_n=3, fail_times=99, max_attempts=3)
    healthy = projection_consumer("healthy")

    first = run_once(session_factory, flaky)  # ticks 1-2 go through, tick 3 waits for a retry
    assert (first.handled, first.position, first.failed_event) == (2, ids[1], ids[2])
    assert first.retry_in == pytest.approx(0.01)
    second = run_once(session_factory, flaky)
    assert second.retry_in == pytest.approx(0.02)  # exponential backoff
    with session_factory() as s:
        row = s.get(ConsumerRow, "flaky")
        assert row is not None and (row.failing_event_id, row.failing_attempts) == (ids[2], 2)
        assert "cannot apply tick 3" in (row.last_error or "")
    third = run_once(session_factory, flaky)
    assert third.dead_lettered == ids[2] and third.position == ids[2]
    assert drain(session_factory, flaky) == 5  # and it moves on
    assert drain(session_factory, healthy) == 8  # never blocked by the other's failure
    assert len(calls) == 3
    with session_factory() as s:
        [letter] = s.execute(select(DeadLetter)).scalars().all()
        assert (letter.consumer, letter.event_id, letter.attempts, letter.state) == ("flaky", ids[2], 3,
                                                                                      DeadLetterState.DEAD)
        assert "ValueError: cannot apply tick 3" in letter.error
        assert [r[0] for r in projection_rows(s, "flaky")] == ids[:2] + ids[3:]  # each applied once
        [status] = [st for st in consumer_status(s) if st.name == "flaky"]
        assert (status.dead_letters, status.lag_events, status.failing_event_id) == (1, 0, None)

    with transaction(session_factory) as s:
        request_retry(s, letter.id)
    fixed, _ = _failing_on("flaky", bad_n=3, fail_times=0)
    assert retry_dead_letters(session_factory, fixed) == 1
    with session_factory() as s:
        assert s.get(DeadLetter, letter.id).state is DeadLetterState.RESOLVED  # type: ignore[union-attr]
        assert sorted(r[0] for r in projection_rows(s, "flaky")) == ids


def test_a_transient_failure_recovers_without_a_dead_letter(session_factory: Any, projection: Any) -> None:
    append_ticks(session_factory, 5)
    flaky, calls = _failing_on("transient", bad_n=2, fail_times=2, max_attempts=5)
    assert drain(session_factory, flaky) == 5
    with session_factory() as s:
        assert len(calls) == 3
        assert [r[2] for r in projection_rows(s, "transient")] == [1, 2, 3, 4, 5]
        assert s.execute(select(DeadLetter)).first() is None


def test_replay_rebuilds_the_state_the_live_consumer_built(session_factory: Any, projection: Any) -> None:
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    with moved_clock(start) as clock:
        for day in range(6):
            append_ticks(session_factory, 10, widget_id=day, per_tx=3)
            clock.advance(days=1)
    consumer = projection_consumer("rebuild", batch_size=7)
    with registered(consumer):
        drain(session_factory, consumer)
        with session_factory() as s:
            live = projection_rows(s, "rebuild")
        with transaction(session_factory) as s:
            assert replay(s, "rebuild", from_id=1) == 0
        with session_factory() as s:
            assert projection_rows(s, "rebuild") == []  # reset dropped the derived state
        drain(session_factory, consumer)
        with session_factory() as s:
            assert projection_rows(s, "rebuild") == live

        with transaction(session_factory) as s:  # from a time: the first event at or after it
            position = replay(s, "rebuild", from_time=start + dt.timedelta(days=4))
        assert position == live[39][0]
        with session_factory() as s:
            assert projection_rows(s, "rebuild") == live[:40]  # days 0-3 stay, days 4-5 come again
        drain(session_factory, consumer)
        with session_factory() as s:
            assert projection_rows(s, "rebuild") == live
    with transaction(session_factory) as s, pytest.raises(LookupError):
        replay(s, "nobody", from_id=1)


def _runner(engine_url: str, consumer: Consumer, data_dir: Any, wake: Wakeup) -> tuple[ConsumerRunner, Engine]:
    engine = make_engine(engine_url)
    return ConsumerRunner(consumer, engine, make_session_factory(engine), data_dir, wake, poll_seconds=0.2), engine


def _rows(session_factory: Any, name: str) -> list[tuple[int, int, int]]:
    with read_only_session(session_factory) as s:  # a fresh snapshot, never the write lock
        return projection_rows(s, name)


def _wait(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_one_runner_leads_a_consumer_and_another_takes_over(settings: Any, session_factory: Any,
                                                            projection: Any) -> None:
    consumer = projection_consumer("led")
    first, e1 = _runner(settings.resolved_database_url, consumer, settings.data_dir, wakeup)
    second, e2 = _runner(settings.resolved_database_url, consumer, settings.data_dir, wakeup)
    try:
        first.start()
        _wait(first.leading.is_set)
        second.start()
        append_ticks(session_factory, 20, per_tx=4)  # the local commit wakes the leader
        _wait(lambda: len(_rows(session_factory, "led")) == 20)
        assert not second.leading.is_set()
        first.stop()
        append_ticks(session_factory, 5, widget_id=2)
        _wait(second.leading.is_set)
        _wait(lambda: len(_rows(session_factory, "led")) == 25)
        ids = [r[0] for r in _rows(session_factory, "led")]
        assert ids == sorted(set(ids)) == _event_ids(session_factory)
    finally:
        first.stop()
        second.stop()
        e1.dispose()
        e2.dispose()


def test_status_shows_lag_in_events_and_seconds(session_factory: Any, projection: Any) -> None:
    consumer = projection_consumer("lagging")
    with registered(consumer):
        with session_factory() as s:
            [never_ran] = consumer_status(s)
            assert (never_ran.position, never_ran.lag_events, never_ran.registered) == (None, 0, True)
        with moved_clock(dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)) as clock:
            append_ticks(session_factory, 3)
            drain(session_factory, consumer)
            append_ticks(session_factory, 4, widget_id=2)
            clock.advance(seconds=90)
            with session_factory() as s:
                [status] = consumer_status(s)
        assert (status.position, status.lag_events, status.lag_seconds) == (3, 4, 90.0)


def test_prune_keeps_what_a_consumer_still_needs(session_factory: Any, projection: Any) -> None:
    old = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with moved_clock(old):
        append_ticks(session_factory, 10)
    consumer = projection_consumer("slow", batch_size=4)
    run_once(session_factory, consumer)  # read 4 of them
    flaky, _ = _failing_on("stuck", bad_n=2, fail_times=99, max_attempts=1)
    drain(session_factory, flaky)  # tick 2 is an open dead letter
    now = old + dt.timedelta(days=40)
    with registered(consumer), registered(flaky):
        assert prune_events(session_factory, retention_days=0, now=now) == 0  # 0 keeps everything
        assert prune_events(session_factory, retention_days=60, now=now) == 0  # not old enough
        assert prune_events(session_factory, retention_days=30, now=now) == 3  # 1, 3, 4: read by both
        assert _event_ids(session_factory)[:2] == [2, 5]
        assert prune_events(session_factory, retention_days=30, now=now, past_consumers=True) == 5
        assert _event_ids(session_factory) == [2, 10]  # the dead letter's and the newest stay
    with transaction(session_factory) as s:  # a new event never reuses a pruned id
        append(s, WidgetScored(widget_id=1), aggregate=Aggregate("Widget", 1), actor=ACTOR)
    assert _event_ids(session_factory) == [2, 10, 11]
