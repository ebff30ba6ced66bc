"""Partner login through the real app: streamed body limit, throttling per (client, source)
in a store every worker shares (database or Redis), trusted proxies, and revocation that
voids live tokens over HTTP and websockets."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from limits.storage import RedisStorage
from sqlalchemy import func, select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from core.auth import Role, verify_token
from core.db import make_engine, make_session_factory, transaction
from core.ratelimit import RateLimitCounter
from core.settings import Settings
from opsure import app as app_module
from opsure import partner_auth
from opsure.app import create_app
from opsure.runtime import Runtime
from partners.credentials import create_client, revoke_client
from tests.partner_factories import CHECKER, make_assignment, make_partner

pytestmark = pytest.mark.timeout(120)

REDIS_URL = "redis://127.0.0.1:6379/12"
GRANT = {"grant_type": "client_credentials"}
CASES = "{ assignments { edges { node { caseReference } } } }"
_pool = ThreadPoolExecutor(2)


def _client(session_factory: Any) -> tuple[str, str, int]:
    with transaction(session_factory) as s:
        partner = make_partner(s)
        make_assignment(s, partner, case_reference="MINE-1")
        client, secret = create_client(s, principal=CHECKER, partner_id=partner.id, label="app",
                                       now=dt.datetime.now(dt.UTC))
        return client.client_id, secret, partner.id


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _login(http: TestClient, client_id: str, secret: str, **headers: str) -> Any:
    return http.post("/oauth/token", data=GRANT, headers={**_basic(client_id, secret), **headers})


def _worker(settings: Settings, runtime: Runtime, peer: str = "testclient") -> TestClient:
    """Another worker process's app: its own engine and sessions over the same database."""
    engine = make_engine(settings.resolved_database_url)
    other = Runtime(settings, engine, make_session_factory(engine), runtime.token_keys, runtime.field_keys)
    return TestClient(create_app(settings, other), client=(peer, 50000))


@pytest.fixture
def one_window() -> None:
    """Start a counting test well inside a minute: the limiter's sliding-window counter weighs the last
    minute's failures down as a new one begins, so five failures straddling a minute's edge (a loaded
    machine, a slow hash) could count as fewer than five and the sixth attempt would pass."""
    second = time.time() % 60
    if second > 45:
        time.sleep(60.5 - second)


@pytest.fixture
def workers(settings: Settings, runtime: Runtime) -> Iterator[tuple[TestClient, TestClient]]:
    with _worker(settings, runtime) as first, _worker(settings, runtime) as second:
        yield first, second


def test_client_credentials_login_through_the_app(http: TestClient, runtime: Runtime, session_factory: Any) -> None:
    client_id, secret, partner_id = _client(session_factory)
    resp = _login(http, client_id, secret)
    assert resp.status_code == 200, resp.text
    principal = verify_token(runtime.token_keys, runtime.settings, resp.json()["access_token"])
    assert principal.role is Role.PARTNER and principal.partner_id == partner_id
    assert principal.client_id == client_id and principal.token_id
    assert _login(http, client_id, "nope").status_code == 401


@pytest.mark.usefixtures("one_window")
def test_failures_on_two_workers_add_up(workers: tuple[TestClient, TestClient], session_factory: Any) -> None:
    first, second = workers
    client_id, secret, _ = _client(session_factory)
    codes = [(first if i % 2 else second).post("/oauth/token", data={**GRANT, "client_id": client_id,
                                                                      "client_secret": f"guess-{i}"}).status_code
             for i in range(6)]
    assert codes == [401] * 5 + [429]
    right = _login(first, client_id, secret)
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1


@pytest.fixture
def redis_store() -> Iterator[RedisStorage]:
    """The Redis database these tests own, emptied of the app's counters before and after."""
    store = RedisStorage(REDIS_URL, key_prefix="opsure")
    store.reset()
    yield store
    store.reset()


@pytest.mark.usefixtures("one_window")
def test_redis_store_is_shared_by_workers(
    settings: Settings, runtime: Runtime, session_factory: Any, redis_store: RedisStorage
) -> None:
    shared = settings.with_(redis_url=REDIS_URL)
    client_id, secret, _ = _client(session_factory)
    with _worker(shared, runtime) as first, _worker(shared, runtime) as second:
        codes = [(first if i % 2 else second).post("/oauth/token", data=GRANT, headers=_basic(client_id, f"g{i}"))
                 .status_code for i in range(6)]
        assert codes == [401] * 5 + [429]
        assert _login(first, client_id, secret).status_code == 429
    assert redis_store.storage.keys(f"opsure:*{client_id}*"), "the counts were not kept in Redis"
    with transaction(session_factory) as s:  # and the database table was not used
        assert s.scalar(select(func.count()).select_from(RateLimitCounter)) == 0


def test_success_forgets_the_pairs_failures(http: TestClient, session_factory: Any) -> None:
    client_id, secret, _ = _client(session_factory)
    for _ in range(4):
        assert _login(http, client_id, "wrong").status_code == 401
    assert _login(http, client_id, secret).status_code == 200
    for _ in range(4):
        assert _login(http, client_id, "wrong").status_code == 401  # a fresh count after the success


