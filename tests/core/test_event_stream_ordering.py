"""Commit-order ids: a reader keeping ``id > position`` never skips an event, however writers race.

Run against PostgreSQL (``OPSURE_TEST_DATABASE_URL``) this is the real test: ids come from a
sequence, and without the commit-order lock a smaller id can commit after a reader passed it.
A listener sleeping between the insert and the commit widens that window on purpose.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.db import make_engine, make_session_factory, transaction
from core.event_stream import Aggregate, DomainEventRow, append, head_id, read_events
from tests.event_factories import ACTOR, WidgetTicked

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def slow_commits() -> Iterator[None]:
    """Sleep up to 3 ms between writing a transaction's events and its COMMIT."""
    rng = random.Random(7)

    def pause(_session: Session) -> None:
        time.sleep(rng.random() * 0.003)

    event.listen(Session, "before_commit", pause)  # after the outbox's own listener
    yield
    event.remove(Session, "before_commit", pause)


def _reader(factory: Any, start: int, done: threading.Event, seen: list[int]) -> None:
    position = start
    while True:
        finished = done.is_set()  # read once more after the writers finished
        with factory() as s:
            batch = read_events(s, after=position, limit=50)
        seen.extend(ev.id for ev in batch)
        if batch:
            position = batch[-1].id
        elif finished:
            return


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.lists(st.integers(1, 3), min_size=5, max_size=15), min_size=3, max_size=6))
def test_a_polling_reader_never_skips_an_event(plan: list[list[int]], database_url: str,
                                               slow_commits: None) -> None:
    """``plan``: per writer thread, the events of each of its transactions."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    try:
        with factory() as s:
            start = head_id(s)
        done = threading.Event()
        seen: list[int] = []
        reader = threading.Thread(target=_reader, args=(factory, start, done, seen))
        reader.start()

        def write(writer: int, transactions: list[int]) -> None:
            for count in transactions:
                with transaction(factory) as s:
                    for n in range(count):
                        append(s, WidgetTicked(widget_id=writer, n=n), aggregate=Aggregate("Widget", writer),
                               actor=ACTOR)

        writers = [threading.Thread(target=write, args=(w, txs)) for w, txs in enumerate(plan)]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        done.set()
        reader.join()
        with factory() as s:
            stored = list(s.execute(select(DomainEventRow.id).where(DomainEventRow.id > start)
                                    .order_by(DomainEventRow.id)).scalars())
        assert len(stored) == sum(map(sum, plan))
        assert seen == stored  # every event, once, in id order: none passed before it committed
    finally:
        engine.dispose()
