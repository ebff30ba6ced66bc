"""GraphQL documents over ``max_document_bytes`` are refused before parsing, on every route.

413 ``DOCUMENT_TOO_LARGE`` for POST bodies, GET query strings and trusted documents; an
``error`` message on a websocket subscribe. Comments count towards the token limit (a
subscription over it is a syntax error: the socket closes with 4400).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from core.auth import Role, issue_token
from opsure.graphql_http import GRAPHQL_RESPONSE, JSON
from opsure.runtime import Runtime
from opsure.trusted_documents import document_id, register_documents, validate_documents

CAP = 65_536


def _padded(size: int, *, char: str = "x", head: str = "{ __typename }") -> str:
    """A valid document of exactly ``size`` UTF-8 bytes: a query and one long comment."""
    prefix = head + "\n#"
    room = size - len(prefix.encode())
    width = len(char.encode())
    return prefix + char * (room // width) + " " * (room % width)


def _parsed(http: TestClient) -> int:
    """Documents the app's schema parsed so far (cache misses of the parse cache)."""
    return http.app.state.schema.documents.parsed.stats().misses  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def admin(runtime: Runtime) -> dict[str, str]:
    token = issue_token(runtime.token_keys, runtime.settings, subject="admin-doc", role=Role.ADMIN)
    return {"accept": GRAPHQL_RESPONSE, "authorization": f"Bearer {token}"}


def _too_large(resp: Any, limit: int = CAP) -> None:
    assert resp.status_code == 413, resp.text
    error = resp.json()["errors"][0]
    assert error["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    assert str(limit) in error["message"] and "data" not in resp.json()


@pytest.mark.parametrize("media", [GRAPHQL_RESPONSE, JSON])
def test_post_over_the_cap_is_413_and_never_parsed(http: TestClient, media: str) -> None:
    ok = http.post("/graphql", json={"query": _padded(CAP)}, headers={"accept": media})
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}
    before = _parsed(http)
    _too_large(http.post("/graphql", json={"query": _padded(CAP + 1)}, headers={"accept": media}))
    assert _parsed(http) == before


def test_the_cap_counts_utf8_bytes_not_characters(http: TestClient) -> None:
    doc = _padded(CAP + 3, char="中")  # ~21,800 characters, 65,539 bytes
    assert len(doc) < CAP
    _too_large(http.post("/graphql", json={"query": doc}))
    assert http.post("/graphql", json={"query": _padded(CAP, char="中")}).status_code == 200


def test_the_cap_follows_settings_and_covers_get_query_strings(runtime: Runtime) -> None:
    from opsure.app import create_app

    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(max_document_bytes=1000))
    with TestClient(create_app(rt.settings, rt)) as client:
        _too_large(client.post("/graphql", json={"query": _padded(1001)}), 1000)
        assert client.post("/graphql", json={"query": _padded(1000)}).status_code == 200
        _too_large(client.get("/graphql", params={"query": _padded(1001)}), 1000)
        assert client.get("/graphql", params={"query": _padded(1000)}).status_code == 200


def test_a_registered_document_over_the_cap_is_refused(runtime: Runtime) -> None:
    from opsure.app import create_app

    big = _padded(2000)
    register_documents(runtime.settings.data_dir, [big])
    assert any("larger than 1000 bytes" in p for p in
               validate_documents([("big.graphql", big)], runtime.settings.with_(max_document_bytes=1000)))
    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(max_document_bytes=1000))
    with TestClient(create_app(rt.settings, rt)) as client:
        _too_large(client.post("/graphql", json={"documentId": document_id(big)}), 1000)


def test_comments_count_towards_the_token_limit(http: TestClient, admin: dict[str, str]) -> None:
    doc = "{ __typename }\n" + "#\n" * 4100  # 8 KB: far under the byte cap, 4,100 comments
    resp = http.post("/graphql", json={"query": doc}, headers=admin)
    assert resp.status_code == 400 and "more than 4000 tokens" in resp.json()["errors"][0]["message"]


@pytest.fixture
def subscriber(http: TestClient, runtime: Runtime) -> Iterator[Any]:
    token = issue_token(runtime.token_keys, runtime.settings, subject="admin-ws", role=Role.ADMIN)
    with http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        yield ws


def test_websocket_subscribe_over_the_cap_is_refused(subscriber: Any, http: TestClient) -> None:
    before = _parsed(http)
    doc = _padded(CAP + 1, head="subscription { policyEvents { kind } }")
    subscriber.send_json({"id": "big", "type": "subscribe", "payload": {"query": doc}})
    msg = subscriber.receive_json()
    assert msg["id"] == "big" and msg["type"] == "error"
    assert msg["payload"][0]["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    assert _parsed(http) == before
    tokens = "subscription { policyEvents { kind } }\n" + "#\n" * 4100
    subscriber.send_json({"id": "long", "type": "subscribe", "payload": {"query": tokens}})
    with pytest.raises(WebSocketDisconnect) as closed:  # a syntax error: 4400, as the protocol says
        subscriber.receive_json()
    assert closed.value.code == 4400 and "more than 4000 tokens" in closed.value.reason
