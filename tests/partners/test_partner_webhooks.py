"""Webhooks against a real loopback HTTP server: signed, retried with backoff, logged."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.auth import Role
from core.db import transaction
from core.errors import ValidationError
from core.settings import Settings
from partners import webhooks
from partners.models import DeliveryStatus, WebhookDelivery
from tests.partner_factories import NOW, WebhookReceiver, make_assignment, make_partner, partner_principal


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings allowing loopback webhooks."""
    return settings.with_(extra={**settings.extra, "partners.webhooks_allow_insecure": "1"})


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver().start()
    yield r
    r.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def _endpoint(session_factory: Any, url: str, events: tuple[str, ...] = ()) -> tuple[Any, str]:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        _, secret = webhooks.register_endpoint(s, principal=partner_principal(firm), partner_id=firm.id,
                                                      url=url, events=events, allow_insecure=True, now=NOW)
        return firm, secret


def _delivery(session_factory: Any, did: int) -> WebhookDelivery:
    with session_factory() as s:
        row = s.get(WebhookDelivery, did)
        assert row is not None
        return row


def test_delivery_is_signed_and_retried_with_backoff_until_it_lands(
    session_factory: Any, receiver: WebhookReceiver, client: httpx.Client
) -> None:
    firm, secret = _endpoint(session_factory, receiver.url)
    with transaction(session_factory) as s:
        make_assignment(s, firm, case_reference="CLM-7", investigation_id=77)
    receiver.statuses.extend([500])
    first = webhooks.deliver_pending(session_factory, client, now=NOW, jitter=0)
    assert (first.delivered, first.retried, first.failed) == (0, 1, 0)
    with session_factory() as s:
        (did,) = s.query(WebhookDelivery.id).all()[0]
    row = _delivery(session_factory, did)
    assert row.attempts == 1 and row.last_status_code == 500 and row.next_attempt_at == NOW + dt.timedelta(seconds=10)
    assert webhooks.deliver_pending(session_factory, client, now=NOW + dt.timedelta(seconds=5)).retried == 0  # not due
    second = webhooks.deliver_pending(session_factory, client, now=NOW + dt.timedelta(seconds=11), jitter=0)
    assert second.delivered == 1
    row = _delivery(session_factory, did)
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 2 and row.last_status_code == 200
    assert len(receiver.calls) == 2
    bodies = {body for _, body in receiver.calls}
    assert len(bodies) == 1  # the retry sends the very same bytes
    headers, body = receiver.calls[-1]
    assert headers["opsure-event"] == "assignment.created" and headers["opsure-delivery"] == str(did)
    assert webhooks.verify_signature(secret, headers["opsure-signature"], body)
    assert not webhooks.verify_signature(secret, headers["opsure-signature"], body + b" ")
    assert not webhooks.verify_signature("whsec_other", headers["opsure-signature"], body)
    assert not webhooks.verify_signature(secret, headers["opsure-signature"], body, now=time.time() + 3600)
    sent = json.loads(body)
    assert sent["id"] == did and sent["data"] == {"assignmentId": sent["data"]["assignmentId"], "kind": "survey",
                                                  "caseReference": "CLM-7", "investigationId": 77}


def test_backoff_doubles_and_gives_up_after_max_attempts(session_factory: Any, client: httpx.Client) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"
    firm, _ = _endpoint(session_factory, dead)
    with transaction(session_factory) as s:
        webhooks.enqueue(s, partner_id=firm.id, event="flag.matched", data={"x": 1}, now=NOW)
    at = NOW
    waits = []
    for _ in range(3):
        result = webhooks.deliver_pending(session_factory, client, now=at, max_attempts=3, base_delay=10, jitter=0)
        with session_factory() as s:
            row = s.query(WebhookDelivery).one()
        waits.append((row.next_attempt_at - at).total_seconds())
        at = row.next_attempt_at
    assert result.failed == 1 and row.status is DeliveryStatus.FAILED and row.attempts == 3
    assert waits[:2] == [10.0, 20.0]
    assert row.last_error is not None and "Connect" in row.last_error
    assert webhooks.deliver_pending(session_factory, client, now=at + dt.timedelta(days=1)).failed == 0


