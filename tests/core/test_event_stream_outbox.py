"""The outbox: events written with the business transaction, typed, validated, visible to declared roles."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core import audit
from core.clock import moved_clock
from core.db import read_only_session, transaction
from core.event_stream import (
    Actor,
    Aggregate,
    EventPayload,
    EventTypeError,
    StoredEvent,
    append,
    head_id,
    install_correlation_source,
    read_events,
    register_event_type,
)
from core.event_stream.outbox import COMMIT_ORDER_LOCK
from core.roles import CLAIM_READERS, INTERNAL, POLICY_READERS, RISK_READERS
from tests.event_factories import ACTOR, SCORED, TICKED, WidgetScored, WidgetTicked


def _events(session_factory: Any) -> list[StoredEvent]:
    with read_only_session(session_factory) as s:  # never waits for a writer's lock
        return list(read_events(s, after=0, limit=1000))


def test_an_event_is_written_with_its_transaction(session_factory: Any) -> None:
    with moved_clock(dt.datetime(2026, 5, 31, 17, 30, tzinfo=dt.UTC)), transaction(session_factory) as s:
        append(s, WidgetTicked(widget_id=7, n=1, label="first"), aggregate=Aggregate("Widget", 7, version=3),
               actor=Actor("adjuster-1", "adjuster"))
        assert _events(session_factory) == []  # not before the commit
    [ev] = _events(session_factory)
    assert (ev.type, ev.version, ev.aggregate) == ("test.widget_ticked", 1, Aggregate("Widget", 7, 3))
    assert ev.aggregate.global_id == "V2lkZ2V0Ojc="  # base64("Widget:7"), as schema.relay encodes it
    assert ev.occurred_at == dt.datetime(2026, 5, 31, 17, 30, tzinfo=dt.UTC)
    assert ev.business_date == dt.date(2026, 6, 1)  # 01:30 in Beijing: already June
    assert ev.business_time.utcoffset() == dt.timedelta(hours=8)
    assert ev.actor == Actor("adjuster-1", "adjuster")
    assert ev.readers == POLICY_READERS
    assert json.loads(ev.payload_json) == {"widgetId": 7, "n": 1, "label": "first"}  # camelCase JSON
    assert ev.payload == WidgetTicked(widget_id=7, n=1, label="first")


def test_a_rolled_back_transaction_leaves_no_event(session_factory: Any) -> None:
    with pytest.raises(RuntimeError), transaction(session_factory) as s:
        append(s, WidgetTicked(widget_id=1, n=1), aggregate=Aggregate("Widget", 1), actor=ACTOR)
        raise RuntimeError("the business change failed")
    s = session_factory()
    append(s, WidgetTicked(widget_id=1, n=2), aggregate=Aggregate("Widget", 1), actor=ACTOR)
    s.close()  # a plain close, no commit, drops them too
    s.execute(select(1))
    s.commit()  # and nothing stays staged for the session's next transaction
    assert _events(session_factory) == []


def test_savepoints_keep_or_drop_their_own_events(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        append(s, WidgetTicked(widget_id=1, n=1), aggregate=Aggregate("Widget", 1), actor=ACTOR)
        with pytest.raises(RuntimeError), s.begin_nested():
            append(s, WidgetTicked(widget_id=1, n=2), aggregate=Aggregate("Widget", 1), actor=ACTOR)
            with s.begin_nested():
                append(s, WidgetTicked(widget_id=1, n=3), aggregate=Aggregate("Widget", 1), actor=ACTOR)
            raise RuntimeError("the racing insert lost")
        with s.begin_nested():
            append(s, WidgetTicked(widget_id=1, n=4), aggregate=Aggregate("Widget", 1), actor=ACTOR)
        append(s, WidgetTicked(widget_id=1, n=5), aggregate=Aggregate("Widget", 1), actor=ACTOR)
    with session_factory() as s:  # commit() releases a savepoint still open, then commits: its events go too
        s.begin_nested()
        append(s, WidgetTicked(widget_id=1, n=6), aggregate=Aggregate("Widget", 1), actor=ACTOR)
        s.commit()
    assert [ev.payload.n for ev in _events(session_factory)] == [1, 4, 5, 6]  # type: ignore[attr-defined]


def test_ids_follow_append_order_across_transactions(session_factory: Any) -> None:
    for n in range(1, 4):
        with transaction(session_factory) as s:
            for k in range(3):
                append(s, WidgetTicked(widget_id=n, n=k), aggregate=Aggregate("Widget", n), actor=ACTOR)
    events = _events(session_factory)
    assert [(e.aggregate.id, e.payload.n) for e in events] == [(n, k) for n in range(1, 4) for k in range(3)]  # type: ignore[attr-defined]
    assert [e.id for e in events] == sorted(e.id for e in events)
    with session_factory() as s:
        assert head_id(s) == events[-1].id
        assert [e.id for e in read_events(s, after=events[2].id, limit=2)] == [events[3].id, events[4].id]
    with transaction(session_factory) as s:  # a large transaction goes in several statements, in order
        for k in range(250):
            append(s, WidgetTicked(widget_id=9, n=k), aggregate=Aggregate("Widget", 9), actor=ACTOR)
    with session_factory() as s:
        big = read_events(s, after=events[-1].id, limit=1000)
    assert [e.payload.n for e in big] == list(range(250))  # type: ignore[attr-defined]
    assert [e.id for e in big] == list(range(big[0].id, big[0].id + 250))


class NotRegistered(EventPayload):
    widget_id: int


def test_an_unregistered_or_malformed_payload_is_refused_at_append(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        with pytest.raises(EventTypeError, match="not a registered event payload"):
            append(s, NotRegistered(widget_id=1), aggregate=Aggregate("Widget", 1), actor=ACTOR)
        with pytest.raises(EventTypeError, match="not a registered event payload"):
            append(s, {"widgetId": 1}, aggregate=Aggregate("Widget", 1), actor=ACTOR)  # type: ignore[arg-type]
        forged = WidgetTicked.model_construct(widget_id="seven", n=1, label="")  # skips validation
        with pytest.raises(EventTypeError, match="breaks its schema"):
            append(s, forged, aggregate=Aggregate("Widget", 1), actor=ACTOR)
        with pytest.raises(EventTypeError, match="about a Widget, not a Policy"):
            append(s, WidgetTicked(widget_id=1, n=1), aggregate=Aggregate("Policy", 1), actor=ACTOR)
    with pytest.raises(ValueError):  # a payload is validated strictly when it is made
        WidgetTicked(widget_id="1", n=1)  # type: ignore[arg-type]
    assert _events(session_factory) == []


def test_registration_conflicts_are_programming_errors() -> None:
    class Other(EventPayload):
        widget_id: int

    assert register_event_type("test.widget_ticked", 1, WidgetTicked, aggregate="Widget",
                               readers=POLICY_READERS) == TICKED  # idempotent
    with pytest.raises(EventTypeError, match="registered already"):
        register_event_type("test.widget_ticked", 1, Other, aggregate="Widget", readers=POLICY_READERS)
    with pytest.raises(EventTypeError, match="registered already"):
        register_event_type("test.widget_other", 1, WidgetTicked, aggregate="Widget", readers=POLICY_READERS)
    with pytest.raises(EventTypeError, match=r"domain\.fact"):
        register_event_type("nodot", 1, Other, aggregate="Widget", readers=POLICY_READERS)
    with pytest.raises(EventTypeError, match="subset"):
        register_event_type("test.widget_scored_wide", 1, type("Wide", (WidgetScored,), {}), aggregate="Widget",
                            readers=POLICY_READERS)  # a customer may read the type but not its risk score


def test_the_readers_of_an_event_follow_the_fields_it_carries(session_factory: Any) -> None:
    assert SCORED.visible_to(WidgetScored(widget_id=1)) == CLAIM_READERS
    assert SCORED.visible_to(WidgetScored(widget_id=1, score=Decimal("0.7"))) == CLAIM_READERS & RISK_READERS
    with transaction(session_factory) as s:
        append(s, WidgetScored(widget_id=1, score=Decimal("0.7")), aggregate=Aggregate("Widget", 1), actor=ACTOR)
    [ev] = _events(session_factory)
    assert ev.readers == INTERNAL & CLAIM_READERS
    assert ev.visible_to("adjuster") and ev.visible_to("auditor")
    assert not ev.visible_to("customer") and not ev.visible_to("partner") and not ev.visible_to(None)
    assert ev.payload == WidgetScored(widget_id=1, score=Decimal("0.7"))


def test_events_carry_the_request_id(session_factory: Any) -> None:
    previous = install_correlation_source(lambda: "req-42")
    try:
        with transaction(session_factory) as s:
            append(s, WidgetTicked(widget_id=1, n=1), aggregate=Aggregate("Widget", 1), actor=ACTOR)
    finally:
        install_correlation_source(previous)
    assert _events(session_factory)[0].correlation_id == "req-42"


def test_events_are_numbered_under_the_audit_chain_lock() -> None:
    """One lock for both, taken in either order by a mutation: no lock-order deadlock."""
    assert COMMIT_ORDER_LOCK == audit._ADVISORY_KEY
