"""Fan-out across processes: a subscription on one `opsure serve` sees every event made through another.

Before the event stream, each process published in process: a ``policyEvents`` subscriber
saw only the events made on its own worker (5 of 10 with ``--workers 2``). On PostgreSQL the
other process's commit arrives by ``LISTEN/NOTIFY``; on SQLite by the tail's poll.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from core.audit import AuditKey
from core.auth import Role, TokenKeys, issue_token
from core.clock import business_today
from core.settings import Settings
from schema.relay import encode_global_id
from tests.conftest import FIELD_KEYS, TENANT_KEY
from tests.factories import make_customer, make_product, make_quote

pytestmark = pytest.mark.timeout(180)

REPO = Path(__file__).resolve().parents[2]
ISSUE = "mutation($q: ID!) { issuePolicy(quoteId: $q) { policy { id } errors { code message } } }"
SUBSCRIBE = "subscription { policyEvents { policyId } }"
EVENTS = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_servers(settings: Settings) -> Iterator[tuple[str, str]]:
    """Two `opsure serve` processes on the test's database and data directory."""
    TokenKeys.load_or_create(settings.keys_dir)  # one set of keys, made before either server starts
    AuditKey.load_or_create(settings.keys_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSURE_")}
    env.update({"OPSURE_DATA_DIR": str(settings.data_dir), "OPSURE_DATABASE_URL": settings.resolved_database_url,
                "OPSURE_LEDGER": "off", "OPSURE_FIELD_KEY": FIELD_KEYS.dump(one_line=True),
                "OPSURE_TENANT_KEY": TENANT_KEY.key.hex(), "OPSURE_LOG_LEVEL": "warning",
                "PYTHONPATH": str(REPO)})
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen([sys.executable, "-m", "opsure.cli", "serve", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 90
        for proc, url in zip(procs, urls, strict=True):
            while True:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server died"
                assert time.monotonic() < deadline, "server did not come up"
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        yield urls[0], urls[1]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def _next_policy_id(ws: ClientConnection, timeout: float) -> str | None:
    try:
        msg = json.loads(ws.recv(timeout=timeout))
    except TimeoutError:
        return None
    assert msg["type"] == "next", msg
    return msg["payload"]["data"]["policyEvents"]["policyId"]  # type: ignore[no-any-return]


def test_a_subscriber_on_one_process_gets_every_event_made_through_another(
        two_servers: tuple[str, str], settings: Settings, session_factory: Any) -> None:
    process_a, process_b = two_servers
    today = business_today()
    with session_factory() as s:
        product = make_product(s)
        quotes = []
        for _ in range(EVENTS + 5):  # a few spare for probing that the subscription listens
            customer = make_customer(s)
            quotes.append((customer.id, make_quote(s, customer=customer, product=product, today=today).id))
        s.commit()
    keys = TokenKeys.load_or_create(settings.keys_dir)
    agent = issue_token(keys, settings, subject="agent-ws", role=Role.AGENT)

    def issue(customer_id: int, quote_id: int) -> str:
        token = issue_token(keys, settings, subject=f"customer-{customer_id}", role=Role.CUSTOMER,
                            customer_id=customer_id)
        resp = httpx.post(f"{process_b}/graphql", json={"query": ISSUE, "variables": {
            "q": encode_global_id("Quote", quote_id)}}, headers={"authorization": f"Bearer {token}"}, timeout=30)
        payload = resp.json()["data"]["issuePolicy"]
        assert payload["errors"] == [], resp.text
        return payload["policy"]["id"]  # type: ignore[no-any-return]

    ws_url = process_a.replace("http://", "ws://") + "/graphql"
    with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {agent}"}}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        while True:  # a probe through B: once one arrives on A, the subscription listens
            probe = issue(*quotes.pop())
            if _next_policy_id(ws, timeout=5) == probe:
                break
        made = [issue(*quotes[i]) for i in range(EVENTS)]
        got = [_next_policy_id(ws, timeout=20) for _ in range(EVENTS)]
    assert got == made  # 10 of 10, in order
