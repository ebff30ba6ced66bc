"""Identify and alias: anonymous visitors' events count for the customer they turn out to be; reads resolve them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.auth import Principal, Role, issue_token
from core.db import transaction
from core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError
from core.event_stream import head_id, read_events
from resolvers.operations import behaviour
from resolvers.operations.behaviour import EventIn, ingest
from resolvers.operations.models import BehaviourEvent, BehaviourIdentity
from schema.relay import encode_global_id
from tests.experiment_factories import T0
from tests.factories import make_customer

AGENT = Principal(subject="agent-1", role=Role.AGENT)
DAY = dt.timedelta(days=1)


def _customer(s: Any) -> int:
    return int(make_customer(s).id)


def _me(customer_id: int) -> Principal:
    return Principal(subject=f"customer-{customer_id}", role=Role.CUSTOMER, customer_id=customer_id)


def _send(s: Any, *events: tuple[str, str, dict[str, Any]], principal: Principal = AGENT) -> Any:
    """events: (event_id, name, subject fields); timestamps one day apart back from T0."""
    batch = [EventIn(event_id=eid, name=name, timestamp=T0 - (len(events) - i) * DAY,
                     properties={"path": "/"} if name == "page.viewed" else {}, **subject)
             for i, (eid, name, subject) in enumerate(events)]
    return ingest(s, principal=principal, events=batch, source=principal.subject, now=T0)


def test_identify_brings_the_visitors_earlier_events_to_the_customer(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c = _customer(s)
        other = _customer(s)
        _send(s, ("anon-event-1", "page.viewed", {"anonymous_id": "visitor-aaaa"}),
              ("anon-event-2", "claim.reported", {"anonymous_id": "visitor-aaaa"}),
              ("known-event-1", "page.viewed", {"customer_id": c}),
              ("other-event-1", "page.viewed", {"customer_id": other}))
        assert [e.event_id for e in behaviour.events_for_customer(s, c)] == ["known-event-1"]
        assert behaviour.event_counts(s, "page.viewed") == {c: 1, other: 1}
        head = head_id(s)
    with transaction(session_factory) as s:
        made = behaviour.identify(s, principal=_me(c), anonymous_id="visitor-aaaa", customer_id=None, now=T0)
        assert (made.customer_id, made.created) == (c, True)
    with transaction(session_factory) as s:
        assert [e.event_id for e in behaviour.events_for_customer(s, c)] == ["anon-event-1", "anon-event-2",
                                                                                 "known-event-1"]
        assert [e.event_id for e in behaviour.events_for_customer(s, c, names=["page.viewed"], since=T0 - 3 * DAY)] \
            == ["known-event-1"]  # anon-event-1 was 4 days before T0
        stats = behaviour.event_stats(s, "page.viewed")
        assert stats[c] == behaviour.EventStats(2, T0 - 4 * DAY, T0 - 2 * DAY) and stats[other].count == 1
        assert behaviour.event_counts(s, "page.viewed", T0 - 3 * DAY, T0) == {c: 1, other: 1}
        assert behaviour.first_occurrences(s, "claim.reported") == {c: T0 - 3 * DAY}
        assert behaviour.last_occurrences(s, "page.viewed") == {c: T0 - 2 * DAY, other: T0 - DAY}
        assert [(e.event_id, e.customer_id) for e in behaviour.events_after(s, 0)] == [
            ("anon-event-1", c), ("anon-event-2", c), ("known-event-1", c), ("other-event-1", other)]
        assert [(i.anonymous_id, i.customer_id, i.via) for i in behaviour.identities_after(s, 0)] == [
            ("visitor-aaaa", c, "identify")]
        (identified,) = read_events(s, after=head, limit=10)
        assert identified.type == "visitor.identified" and identified.aggregate.id == c
        assert "visitor-aaaa" not in identified.payload_json  # the anonymous id stays out of the stream


def test_identify_is_idempotent_and_a_conflict_changes_nothing(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c, other = _customer(s), _customer(s)
        behaviour.identify(s, principal=AGENT, anonymous_id="visitor-bbbb", customer_id=c, now=T0)
    with transaction(session_factory) as s:
        head = head_id(s)
        assert head >= 1
    with transaction(session_factory) as s:
        again = behaviour.identify(s, principal=_me(c), anonymous_id="visitor-bbbb", customer_id=c, now=T0 + DAY)
        assert again.created is False
    for principal, customer in ((AGENT, other), (_me(other), None)):
        with pytest.raises(ConflictError) as exc, transaction(session_factory) as s:
            behaviour.identify(s, principal=principal, anonymous_id="visitor-bbbb", customer_id=customer, now=T0)
        assert exc.value.code == "ANONYMOUS_ID_TAKEN" and str(other) not in exc.value.message
    with transaction(session_factory) as s:
        rows = s.execute(select(BehaviourIdentity.customer_id, BehaviourIdentity.identified_at)).all()
        assert rows == [(c, T0)]
        assert head_id(s) == head  # nothing appended by the repeat or the refusals


def test_alias_follows_an_identified_anonymous_id(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c, other = _customer(s), _customer(s)
        _send(s, ("phone-event-1", "page.viewed", {"anonymous_id": "phone-visitor"}))
        behaviour.identify(s, principal=AGENT, anonymous_id="web-visitor", customer_id=c, now=T0)
        behaviour.identify(s, principal=AGENT, anonymous_id="other-visitor", customer_id=other, now=T0)
    with transaction(session_factory) as s:
        made = behaviour.alias(s, principal=_me(c), anonymous_id="phone-visitor", alias_of="web-visitor", now=T0)
        assert (made.customer_id, made.created) == (c, True)
        assert [e.event_id for e in behaviour.events_for_customer(s, c)] == ["phone-event-1"]
        assert behaviour.alias(s, principal=AGENT, anonymous_id="phone-visitor", alias_of="web-visitor",
                               now=T0).created is False
    refusals = [
        (AGENT, "new-visitor1", "never-seen-1", NotFoundError, "NOT_IDENTIFIED"),
        (_me(c), "new-visitor1", "other-visitor", NotFoundError, "NOT_IDENTIFIED"),  # not theirs: not told whose
        (AGENT, "phone-visitor", "other-visitor", ConflictError, "ANONYMOUS_ID_TAKEN"),
        (AGENT, "bad id!", "web-visitor", DomainError, "BAD_ANONYMOUS_ID"),
    ]
    for principal, anon, target, kind, code in refusals:
        with pytest.raises(kind) as exc, transaction(session_factory) as s:
            behaviour.alias(s, principal=principal, anonymous_id=anon, alias_of=target, now=T0)
        assert exc.value.code == code
    with transaction(session_factory) as s:
        assert int(s.scalar(select(func.count()).select_from(BehaviourIdentity)) or 0) == 3


def test_who_may_identify_whom(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c, other = _customer(s), _customer(s)
    cases = [
        (_me(c), other, ForbiddenError, "NOT_YOUR_CUSTOMER_ID"),
        (AGENT, None, DomainError, "NO_CUSTOMER"),
        (AGENT, 999_999, NotFoundError, "CUSTOMER_NOT_FOUND"),
        (Principal(subject="anon", role=None), c, ForbiddenError, "FORBIDDEN"),
    ]
    for principal, customer, kind, code in cases:
        with pytest.raises(kind) as exc, transaction(session_factory) as s:
            behaviour.identify(s, principal=principal, anonymous_id="visitor-cccc", customer_id=customer, now=T0)
        assert exc.value.code == code
    with pytest.raises(DomainError) as both, transaction(session_factory) as s:
        behaviour.identify_visitor(s, principal=AGENT, anonymous_id="visitor-cccc", customer_id=c,
                                   alias_of="visitor-dddd", now=T0)
    assert both.value.code == "CUSTOMER_AND_ALIAS"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["v-00000001", "v-00000002", "v-00000003"]), st.integers(0, 2),
                          st.booleans()), max_size=12))
def test_any_sequence_of_binds_keeps_the_first_binding_of_each_id(session_factory: Any,
                                                                   binds: list[tuple[str, int, bool]]) -> None:
    """Identify/alias in any order: each anonymous id keeps its first customer; counts follow the bindings."""
    with transaction(session_factory) as s:
        s.execute(BehaviourIdentity.__table__.delete())
        s.execute(BehaviourEvent.__table__.delete())
        customers = [_customer(s) for _ in range(3)]
        _send(s, *[(f"hyp-{anon}", "page.viewed", {"anonymous_id": anon})
                   for anon in ("v-00000001", "v-00000002", "v-00000003")])
    first: dict[str, int] = {}
    for anon, k, use_alias in binds:
        target = next((a for a, c in first.items() if c == customers[k] and a != anon), None)
        try:
            with transaction(session_factory) as s:
                if use_alias and target is not None:
                    behaviour.alias(s, principal=AGENT, anonymous_id=anon, alias_of=target, now=T0)
                else:
                    behaviour.identify(s, principal=AGENT, anonymous_id=anon, customer_id=customers[k], now=T0)
            first.setdefault(anon, customers[k])
        except ConflictError:
            assert first[anon] != customers[k]
    with transaction(session_factory) as s:
        expected: dict[int, int] = {}
        for c in first.values():
            expected[c] = expected.get(c, 0) + 1
        assert behaviour.event_counts(s, "page.viewed") == expected
        assert {i.anonymous_id: i.customer_id for i in behaviour.identities_after(s, 0)} == first


IDENTIFY = """mutation($i: IdentifyVisitorInput!) { identifyVisitor(input: $i) {
  customerId alreadyIdentified errors { field code } } }"""


def test_identify_over_graphql(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        c, other = _customer(s), _customer(s)
    me = gql(Role.CUSTOMER, customer_id=c)
    out = me(IDENTIFY, {"i": {"anonymousId": "visitor-gql1"}})["identifyVisitor"]
    assert out == {"customerId": encode_global_id("Customer", c), "alreadyIdentified": False, "errors": []}
    assert me(IDENTIFY, {"i": {"anonymousId": "visitor-gql1"}})["identifyVisitor"]["alreadyIdentified"] is True
    alias = me(IDENTIFY, {"i": {"anonymousId": "visitor-gql2", "aliasOf": "visitor-gql1"}})["identifyVisitor"]
    assert alias["customerId"] == encode_global_id("Customer", c) and alias["errors"] == []
    agent = gql(Role.AGENT)
    taken = agent(IDENTIFY, {"i": {"anonymousId": "visitor-gql1", "customerId": encode_global_id("Customer", other)}})
    assert taken["identifyVisitor"]["errors"] == [{"field": "anonymousId", "code": "ANONYMOUS_ID_TAKEN"}]
    theirs = me(IDENTIFY, {"i": {"anonymousId": "visitor-gql3", "customerId": encode_global_id("Customer", other)}})
    assert theirs["identifyVisitor"]["errors"][0]["code"] == "NOT_YOUR_CUSTOMER_ID"
    resp = gql(Role.AUDITOR).post(IDENTIFY, {"i": {"anonymousId": "visitor-gql4"}})
    assert resp.status_code == 400 and resp.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    with transaction(session_factory) as s:
        actions = s.execute(select(AuditEntry.action, AuditEntry.outcome).where(
            AuditEntry.action == "identifyVisitor").order_by(AuditEntry.seq)).all()
        assert [o for _, o in actions] == ["ok", "ok", "ok", "refused:ANONYMOUS_ID_TAKEN", "refused:NOT_YOUR_CUSTOMER_ID"]


def test_identify_over_http_and_one_audit_row_per_events_batch(http: Any, runtime: Any, session_factory: Any) -> None:
    from core.clock import now

    with transaction(session_factory) as s:
        c, other = _customer(s), _customer(s)
    me = {"authorization": f"Bearer {issue_token(runtime.token_keys, runtime.settings, subject='me', role=Role.CUSTOMER, customer_id=c)}"}
    agent = {"authorization": f"Bearer {issue_token(runtime.token_keys, runtime.settings, subject='ag', role=Role.AGENT)}"}
    at = now().isoformat()
    sent = http.post("/events", json={"events": [
        {"eventId": f"http-anon-{i:04d}", "name": "page.viewed", "anonymousId": "visitor-http", "timestamp": at,
         "properties": {"path": "/"}} for i in range(3)]})
    assert sent.json()["accepted"] == 3
    assert http.post("/events/identify", json={"anonymousId": "visitor-http"}).status_code == 401
    ok = http.post("/events/identify", json={"anonymousId": "visitor-http"}, headers=me)
    assert ok.status_code == 200 and ok.json() == {"customerId": encode_global_id("Customer", c),
                                                   "alreadyIdentified": False}
    assert http.post("/events/identify", json={"anonymousId": "visitor-http"}, headers=me).json()["alreadyIdentified"]
    taken = http.post("/events/identify", headers=agent, json={
        "anonymousId": "visitor-http", "customerId": encode_global_id("Customer", other)})
    assert taken.status_code == 409 and taken.json()["errors"][0]["extensions"]["code"] == "ANONYMOUS_ID_TAKEN"
    assert http.post("/events/identify", headers=agent, json={"anonymousId": "visitor-x1", "aliasOf": "nobody-x1"}
                     ).status_code == 404
    assert http.post("/events/identify", headers=me, json={
        "anonymousId": "visitor-x2", "customerId": encode_global_id("Customer", other)}).status_code == 403
    assert http.post("/events/identify", headers=agent, json={"anonymousId": "x"}).status_code == 400
    assert http.post("/events/identify", headers=agent, content=b"[1]").status_code == 400
    with transaction(session_factory) as s:
        assert behaviour.event_counts(s, "page.viewed") == {c: 3}
        batches = s.scalars(select(AuditEntry).where(AuditEntry.action == "postBehaviourEvents")).all()
        assert len(batches) == 1 and batches[0].role is None and '"accepted": 3' in (batches[0].detail or "")
        assert [e.outcome for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "identifyVisitor")
                                             .order_by(AuditEntry.seq))] == [
            "ok", "ok", "refused:ANONYMOUS_ID_TAKEN", "refused:NOT_IDENTIFIED", "refused:NOT_YOUR_CUSTOMER_ID",
            "refused:BAD_ANONYMOUS_ID"]
