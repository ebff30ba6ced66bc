"""Webhooks against real loopback servers: signed, retried with backoff, logged — and never a
way into our network (SSRF): literal private forms refused at registration and at connect,
DNS answers checked at connect (rebinding), no redirects, no body read, a time budget, and
partners see a code while staff see the detail."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
import trustme
import uvicorn

from core.auth import Role
from core.clock import moved_clock
from core.db import transaction
from core.egress import EgressPolicy, egress_client
from core.errors import ValidationError
from core.pagination import PageRequest
from core.settings import Settings
from partners import webhooks
from partners.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from schema.relay import encode_global_id
from tests.partner_factories import NOW, WebhookReceiver, make_assignment, make_partner, partner_principal

pytestmark = pytest.mark.timeout(60)

#: The test receivers live on loopback: the operator allowlist names exactly that address.
LOOPBACK_ONLY = EgressPolicy.from_entries(["127.0.0.1/32"])
STRICT = EgressPolicy()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings: plain http and the loopback receivers allowed (operator-controlled)."""
    return settings.with_(extra={**settings.extra, "partners.webhooks_allow_insecure": "1"},
                          egress_allow=("127.0.0.1/32",))


@pytest.fixture(autouse=True)
def business_clock() -> Iterator[None]:
    """The clock stands at NOW, the instant the services are given: events occur when their deliveries are due."""
    with moved_clock(NOW):
        yield


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver().start()
    yield r
    r.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with egress_client(LOOPBACK_ONLY, timeout=5) as client:
        yield client


class Canary:
    """A TCP listener that must never be reached: counts every connection it accepts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.create_server((host, port))
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    c = Canary()
    yield c
    c.close()


class ScriptedResolver:
    """A resolver we control: one answer per call, in order (the last repeats)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _endpoint(session_factory: Any, url: str, events: tuple[str, ...] = (),
              policy: EgressPolicy = LOOPBACK_ONLY) -> tuple[Any, str]:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        _, secret = webhooks.register_endpoint(s, principal=partner_principal(firm), partner_id=firm.id,
                                               url=url, events=events, policy=policy, allow_insecure=True, now=NOW)
        return firm, secret


def _legacy_endpoint(session_factory: Any, url: str) -> Any:
    """An endpoint row stored before registration checked addresses (no check runs here)."""
    with transaction(session_factory) as s:
        firm = make_partner(s)
        s.add(WebhookEndpoint(partner_id=firm.id, url=url, secret="whsec_x", events=list(webhooks.EVENTS),
                              active=True, created_by="legacy", created_at=NOW))
        return firm


FLAG_MATCHED = {"blindedId": "ab" * 32, "riskFlagId": encode_global_id("RiskFlag", 1), "flagCode": "X_FLAG",
                "level": "high", "publisher": "INS-1"}
RECORD_ANCHORED = {"signedRecordId": encode_global_id("SignedRecord", 1), "recordType": "SurveyReport",
                   "commitment": "0x" + "cd" * 32}


def _notify(session_factory: Any, firm: Any) -> None:
    with transaction(session_factory) as s:
        webhooks.enqueue(s, partner_id=firm.id, event="flag.matched", data=FLAG_MATCHED, now=NOW)


def _delivery(session_factory: Any, did: int) -> WebhookDelivery:
    with session_factory() as s:
        row = s.get(WebhookDelivery, did)
        assert row is not None
        return row


def _deliveries(session_factory: Any) -> list[WebhookDelivery]:
    with session_factory() as s:
        return list(s.query(WebhookDelivery).order_by(WebhookDelivery.id))


def test_delivery_is_signed_and_retried_with_backoff_until_it_lands(
    session_factory: Any, receiver: WebhookReceiver, client: httpx.Client
) -> None:
    firm, secret = _endpoint(session_factory, receiver.url)
    with transaction(session_factory) as s:
        assignment = make_assignment(s, firm, case_reference="CLM-7", investigation_id=77)
    receiver.statuses.extend([500])
    first = webhooks.deliver_pending(session_factory, client, now=NOW, jitter=0)
    assert (first.delivered, first.retried, first.failed) == (0, 1, 0)
    with session_factory() as s:
        (did,) = s.query(WebhookDelivery.id).all()[0]
    row = _delivery(session_factory, did)
    assert row.attempts == 1 and row.last_status_code == 500 and row.next_attempt_at == NOW + dt.timedelta(seconds=10)
    assert (row.last_error, row.last_error_detail) == ("HTTP_STATUS", "HTTP 500")
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
    # the payload names rows by global id, as node(id:) and assignment(id:) take them
    assert sent["id"] == did and sent["data"] == {"assignmentId": encode_global_id("Assignment", assignment.id),
                                                  "kind": "survey", "caseReference": "CLM-7", "investigationId": 77}


