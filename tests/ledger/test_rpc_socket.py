"""The node owner's Unix socket: private to the user, reachable however deep the data dir is."""

from __future__ import annotations

import stat
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from ledger.node.rpc import CLIENT_HEADER
from ledger.node.rpc_limits import RpcLimits
from ledger.node.rpc_socket import OwnerSocket, RpcForwarder, socket_path


def _echo_app() -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        return JSONResponse({"client": request.headers.get(CLIENT_HEADER), "body": body.decode()},
                            headers={"Retry-After": "3"}, status_code=429)

    return Starlette(routes=[Route("/", echo, methods=["POST"])])


def test_forwarding_through_a_long_path_keeps_body_status_and_client(tmp_path: Path) -> None:
    chain_dir = tmp_path / ("d" * 60) / ("e" * 60) / "chain"
    chain_dir.mkdir(parents=True)
    assert len(str(socket_path(chain_dir))) > 108  # longer than sockaddr_un holds
    owner = OwnerSocket(chain_dir, _echo_app())
    owner.start()
    try:
        assert stat.S_IMODE(socket_path(chain_dir).stat().st_mode) == 0o600
        forwarder = TestClient(RpcForwarder(chain_dir, RpcLimits()), client=("203.0.113.5", 1))
        answer = forwarder.post("/", content=b'{"jsonrpc":"2.0"}', headers={CLIENT_HEADER: "forged"})
        assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
        assert answer.json() == {"client": "203.0.113.5", "body": '{"jsonrpc":"2.0"}'}
    finally:
        owner.close()
    assert not socket_path(chain_dir).exists()
    gone = TestClient(RpcForwarder(chain_dir, RpcLimits())).post("/", content=b"{}")
    assert gone.status_code == 503 and gone.json()["error"]["code"] == -32000


def test_forwarder_refuses_big_bodies_before_forwarding(tmp_path: Path) -> None:
    forwarder = TestClient(RpcForwarder(tmp_path, RpcLimits(max_body_bytes=10)))
    answer = forwarder.post("/", content=b"x" * 11)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == -32005