def test_deactivated_endpoints_fail_their_pending_deliveries(
    session_factory: Any, receiver: WebhookReceiver, client: httpx.Client
) -> None:
    firm, _ = _endpoint(session_factory, receiver.url, events=("record.anchored",))
    with transaction(session_factory) as s:
        assert webhooks.enqueue(s, partner_id=firm.id, event="flag.matched", data={}, now=NOW) == 0  # not subscribed
        assert webhooks.enqueue(s, partner_id=firm.id, event="record.anchored", data={"r": 1}, now=NOW) == 1
        (endpoint,) = webhooks.list_endpoints(s, principal=partner_principal(firm), partner_id=firm.id)
        webhooks.deactivate_endpoint(s, principal=partner_principal(firm), endpoint_id=endpoint.id)
    assert webhooks.deliver_pending(session_factory, client, now=NOW).failed == 1
    assert receiver.calls == []


def test_claims_are_leased_so_two_workers_never_send_the_same_row(session_factory: Any) -> None:
    firm, _ = _endpoint(session_factory, "http://127.0.0.1:9/hooks")
    with transaction(session_factory) as s:
        webhooks.enqueue(s, partner_id=firm.id, event="flag.matched", data={}, now=NOW)
    first = webhooks._claim(session_factory, NOW, 10, 60)
    assert len(first) == 1 and webhooks._claim(session_factory, NOW, 10, 60) == []
    assert webhooks._claim(session_factory, NOW + dt.timedelta(seconds=61), 10, 60) == first  # lease ran out


def test_endpoint_urls_are_checked(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        p = partner_principal(firm)
        for url in ["http://partner.example/h", "https://127.0.0.1/h", "https://10.1.2.3/h", "https://localhost/h",
                    "ftp://partner.example/h", "https://user:pw@partner.example/h"]:
            with pytest.raises(ValidationError):
                webhooks.register_endpoint(s, principal=p, partner_id=firm.id, url=url, events=(), now=NOW)
        with pytest.raises(ValidationError):
            webhooks.register_endpoint(s, principal=p, partner_id=firm.id, url="https://partner.example/h",
                                       events=("no.such",), now=NOW)
        endpoint, _ = webhooks.register_endpoint(s, principal=p, partner_id=firm.id, url="https://partner.example/h",
                                                 events=(), now=NOW)
        assert endpoint.events == sorted(webhooks.EVENTS)


def test_partners_query_only_their_own_delivery_log(
    gql: Any, session_factory: Any, receiver: WebhookReceiver, client: httpx.Client
) -> None:
    firm, _ = _endpoint(session_factory, receiver.url)
    other, _ = _endpoint(session_factory, receiver.url)
    with transaction(session_factory) as s:
        make_assignment(s, firm)
    webhooks.deliver_pending(session_factory, client)
    q = "{ webhookDeliveries { edges { node { event status attempts lastStatusCode data } } } }"
    mine = gql(Role.PARTNER, partner_id=firm.id)(q)["webhookDeliveries"]["edges"]
    assert [(e["node"]["event"], e["node"]["status"], e["node"]["attempts"]) for e in mine] == [
        ("assignment.created", "DELIVERED", 1)]
    assert gql(Role.PARTNER, partner_id=other.id)(q)["webhookDeliveries"]["edges"] == []
    assert len(gql(Role.ADMIN)(q)["webhookDeliveries"]["edges"]) == 1
    endpoints = gql(Role.PARTNER, partner_id=other.id)("{ webhookEndpoints { url events active } }")
    assert endpoints["webhookEndpoints"] == [{"url": receiver.url, "events": sorted(webhooks.EVENTS), "active": True}]
