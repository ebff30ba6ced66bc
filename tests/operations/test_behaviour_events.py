"""Behaviour events: batches stored once per event id, each bad event refused with its code, nothing valid lost."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.auth import Principal, Role
from core.db import transaction
from core.errors import ValidationError
from resolvers.operations.behaviour import MAX_BATCH, EventIn, ingest
from resolvers.operations.models import BehaviourEvent
from tests.experiment_factories import T0

CUSTOMER = Principal(subject="customer-7", role=Role.CUSTOMER, customer_id=7)
AGENT = Principal(subject="agent-1", role=Role.AGENT)


def _ev(event_id: str, name: str = "quote.viewed", **over: Any) -> EventIn:
    fields: dict[str, Any] = {"timestamp": T0 - dt.timedelta(minutes=1), "customer_id": 7,
                              "properties": {"productCode": "MED-1"} if name == "quote.viewed" else {}}
    return EventIn(event_id=event_id, name=name, **{**fields, **over})


def _stored(s: Any) -> int:
    return int(s.scalar(select(func.count()).select_from(BehaviourEvent)) or 0)


def test_a_batch_keeps_the_good_events_and_refuses_each_bad_one(session_factory: Any) -> None:
    batch = [
        _ev("evt-00000001"),
        _ev("evt-00000002", "no.such.event"),
        _ev("evt-00000003", timestamp=T0 + dt.timedelta(hours=1)),
        _ev("evt-00000004", properties={"productCode": "MED-1", "extra": 1}),
        _ev("evt-00000005", customer_id=8),
        _ev("short"),
        _ev("evt-00000006", customer_id=None),
        _ev("evt-00000007", "health_declaration.failed", properties={"reason": "BMI_OUT_OF_RANGE"}),
        _ev("evt-00000001"),  # repeated in the batch
    ]
    with transaction(session_factory) as s:
        r = ingest(s, principal=CUSTOMER, events=batch, source="customer-7", now=T0)
        assert (r.accepted, r.duplicates) == (3, 1)
        assert [(x.index, x.code) for x in r.rejected] == [
            (1, "UNKNOWN_EVENT"), (2, "FUTURE_DATED"), (3, "BAD_PROPERTIES"), (4, "NOT_YOUR_CUSTOMER_ID"),
            (5, "BAD_EVENT_ID")]
        assert _stored(s) == 3 - 1 + 1  # evt 1, 6 (own customer id filled in) and 7
    with transaction(session_factory) as s:
        again = ingest(s, principal=CUSTOMER, events=batch, source="customer-7", now=T0)
        assert (again.accepted, again.duplicates) == (0, 4)
        assert _stored(s) == 3
        row = s.scalar(select(BehaviourEvent).where(BehaviourEvent.event_id == "evt-00000006"))
        assert row is not None and row.customer_id == 7


def test_anonymous_ids_and_staff_senders(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        r = ingest(s, principal=AGENT, now=T0, source="agent-1", events=[
            _ev("anon-0000001", "page.viewed", customer_id=None, anonymous_id="visitor-123456",
                properties={"path": "/products"}),
            _ev("anon-0000002", "page.viewed", customer_id=None, anonymous_id="x", properties={"path": "/"})])
        assert r.accepted == 1 and [x.code for x in r.rejected] == ["BAD_ANONYMOUS_ID"]


def test_batch_size_is_capped(session_factory: Any) -> None:
    with transaction(session_factory) as s, pytest.raises(ValidationError) as exc:
        ingest(s, principal=AGENT, now=T0, source="a", events=[_ev(f"evt-{i:08d}") for i in range(MAX_BATCH + 1)])
    assert exc.value.code == "BATCH_TOO_LARGE"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=30))
def test_storing_is_idempotent_whatever_the_batches(session_factory: Any, sends: list[tuple[int, bool]]) -> None:
    """Any sequence of sends: each distinct valid id stored exactly once, each future one never."""
    with transaction(session_factory) as s:
        s.execute(BehaviourEvent.__table__.delete())
        for n, future in sends:
            ts = T0 + dt.timedelta(hours=1) if future else T0
            ingest(s, principal=AGENT, now=T0, source="a", events=[_ev(f"prop-{n:08d}-{int(future)}", timestamp=ts)])
        assert _stored(s) == len({n for n, future in sends if not future})


INGEST = """mutation($i: IngestBehaviourEventsInput!) { ingestBehaviourEvents(input: $i) {
  accepted duplicates rejected { index code message } errors { code } } }"""


def test_ingest_over_graphql(gql: Any) -> None:
    from core.clock import now

    at = now().isoformat()
    me = gql(Role.CUSTOMER, customer_id=7)
    batch = {"events": [
        {"eventId": "web-00000001", "name": "quote.viewed", "timestamp": at, "properties": {"productCode": "MED-1"}},
        {"eventId": "web-00000002", "name": "purchase", "timestamp": at,
         "properties": {"productCode": "MED-1", "premium": "1200.00"}},
        {"eventId": "web-00000003", "name": "quote.viewed", "timestamp": "2099-01-01T00:00:00+08:00",
         "properties": {"productCode": "MED-1"}},
        {"eventId": "web-00000004", "name": "nope", "timestamp": at}]}
    out = me(INGEST, {"i": batch})["ingestBehaviourEvents"]
    assert (out["accepted"], out["duplicates"], out["errors"]) == (2, 0, [])
    assert [(r["index"], r["code"]) for r in out["rejected"]] == [(2, "FUTURE_DATED"), (3, "UNKNOWN_EVENT")]
    again = me(INGEST, {"i": batch})["ingestBehaviourEvents"]
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    big = {"events": [{"eventId": f"big-{i:08d}", "name": "page.viewed", "timestamp": at,
                       "properties": {"path": "/"}} for i in range(MAX_BATCH + 1)]}
    refused = me(INGEST, {"i": big})["ingestBehaviourEvents"]
    assert [e["code"] for e in refused["errors"]] == ["BATCH_TOO_LARGE"] and refused["accepted"] == 0
    resp = gql(Role.AUDITOR).post(INGEST, {"i": batch})
    assert resp.status_code == 400 and resp.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_plain_http_endpoint_for_frontends(http: Any, runtime: Any) -> None:
    from core.auth import issue_token
    from core.clock import now
    from opsure.behaviour_http import MAX_BODY

    at = now().isoformat()
    anon = [{"eventId": "anon-00000001", "name": "page.viewed", "anonymousId": "visitor-000001", "timestamp": at,
             "properties": {"path": "/"}},
            {"eventId": "anon-00000002", "name": "page.viewed", "customerId": "Q3VzdG9tZXI6MQ==", "timestamp": at,
             "properties": {"path": "/"}},
            {"eventId": "anon-00000003", "name": "page.viewed", "anonymousId": "visitor-000001",
             "timestamp": "yesterday", "properties": {"path": "/"}}]
    resp = http.post("/events", json={"events": anon})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"accepted": 1, "duplicates": 0, "rejected": [
        {"index": 1, "code": "NOT_YOUR_CUSTOMER_ID", "message": "an anonymous sender names an anonymousId only"},
        {"index": 2, "code": "BAD_TIMESTAMP", "message": "timestamp is an ISO 8601 instant naming its zone"}]}
    assert http.post("/events", content=b"x" * (MAX_BODY + 1),
                     headers={"content-type": "application/json"}).status_code == 413
    too_many = {"events": [anon[0]] * (MAX_BATCH + 1)}
    big = http.post("/events", json=too_many)
    assert big.status_code == 413 and big.json()["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"
    assert http.post("/events", content=b"{nope").status_code == 400
    auditor = issue_token(runtime.token_keys, runtime.settings, subject="aud", role=Role.AUDITOR)
    assert http.post("/events", json={"events": []},
                     headers={"authorization": f"Bearer {auditor}"}).status_code == 403
    statuses = [http.post("/events", json={"events": []}).status_code for _ in range(70)]
    assert statuses.count(429) >= 5 and statuses[:50] == [200] * 50  # 60 batches a minute per address
    limited = http.post("/events", json={"events": []})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    agent = issue_token(runtime.token_keys, runtime.settings, subject="agent-x", role=Role.AGENT)
    assert http.post("/events", json={"events": anon[:1]},  # a token is not bounded per address
                     headers={"authorization": f"Bearer {agent}"}).json()["duplicates"] == 1
