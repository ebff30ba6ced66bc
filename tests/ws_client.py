"""graphql-transport-ws from tests: open an authenticated socket, subscribe until the tail hears it, receive.

Example::

    cm, ws = open_ws(http, runtime, Role.ADJUSTER)
    subscribe(ws, "q", {"query": "subscription { claimEvents { type } }"}, types=CLAIM_EVENT_TYPES)
    event = receive(ws)
"""

from __future__ import annotations

import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.testclient import TestClient

from core.auth import Role, issue_token
from core.event_stream import process_tail
from opsure.runtime import Runtime

__all__ = ["PROTOCOL", "open_ws", "receive", "subscribe"]

PROTOCOL = "graphql-transport-ws"
_pool = ThreadPoolExecutor(4)


def receive(ws: Any, timeout: float = 10.0) -> Any:
    """The next message, or TimeoutError after ``timeout`` seconds."""
    return _pool.submit(ws.receive_json).result(timeout=timeout)


def open_ws(http: TestClient, runtime: Runtime, role: Role, **claims: Any) -> Any:
    """(context manager, socket) of an acknowledged connection as ``role``."""
    token = issue_token(runtime.token_keys, runtime.settings, subject=f"{role.value}-ws", role=role, **claims)
    cm = http.websocket_connect("/graphql", subprotocols=[PROTOCOL], headers={"authorization": f"Bearer {token}"})
    ws = cm.__enter__()
    ws.send_json({"type": "connection_init"})
    assert receive(ws) == {"type": "connection_ack"}
    return cm, ws


def subscribe(ws: Any, op_id: str, payload: dict[str, Any], *, types: Collection[str]) -> None:
    """Subscribe and wait until the process tail has the new subscriber for ``types``."""
    before = process_tail().subscriber_count(types)
    ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
    deadline = time.monotonic() + 10
    while process_tail().subscriber_count(types) <= before:
        assert time.monotonic() < deadline, "the subscription never reached the tail"
        time.sleep(0.01)
