"""Webhooks as a durable consumer of the event stream: partner events become deliveries exactly once,
a replay from the beginning rebuilds the same deliveries, and only subscribed endpoints hear."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import moved_clock
from core.db import read_only_session, transaction
from core.egress import EgressPolicy
from core.event_stream import drain, replay
from partners import risk, webhooks
from partners.models import PartnerKind, WebhookDelivery
from partners.webhooks import WEBHOOK_CONSUMER
from tests.partner_factories import NOW, make_assignment, make_partner, partner_principal

LOOPBACK = EgressPolicy.from_entries(["127.0.0.1/32"])


@pytest.fixture(autouse=True)
def business_clock() -> Iterator[None]:
    with moved_clock(NOW):
        yield


def _endpoint(s: Any, partner: Any, events: tuple[str, ...] = (), *, now: dt.datetime = NOW) -> int:
    endpoint, _ = webhooks.register_endpoint(s, principal=partner_principal(partner), partner_id=partner.id,
                                             url="http://127.0.0.1:9/hook", events=events, policy=LOOPBACK,
                                             allow_insecure=True, now=now)
    return endpoint.id


def _deliveries(session_factory: Any) -> list[tuple[int, int, str, str]]:
    with read_only_session(session_factory) as s:
        return [(r.endpoint_id, r.partner_id, r.event, r.payload) for r in s.scalars(
            select(WebhookDelivery).order_by(WebhookDelivery.id))]


def test_an_assignment_becomes_one_delivery_per_subscribed_endpoint_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, other = make_partner(s), make_partner(s)
        everything, assignments_only = _endpoint(s, firm), _endpoint(s, firm, ("assignment.created",))
        _endpoint(s, firm, ("record.anchored",))  # not subscribed to assignments
        _endpoint(s, other)  # another partner's
        assignment = make_assignment(s, firm, case_reference="CLM-1", investigation_id=4711)
        assert _deliveries(session_factory) == []  # nothing before the commit
    assert _deliveries(session_factory) == []  # the consumer makes them, not the business transaction
    assert drain(session_factory, WEBHOOK_CONSUMER) >= 1
    made = _deliveries(session_factory)
    assert sorted(e for e, *_ in made) == sorted([everything, assignments_only])
    for _endpoint_id, partner_id, event, payload in made:
        assert (partner_id, event) == (firm.id, "assignment.created")
        assert json.loads(payload) == {"assignmentId": webhooks.node_id("Assignment", assignment.id),
                                       "kind": "survey", "caseReference": "CLM-1", "investigationId": 4711}
    assert drain(session_factory, WEBHOOK_CONSUMER) == 0
    assert _deliveries(session_factory) == made  # nothing twice


def test_replay_from_the_beginning_rebuilds_the_live_deliveries(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        _endpoint(s, firm)
        a, b = make_partner(s, kind=PartnerKind.INSURER), make_partner(s, kind=PartnerKind.INSURER)
        _endpoint(s, a, ("flag.matched",))
    for n in range(3):
        with transaction(session_factory) as s:
            make_assignment(s, firm, case_reference=f"CLM-{n}")
    with transaction(session_factory) as s:
        for insurer in (a, b):  # b's flag matches a's: a hears of it
            risk.publish_flag(s, principal=partner_principal(insurer), blinded_id="cd" * 32, flag_code="STAGED",
                              level="high", now=NOW)
    drain(session_factory, WEBHOOK_CONSUMER)
    live = _deliveries(session_factory)
    assert sorted(e for _, _, e, _ in live) == ["assignment.created"] * 3 + ["flag.matched"]
    with transaction(session_factory) as s:
        replay(s, WEBHOOK_CONSUMER.name, from_id=1)
    assert drain(session_factory, WEBHOOK_CONSUMER) >= 4  # every event read again
    assert _deliveries(session_factory) == live  # and the same deliveries, none twice
    with transaction(session_factory) as s:  # deliveries lost (a restore) are made again by a replay
        s.execute(WebhookDelivery.__table__.delete().where(WebhookDelivery.event == "flag.matched"))
        replay(s, WEBHOOK_CONSUMER.name, from_id=1)
    drain(session_factory, WEBHOOK_CONSUMER)
    assert sorted(_deliveries(session_factory), key=lambda d: d[2:]) == sorted(live, key=lambda d: d[2:])


def test_an_endpoint_registered_after_the_event_does_not_get_it(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        make_assignment(s, firm)
    with moved_clock(NOW + dt.timedelta(hours=1)), transaction(session_factory) as s:
        _endpoint(s, firm, now=NOW + dt.timedelta(hours=1))
    drain(session_factory, WEBHOOK_CONSUMER)
    assert _deliveries(session_factory) == []


def test_drains_racing_in_threads_make_each_delivery_once(session_factory: Any) -> None:
    """The consumer running in a worker while deliver_pending drains it too: positions are fenced."""
    with transaction(session_factory) as s:
        firm = make_partner(s)
        _endpoint(s, firm)
        for n in range(60):
            make_assignment(s, firm, case_reference=f"RACE-{n}")
    start = threading.Barrier(4)

    def race() -> None:
        start.wait()
        drain(session_factory, WEBHOOK_CONSUMER)

    with ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(race) for _ in range(4)]:
            done.result(timeout=60)
    made = _deliveries(session_factory)
    assert len(made) == 60 and len({payload for *_, payload in made}) == 60