def test_backoff_doubles_and_gives_up_after_max_attempts(session_factory: Any, client: httpx.Client) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"
    firm, _ = _endpoint(session_factory, dead)
    _notify(session_factory, firm)
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
    assert row.last_error == "DELIVERY_FAILED" and row.last_status_code is None
    assert row.last_error_detail is not None and "Connect" in row.last_error_detail
    assert webhooks.deliver_pending(session_factory, client, now=at + dt.timedelta(days=1)).failed == 0


def test_deactivated_endpoints_fail_their_pending_deliveries(
    session_factory: Any, receiver: WebhookReceiver, client: httpx.Client
) -> None:
    firm, _ = _endpoint(session_factory, receiver.url, events=("record.anchored",))
    with transaction(session_factory) as s:
        assert webhooks.enqueue(s, partner_id=firm.id, event="flag.matched", data=FLAG_MATCHED, now=NOW) == 0  # unsubscribed
        assert webhooks.enqueue(s, partner_id=firm.id, event="record.anchored", data=RECORD_ANCHORED, now=NOW) == 1
        with pytest.raises(ValueError, match="payload has exactly"):
            webhooks.enqueue(s, partner_id=firm.id, event="record.anchored", data={"r": 1}, now=NOW)
        (endpoint,) = webhooks.list_endpoints(s, principal=partner_principal(firm), partner_id=firm.id,
                                              page=PageRequest(first=10)).items
        webhooks.deactivate_endpoint(s, principal=partner_principal(firm), endpoint_id=endpoint.id)
    assert webhooks.deliver_pending(session_factory, client, now=NOW).failed == 1
    assert receiver.calls == []
    assert _deliveries(session_factory)[0].last_error == "ENDPOINT_DEACTIVATED"


def test_claims_are_leased_so_two_workers_never_send_the_same_row(session_factory: Any) -> None:
    firm, _ = _endpoint(session_factory, "http://127.0.0.1:9/hooks")
    _notify(session_factory, firm)
    first = webhooks._claim(session_factory, NOW, 10, 60)
    assert len(first) == 1 and webhooks._claim(session_factory, NOW, 10, 60) == []
    assert webhooks._claim(session_factory, NOW + dt.timedelta(seconds=61), 10, 60) == first  # lease ran out