@pytest.mark.usefixtures("one_window")
def test_an_attacker_elsewhere_cannot_lock_a_partner_out(
    settings: Settings, runtime: Runtime, session_factory: Any
) -> None:
    """Behind a trusted proxy, the client's own address (X-Forwarded-For) is what is throttled."""
    client_id, secret, _ = _client(session_factory)
    behind_proxy = settings.with_(trusted_proxies=("10.0.0.0/8",))
    with _worker(behind_proxy, runtime, peer="10.0.0.2") as proxy:
        attacker = {"x-forwarded-for": "198.51.100.66, 10.0.0.7"}  # the proxy chain's own hop is skipped
        assert [_login(proxy, client_id, f"g{i}", **attacker).status_code for i in range(6)] == [401] * 5 + [429]
        assert _login(proxy, client_id, secret, **attacker).status_code == 429
        partner = {"x-forwarded-for": "203.0.113.10"}
        assert _login(proxy, client_id, secret, **partner).status_code == 200


@pytest.mark.usefixtures("one_window")
def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    settings: Settings, runtime: Runtime, session_factory: Any
) -> None:
    client_id, _, _ = _client(session_factory)
    with _worker(settings.with_(trusted_proxies=("10.0.0.0/8",)), runtime, peer="198.51.100.9") as direct:
        codes = [_login(direct, client_id, f"g{i}", **{"x-forwarded-for": f"203.0.113.{i}"}).status_code
                 for i in range(6)]
    assert codes == [401] * 5 + [429]  # rotating the header does not buy new attempts


@pytest.mark.usefixtures("one_window")
def test_one_source_is_limited_across_client_ids(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, runtime: Runtime, session_factory: Any
) -> None:
    monkeypatch.setattr(partner_auth, "SOURCE_FAILURES", partner_auth.parse_rule("3/hour"))
    client_id, secret, _ = _client(session_factory)
    with _worker(settings, runtime, peer="198.51.100.20") as stuffer:
        codes = [_login(stuffer, f"pc_{secrets.token_hex(12)}", "guess").status_code for _ in range(4)]
        assert codes == [401] * 3 + [429]
        assert _login(stuffer, client_id, secret).status_code == 429
    with _worker(settings, runtime, peer="198.51.100.21") as elsewhere:
        assert _login(elsewhere, client_id, secret).status_code == 200


def test_throttle_store_down_refuses_logins(settings: Settings, runtime: Runtime, session_factory: Any) -> None:
    client_id, secret, _ = _client(session_factory)
    with _worker(settings.with_(redis_url="redis://127.0.0.1:1/0"), runtime) as broken:
        resp = _login(broken, client_id, secret)
    assert resp.status_code == 503 and resp.json()["error"] == "temporarily_unavailable"


def test_body_is_read_as_a_stream_and_reading_stops_at_the_limit(runtime: Runtime) -> None:
    asyncio.run(_stream_limit(runtime))


async def _stream_limit(runtime: Runtime) -> None:
    endpoint = partner_auth.token_endpoint(runtime)
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"a" * 1024, "more_body": pulled < 10_000}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    def scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
        return {"type": "http", "method": "POST", "path": "/oauth/token", "query_string": b"",
                "headers": [(b"content-type", b"application/x-www-form-urlencoded"), *headers],
                "client": ("198.51.100.1", 1), "server": ("test", 80), "scheme": "http", "root_path": ""}

    from starlette.routing import Route

    route = Route("/oauth/token", endpoint, methods=["POST"])
    await route.handle(scope(), receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 413 and pulled == 5  # 5 KiB read of a 10 MiB body
    pulled, sent[:] = 0, []
    await route.handle(scope((b"content-length", b"10485760")), receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 413 and pulled == 0  # refused on the declared length alone


def test_revoking_a_client_voids_its_live_tokens(
    workers: tuple[TestClient, TestClient], session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = workers
    client_id, secret, _ = _client(session_factory)
    token = _login(first, client_id, secret).json()["access_token"]
    bearer = {"authorization": f"Bearer {token}"}
    assert second.post("/graphql", json={"query": CASES}, headers=bearer).status_code == 200
    monkeypatch.setattr(app_module.TransportWSHandler, "revocation_check_seconds", 0.05)
    with second.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as open_ws:
        open_ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert _pool.submit(open_ws.receive_json).result(timeout=10)["type"] == "connection_ack"

        with transaction(session_factory) as s:
            revoke_client(s, principal=CHECKER, client_id=client_id, now=dt.datetime.now(dt.UTC))

        # the open connection is closed on its next check
        with pytest.raises(WebSocketDisconnect) as closed:
            _pool.submit(open_ws.receive_json).result(timeout=10)
        assert closed.value.code == 4401 and "revoked" in str(closed.value.reason)
    for worker in (first, second):  # every worker refuses it at once
        refused = worker.post("/graphql", json={"query": CASES}, headers=bearer)
        assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED"
    for where in ("header", "payload"):
        with first.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"],
                                     headers=bearer if where == "header" else {}) as ws:
            ws.send_json({"type": "connection_init", **({"payload": {"Authorization": f"Bearer {token}"}}
                                                        if where == "payload" else {})})
            with pytest.raises(WebSocketDisconnect) as refused_ws:
                _pool.submit(ws.receive_json).result(timeout=10)
            assert refused_ws.value.code == 4403 and "revoked" in str(refused_ws.value.reason)
    assert _login(first, client_id, secret).status_code == 401  # and no new token either
