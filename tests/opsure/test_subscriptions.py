"""Subscriptions over graphql-transport-ws: authentication, delivery and scoping of policy events."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from core.auth import Role, TokenKeys, issue_token
from core.clock import business_today
from core.event_stream import process_tail
from opsure.runtime import Runtime
from opsure.trusted_documents import document_id, register_documents
from resolvers.policies import service
from resolvers.policies.events import POLICY_EVENT_TYPES
from schema.relay import decode_global_id, encode_global_id
from tests.factories import ADMIN, make_customer, make_product, make_quote

pytestmark = pytest.mark.timeout(60)

PROTOCOL = "graphql-transport-ws"
SUBSCRIBE = "subscription { policyEvents { kind policyId } }"
ISSUE = "mutation($q: ID!) { issuePolicy(quoteId: $q) { policy { id } errors { code message } } }"
_pool = ThreadPoolExecutor(4)


def _receive(ws: Any, timeout: float = 10.0) -> Any:
    """The next JSON message, failing (not hanging) when none comes within ``timeout``."""
    return _pool.submit(ws.receive_json).result(timeout=timeout)


def _subscribe(ws: Any, op_id: str, payload: dict[str, Any], timeout: float = 10.0) -> None:
    """Send a subscribe message and wait until the subscription listens on the process tail."""
    before = process_tail().subscriber_count(POLICY_EVENT_TYPES)
    ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
    deadline = time.monotonic() + timeout
    while process_tail().subscriber_count(POLICY_EVENT_TYPES) <= before:
        assert time.monotonic() < deadline, "the subscription never reached the tail"
        time.sleep(0.01)


@dataclasses.dataclass
class Shop:
    """Two customers, each with an accepted quote ready to issue."""

    customer_a: int
    customer_b: int
    quote_a: int
    quote_b: int


@pytest.fixture
def shop(session_factory: Any) -> Shop:
    today = business_today()
    with session_factory() as s:
        product = make_product(s)
        a, b = make_customer(s), make_customer(s, birth=dt.date(1985, 5, 5))
        qa = make_quote(s, customer=a, product=product, today=today)
        qb = make_quote(s, customer=b, product=product, today=today)
        s.commit()
        return Shop(a.id, b.id, qa.id, qb.id)


def _token(runtime: Runtime, role: Role = Role.CUSTOMER, keys: TokenKeys | None = None, **claims: Any) -> str:
    return issue_token(keys or runtime.token_keys, runtime.settings, subject=f"{role.value}-ws", role=role, **claims)


def _issue(http: Any, runtime: Runtime, customer_id: int, quote_id: int) -> str:
    token = _token(runtime, customer_id=customer_id)
    resp = http.post("/graphql", json={"query": ISSUE, "variables": {"q": encode_global_id("Quote", quote_id)}},
                     headers={"authorization": f"Bearer {token}", "accept": "application/graphql-response+json"})
    payload = resp.json()["data"]["issuePolicy"]
    assert resp.status_code == 200 and payload["errors"] == [], resp.text
    return payload["policy"]["id"]  # type: ignore[no-any-return]


@pytest.fixture
def connect(http: TestClient) -> Iterator[Any]:
    """Factory: open a graphql-transport-ws connection and send connection_init."""
    opened: list[Any] = []

    def make(headers: dict[str, str] | None = None, payload: dict[str, Any] | None = None) -> Any:
        cm = http.websocket_connect("/graphql", subprotocols=[PROTOCOL], headers=headers or {})
        ws = cm.__enter__()
        opened.append(cm)
        assert ws.accepted_subprotocol == PROTOCOL
        ws.send_json({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        return ws

    yield make
    for cm in reversed(opened):
        with contextlib.suppress(Exception):  # already closed by the server
            cm.__exit__(None, None, None)


def test_customer_receives_own_events_only(connect: Any, http: TestClient, runtime: Runtime, shop: Shop,
                                          session_factory: Any) -> None:
    ws = connect(headers={"authorization": f"Bearer {_token(runtime, customer_id=shop.customer_a)}"})
    assert _receive(ws) == {"type": "connection_ack"}
    _subscribe(ws, "s1", {"query": SUBSCRIBE})

    _issue(http, runtime, shop.customer_b, shop.quote_b)  # someone else's policy: not for A
    policy_a = _issue(http, runtime, shop.customer_a, shop.quote_a)
    msg = _receive(ws)
    assert msg == {"id": "s1", "type": "next",
                   "payload": {"data": {"policyEvents": {"kind": "ISSUED", "policyId": policy_a}}}}

    # Through the service and a commit, as the worker or another process would.
    with session_factory() as s:
        service.surrender_policy(s, principal=ADMIN, policy_id=decode_global_id(policy_a, "Policy"), expected_version=None,
                                 today=business_today(), reason="moving abroad")
        s.commit()
    msg = _receive(ws)
    assert msg["payload"]["data"]["policyEvents"] == {"kind": "SURRENDERED", "policyId": policy_a}

    ws.send_json({"id": "s1", "type": "complete"})


def test_auth_via_connection_init_payload(connect: Any, http: TestClient, runtime: Runtime, shop: Shop) -> None:
    ws = connect(payload={"Authorization": f"Bearer {_token(runtime, customer_id=shop.customer_b)}"})
    assert _receive(ws)["type"] == "connection_ack"
    _subscribe(ws, "b", {"query": SUBSCRIBE})
    _issue(http, runtime, shop.customer_a, shop.quote_a)
    policy_b = _issue(http, runtime, shop.customer_b, shop.quote_b)
    assert _receive(ws)["payload"]["data"]["policyEvents"] == {"kind": "ISSUED", "policyId": policy_b}


def test_staff_sees_every_customers_events(connect: Any, http: TestClient, runtime: Runtime, shop: Shop) -> None:
    ws = connect(payload={"authorization": f"Bearer {_token(runtime, Role.AGENT)}"})
    assert _receive(ws)["type"] == "connection_ack"
    _subscribe(ws, "x", {"query": SUBSCRIBE})
    first = _issue(http, runtime, shop.customer_a, shop.quote_a)
    second = _issue(http, runtime, shop.customer_b, shop.quote_b)
    got = [_receive(ws)["payload"]["data"]["policyEvents"]["policyId"] for _ in range(2)]
    assert got == [first, second]


def test_payload_token_wins_over_a_bad_header(connect: Any, runtime: Runtime, shop: Shop) -> None:
    ws = connect(headers={"authorization": "Bearer forged"},
                 payload={"Authorization": f"Bearer {_token(runtime, customer_id=shop.customer_a)}"})
    assert _receive(ws)["type"] == "connection_ack"


def _refused(ws: Any) -> str:
    with pytest.raises(WebSocketDisconnect) as exc:
        _receive(ws)
    assert exc.value.code == 4403
    return str(exc.value.reason)


def test_anonymous_subscriber_is_refused(connect: Any) -> None:
    before = process_tail().subscriber_count(POLICY_EVENT_TYPES)
    assert "authentication required" in _refused(connect())
    assert "authentication required" in _refused(connect(payload={}))
    assert process_tail().subscriber_count(POLICY_EVENT_TYPES) == before


@pytest.mark.parametrize("where", ["header", "payload"])
def test_bad_tokens_are_refused(connect: Any, runtime: Runtime, where: str) -> None:
    expired = _token(runtime, Role.ADMIN, ttl_seconds=-60)
    forged = _token(runtime, Role.ADMIN, keys=TokenKeys.generate())
    for value, reason in ((f"Bearer {expired}", "expired"), (f"Bearer {forged}", "signature"),
                          ("Basic abc", "Bearer"), ("Bearer x.y.z", "invalid")):
        if where == "header":
            ws = connect(headers={"authorization": value})
        else:
            ws = connect(payload={"Authorization": value})
        assert reason in _refused(ws)
    assert "Bearer" in _refused(connect(payload={"Authorization": 42}))


def test_subscription_field_permissions_still_apply(connect: Any, runtime: Runtime) -> None:
    ws = connect(payload={"Authorization": f"Bearer {_token(runtime, Role.PARTNER, partner_id=1)}"})
    assert _receive(ws)["type"] == "connection_ack"
    ws.send_json({"id": "p", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
    msg = _receive(ws)
    assert msg["type"] == "error" and msg["payload"][0]["extensions"]["code"] == "FORBIDDEN"


def test_queries_and_mutations_belong_on_http(connect: Any, runtime: Runtime) -> None:
    ws = connect(payload={"Authorization": f"Bearer {_token(runtime, Role.ADMIN)}"})
    assert _receive(ws)["type"] == "connection_ack"
    ws.send_json({"id": "q", "type": "subscribe", "payload": {"query": "{ __typename }"}})
    msg = _receive(ws)
    assert msg["id"] == "q" and msg["type"] == "error"
    assert "Only subscriptions" in msg["payload"][0]["message"]


def test_trusted_documents_apply_to_subscriptions(runtime: Runtime, shop: Shop) -> None:
    from opsure.app import create_app

    register_documents(runtime.settings.data_dir, [SUBSCRIBE, ISSUE])
    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(trusted_documents_only=True))
    token = _token(runtime, customer_id=shop.customer_a)
    auth = {"authorization": f"Bearer {token}"}
    with TestClient(create_app(rt.settings, rt)) as client, \
            client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert _receive(ws)["type"] == "connection_ack"
        ws.send_json({"id": "raw", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        msg = _receive(ws)
        assert msg["type"] == "error" and msg["payload"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
        ws.send_json({"id": "unknown", "type": "subscribe", "payload": {"documentId": document_id("{ x }")}})
        msg = _receive(ws)
        assert msg["type"] == "error" and msg["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

        _subscribe(ws, "ok", {"documentId": document_id(SUBSCRIBE)})
        resp = client.post("/graphql", json={"documentId": document_id(ISSUE),
                                             "variables": {"q": encode_global_id("Quote", shop.quote_a)}},
                           headers=auth)
        policy_a = resp.json()["data"]["issuePolicy"]["policy"]["id"]
        msg = _receive(ws)
        assert msg["id"] == "ok"
        assert msg["payload"]["data"]["policyEvents"] == {"kind": "ISSUED", "policyId": policy_a}
        ws.send_json({"id": "ok", "type": "complete"})


def test_deeply_nested_websocket_message_is_refused_not_fatal(app) -> None:  # type: ignore[no-untyped-def]
    """A websocket frame of 200,000 nested brackets closes the socket; the server lives on."""
    import sys

    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # what py_ecc does on import
    try:
        with TestClient(app) as client:
            with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
                ws.send_text("[" * 200_000 + "]" * 200_000)
                try:
                    message = ws.receive()
                    assert message["type"] == "websocket.close"
                except WebSocketDisconnect as closed:
                    assert closed.code >= 4000
            assert client.get("/healthz").status_code == 200
    finally:
        sys.setrecursionlimit(old)


def test_connection_closes_when_its_token_expires(app: Any, runtime: Runtime) -> None:
    """A live subscription does not outlive its bearer token: closed with 4401."""
    token = issue_token(runtime.token_keys, runtime.settings, subject="agent-short", role=Role.AGENT, ttl_seconds=2)
    with TestClient(app) as client, client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert _receive(ws)["type"] == "connection_ack"
        _subscribe(ws, "1", {"query": SUBSCRIBE})
        with pytest.raises(WebSocketDisconnect) as closed:
            _pool.submit(ws.receive_json).result(timeout=15)
        assert closed.value.code == 4401