REFUSED_URLS = [
    # the issue's forms of 127.0.0.1 and 0.0.0.0
    "https://127.1/", "https://2130706433/", "https://0x7f000001/", "https://0/", "https://017700000001/",
    "https://0177.0.0.1/", "https://127.000.000.001/", "https://0x7f.1/", "https://127.0.0.1/", "https://0.0.0.0/",
    # private, shared, link-local (cloud metadata), multicast, reserved, special-purpose IPv4
    "https://10.1.2.3/h", "https://172.16.0.1/", "https://192.168.1.1/", "https://100.64.0.1/",
    "https://169.254.169.254/latest/meta-data/", "https://224.0.0.1/", "https://240.0.0.1/",
    "https://255.255.255.255/", "https://192.0.0.8/", "https://198.18.0.1/",
    # IPv6: loopback, unspecified, mapped/compatible/NAT64/6to4/Teredo wrappers of private IPv4, ULA, link/site-local
    "https://[::1]/", "https://[::]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/",
    "https://[::127.0.0.1]/", "https://[64:ff9b::7f00:1]/", "https://[64:ff9b::a00:1]/", "https://[2002:7f00:1::]/",
    "https://[2002:a00:1::1]/", "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "https://[fc00::1]/",
    "https://[fd12:3456::1]/", "https://[fe80::1]/", "https://[fe80::1%25eth0]/", "https://[fec0::1]/",
    "https://[ff02::1]/", "https://[64:ff9b:1::1]/",
    # names that stay on our side
    "https://localhost/h", "https://LOCALHOST/", "https://api.localhost/", "https://localhost./",
    "https://intranet/", "https://printer.local/", "https://db.internal/", "https://nas.home.arpa/",
    "https://partner.example./h", "https://127.0.0.1./",
    # userinfo and parser tricks
    "https://good@127.0.0.1/", "https://partner.example@127.0.0.1/", "https://user:pw@partner.example/h",
    "https://partner.example\\@127.0.0.1/", "https://partner.example%2f@127.0.0.1/", "https://a b.example/",
    "https://partner.example:0/", "https://partner.example:99999/",
    # schemes
    "http://partner.example/h", "ftp://partner.example/h", "file:///etc/passwd", "gopher://partner.example/",
    "https:///nohost", "https://" + "a" * 2000 + ".example/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_non_public_targets_are_refused_at_registration(session_factory: Any, url: str) -> None:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        with pytest.raises(ValidationError) as refused:
            webhooks.register_endpoint(s, principal=partner_principal(firm), partner_id=firm.id, url=url,
                                       events=(), now=NOW)
        assert refused.value.code == "BAD_URL"


def test_public_targets_and_operator_allowed_ones_are_accepted(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        p = partner_principal(firm)
        with pytest.raises(ValidationError):
            webhooks.register_endpoint(s, principal=p, partner_id=firm.id, url="https://partner.example/h",
                                       events=("no.such",), now=NOW)
        for url in ["https://partner.example/h", "https://hooks.partner.example:8443/opsure?x=1",
                    "https://8.8.8.8/h", "https://[2606:4700::1111]/h", "https://[::ffff:8.8.8.8]/h",
                    "https://[64:ff9b::808:808]/h", "https://例子.测试/h"]:
            endpoint, _ = webhooks.register_endpoint(s, principal=p, partner_id=firm.id, url=url, events=(), now=NOW)
            assert endpoint.events == sorted(webhooks.EVENTS)
        gateway = EgressPolicy.from_entries(["10.20.0.0/16", "[fd00::5]:8443"])
        webhooks.register_endpoint(s, principal=p, partner_id=firm.id, url="https://10.20.1.2/h", events=(),
                                   policy=gateway, now=NOW)
        webhooks.register_endpoint(s, principal=p, partner_id=firm.id, url="https://[fd00::5]:8443/h", events=(),
                                   policy=gateway, now=NOW)
        with pytest.raises(ValidationError):  # the allowance names a port
            webhooks.register_endpoint(s, principal=p, partner_id=firm.id, url="https://[fd00::5]/h", events=(),
                                       policy=gateway, now=NOW)


def test_literal_private_forms_are_refused_at_connect_time_too(session_factory: Any, canary: Canary) -> None:
    """Rows stored before the registration check (or any other way) still never reach loopback."""
    port = canary.port
    for url in [f"https://127.1:{port}/", f"https://2130706433:{port}/", f"https://0x7f000001:{port}/",
                f"https://0:{port}/", f"https://017700000001:{port}/", f"https://[::ffff:127.0.0.1]:{port}/",
                f"http://localhost:{port}/", f"http://127.0.0.1:{port}/"]:
        _notify(session_factory, _legacy_endpoint(session_factory, url))
    with egress_client(STRICT, timeout=5) as strict:
        result = webhooks.deliver_pending(session_factory, strict, now=NOW, max_attempts=1)
    assert result.failed == 8 and canary.hits == 0
    for row in _deliveries(session_factory):
        assert row.last_error == "DELIVERY_FAILED" and row.last_status_code is None
        assert row.last_error_detail is not None and "refused" in row.last_error_detail


def test_dns_answers_are_checked_at_connect_so_rebinding_cannot_reach_a_private_address(
    session_factory: Any, receiver: WebhookReceiver
) -> None:
    """First answer: the allowed receiver (127.0.0.1); then the same name answers 127.0.0.2 (not allowed)."""
    canary = Canary("127.0.0.2", receiver.port)
    try:
        url = f"http://hooks.partner.example:{receiver.port}/hooks"
        firm, _ = _endpoint(session_factory, url)  # a name: nothing to judge until it is resolved
        resolver = ScriptedResolver(["127.0.0.1"], ["127.0.0.2"], ["127.0.0.1", "10.0.0.1"])
        with egress_client(LOOPBACK_ONLY, resolver=resolver, timeout=5) as rebinding:
            for at in range(3):
                _notify(session_factory, firm)
                webhooks.deliver_pending(session_factory, rebinding, now=NOW + dt.timedelta(hours=at), max_attempts=1)
        delivered, rebound, mixed = _deliveries(session_factory)
        assert delivered.status is DeliveryStatus.DELIVERED and len(receiver.calls) == 1
        assert rebound.status is DeliveryStatus.FAILED and "127.0.0.2" in (rebound.last_error_detail or "")
        assert mixed.status is DeliveryStatus.FAILED and "10.0.0.1" in (mixed.last_error_detail or "")
        assert canary.hits == 0 and len(receiver.calls) == 1  # one private answer spoils the whole answer
        assert resolver.calls == ["hooks.partner.example"] * 3  # one resolution per delivery, then that address
    finally:
        canary.close()


class _TlsReceiver(WebhookReceiver):
    """The webhook receiver over HTTPS with a certificate from a test CA."""

    def __init__(self, ca: trustme.CA, *names: str) -> None:
        super().__init__()
        self.cert = ca.issue_cert(*names)

    def start(self) -> _TlsReceiver:
        with self.cert.private_key_and_cert_chain_pem.tempfile() as pem:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.port = sock.getsockname()[1]
            config = uvicorn.Config(self._app, host="127.0.0.1", port=self.port, log_level="warning",
                                    lifespan="off", interface="asgi3", ssl_certfile=pem, ssl_keyfile=pem)
            config.load()  # reads the PEM while the temporary file exists
            self.server = uvicorn.Server(config)
            self._thread = threading.Thread(target=self.server.run, daemon=True)
            self._thread.start()
            deadline = time.monotonic() + 10
            while not self.server.started:
                assert time.monotonic() < deadline, "TLS receiver did not start"
                time.sleep(0.01)
        return self


def test_tls_checks_the_host_name_while_connecting_to_the_checked_address(session_factory: Any) -> None:
    ca = trustme.CA()
    tls = _TlsReceiver(ca, "hooks.partner.example").start()
    try:
        trust = ssl.create_default_context()
        ca.configure_trust(trust)
        resolver = ScriptedResolver(["127.0.0.1"])
        good, _ = _endpoint(session_factory, f"https://hooks.partner.example:{tls.port}/hooks")
        wrong, _ = _endpoint(session_factory, f"https://other.partner.example:{tls.port}/hooks")
        _notify(session_factory, good)
        _notify(session_factory, wrong)
        with egress_client(LOOPBACK_ONLY, resolver=resolver, verify=trust, timeout=5) as https:
            webhooks.deliver_pending(session_factory, https, now=NOW, max_attempts=1)
        to_good, to_wrong = _deliveries(session_factory)
        assert to_good.status is DeliveryStatus.DELIVERED and len(tls.calls) == 1
        assert to_wrong.status is DeliveryStatus.FAILED and "CERTIFICATE" in (to_wrong.last_error_detail or "").upper()
    finally:
        tls.stop()


class _RedirectingReceiver(WebhookReceiver):
    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.calls.append(({}, b""))
        await send({"type": "http.response.start", "status": 307,
                    "headers": [(b"location", self.location.encode())]})
        await send({"type": "http.response.body", "body": b""})


def test_redirects_are_not_followed(session_factory: Any, client: httpx.Client, canary: Canary) -> None:
    redirector = _RedirectingReceiver(f"http://127.0.0.1:{canary.port}/internal").start()
    try:
        firm, _ = _endpoint(session_factory, redirector.url)
        _notify(session_factory, firm)
        webhooks.deliver_pending(session_factory, client, now=NOW, max_attempts=1)
    finally:
        redirector.stop()
    (row,) = _deliveries(session_factory)
    assert row.status is DeliveryStatus.FAILED and row.last_status_code == 307 and row.last_error == "HTTP_STATUS"
    assert len(redirector.calls) == 1 and canary.hits == 0


class _EndlessReceiver(WebhookReceiver):
    """Answers 200 and then streams a body that never ends (until the server stops)."""

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while not self.server.should_exit:
            await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
            await asyncio.sleep(0.001)
        await send({"type": "http.response.body", "body": b""})


def test_the_response_body_is_never_read(session_factory: Any, client: httpx.Client) -> None:
    endless = _EndlessReceiver().start()
    try:
        firm, _ = _endpoint(session_factory, endless.url)
        _notify(session_factory, firm)
        assert webhooks.deliver_pending(session_factory, client, now=NOW).delivered == 1
    finally:
        endless.stop()


def test_a_server_that_never_answers_is_cut_off_by_the_time_budget(session_factory: Any) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog) and never says a word
    try:
        firm, _ = _endpoint(session_factory, f"http://127.0.0.1:{silent.getsockname()[1]}/hooks")
        _notify(session_factory, firm)
        with egress_client(LOOPBACK_ONLY, timeout=30, budget=0.3) as hurried:
            webhooks.deliver_pending(session_factory, hurried, now=NOW, max_attempts=1)
    finally:
        silent.close()
    (row,) = _deliveries(session_factory)
    assert row.last_error == "DELIVERY_FAILED" and "Timeout" in (row.last_error_detail or "")


def test_only_guarded_clients_deliver(session_factory: Any) -> None:
    with httpx.Client() as plain, pytest.raises(TypeError):
        webhooks.deliver_pending(session_factory, plain)


def test_partners_see_a_code_and_staff_the_detail(gql: Any, session_factory: Any, canary: Canary) -> None:
    firm = _legacy_endpoint(session_factory, f"https://127.1:{canary.port}/")
    _notify(session_factory, firm)
    with egress_client(STRICT) as strict:
        webhooks.deliver_pending(session_factory, strict, now=NOW, max_attempts=1)
    partner = gql(Role.PARTNER, partner_id=firm.id)
    q = "{ webhookDeliveries { edges { node { status lastError lastStatusCode } } } }"
    assert partner(q)["webhookDeliveries"]["edges"] == [
        {"node": {"status": "FAILED", "lastError": "DELIVERY_FAILED", "lastStatusCode": None}}]
    detail = "{ webhookDeliveries { edges { node { lastErrorDetail } } } }"
    for _ in range(3):  # not once, not after a plan is cached
        body = partner.post(detail).json()
        assert body.get("data") is None or body["data"]["webhookDeliveries"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    (edge,) = gql(Role.ADMIN)(detail)["webhookDeliveries"]["edges"]
    assert "refused" in edge["node"]["lastErrorDetail"] and "loopback" in edge["node"]["lastErrorDetail"]


def test_partners_query_only_their_own_delivery_log(
    gql: Any, session_factory: Any, receiver: WebhookReceiver, client: httpx.Client
) -> None:
    firm, _ = _endpoint(session_factory, receiver.url)
    other, _ = _endpoint(session_factory, receiver.url)
    with transaction(session_factory) as s:
        assignment = make_assignment(s, firm)
    webhooks.deliver_pending(session_factory, client)
    q = """{ webhookDeliveries { totalCount edges { node { id event status attempts lastStatusCode
             data { ... on AssignmentCreatedData { assignmentId kind caseReference investigationId } } } } } }"""
    mine = gql(Role.PARTNER, partner_id=firm.id)(q)["webhookDeliveries"]
    assert mine["totalCount"] == 1
    (node,) = [e["node"] for e in mine["edges"]]
    assert (node["event"], node["status"], node["attempts"]) == ("ASSIGNMENT_CREATED", "DELIVERED", 1)
    assert node["data"] == {"assignmentId": encode_global_id("Assignment", assignment.id), "kind": "SURVEY",
                            "caseReference": assignment.case_reference,
                            "investigationId": str(assignment.investigation_id)}
    assert gql(Role.PARTNER, partner_id=other.id)(q)["webhookDeliveries"]["edges"] == []
    assert len(gql(Role.ADMIN)(q)["webhookDeliveries"]["edges"]) == 1
    # by global id: the owner reads it, the other partner gets null
    by_id = "query($id: ID!) { node(id: $id) { ... on WebhookDelivery { event } } }"
    assert gql(Role.PARTNER, partner_id=firm.id)(by_id, {"id": node["id"]})["node"] == {"event": "ASSIGNMENT_CREATED"}
    assert gql(Role.PARTNER, partner_id=other.id)(by_id, {"id": node["id"]})["node"] is None
    endpoints = gql(Role.PARTNER, partner_id=other.id)("{ webhookEndpoints { edges { node { url events active } } } }")
    assert [e["node"] for e in endpoints["webhookEndpoints"]["edges"]] == [
        {"url": receiver.url, "events": ["ASSIGNMENT_CREATED", "FLAG_MATCHED", "RECORD_ANCHORED"], "active": True}]


def test_registration_through_graphql_uses_the_operator_allowlist(gql: Any, session_factory: Any,
                                                                  receiver: WebhookReceiver) -> None:
    with transaction(session_factory) as s:
        firm = make_partner(s)
    m = """mutation($url: String!) { registerWebhookEndpoint(input: {url: $url}) {
             endpoint { url } errors { field code } } }"""
    partner = gql(Role.PARTNER, partner_id=firm.id)
    assert partner(m, {"url": receiver.url})["registerWebhookEndpoint"]["errors"] == []  # 127.0.0.1 is allowed
    refused = partner(m, {"url": "https://2130706433/"})["registerWebhookEndpoint"]
    assert refused["endpoint"] is None and refused["errors"] == [{"field": "url", "code": "BAD_URL"}]
