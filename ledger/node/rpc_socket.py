"""``/rpc`` in every worker: the node's owner listens on a Unix socket, the others forward.

Only one process may hold the chain store (a file lock): with ``opsure serve --workers
N`` the first worker to open it owns the node, and the standalone ``opsure ledger node``
owns it when it runs. The owner serves the same JSON-RPC service on ``rpc.sock`` in the
chain directory (mode 0600: processes of the same user only); every other worker
forwards its ``/rpc`` requests there, naming the original client in a header so rate
limits and per-client bounds count the real caller. Answers are byte for byte the
owner's, so filters, pending transactions and nonces agree whichever worker is asked.

Example::

    owner = OwnerSocket(chain_dir, make_rpc_app(service=service, trust_client_header=True))
    owner.start()                                  # in the process holding the node
    forwarder = RpcForwarder(chain_dir, limits)    # in every other worker
    await forwarder(scope, receive, send)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ledger.node.rpc import CLIENT_HEADER, read_limited
from ledger.node.rpc_codec import LIMIT_EXCEEDED, SERVER_ERROR, RpcError
from ledger.node.rpc_dispatch import encode, error_answer
from ledger.node.rpc_limits import RpcLimits, client_key

__all__ = ["SOCKET_NAME", "OwnerSocket", "RpcForwarder", "socket_path"]

log = logging.getLogger("opsure.ledger.rpc")

SOCKET_NAME = "rpc.sock"
_MAX_UNIX_PATH = 100  # sockaddr_un holds 108 bytes on Linux, 104 on macOS
#: Seconds a forwarded request may take (the owner's own bounds end it much sooner).
FORWARD_TIMEOUT = 60.0


def socket_path(chain_dir: Path) -> Path:
    """Where the node owner of `chain_dir` listens."""
    return Path(chain_dir) / SOCKET_NAME


class _ShortPath:
    """A name for a socket path that fits sockaddr_un (via /proc/self/fd when it is long)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._dir_fd: int | None = None
        if len(os.fsencode(path)) <= _MAX_UNIX_PATH:
            self.name = str(path)
            return
        if not Path("/proc/self/fd").is_dir():
            raise OSError(f"socket path too long and no /proc here: {path}")
        self._dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        self.name = f"/proc/self/fd/{self._dir_fd}/{path.name}"

    def close(self) -> None:
        if self._dir_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._dir_fd)
            self._dir_fd = None


class OwnerSocket:
    """Serves an ASGI app on the chain directory's Unix socket, from a thread of its own."""

    def __init__(self, chain_dir: Path, app: Any) -> None:
        self.path = socket_path(chain_dir)
        self.app = app
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind (replacing a stale socket: the caller holds the store lock) and serve."""
        import uvicorn

        try:
            sock = self._bind()
        except OSError:
            log.exception("cannot listen on %s; other workers cannot forward /rpc here", self.path)
            return
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="opsure-rpc-socket", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            log.warning("the node's Unix socket %s did not start; other workers cannot forward /rpc", self.path)

    def _bind(self) -> socket.socket:
        name = _ShortPath(self.path)
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(name.name)
                os.chmod(self.path, 0o600)  # connecting needs write permission: this user only
            except OSError:
                sock.close()
                raise
            return sock
        finally:
            name.close()

    def close(self) -> None:
        """Stop serving and remove the socket file."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class RpcForwarder:
    """ASGI app forwarding JSON-RPC (POST /, GET /health) to the node owner's socket."""

    def __init__(self, chain_dir: Path, limits: RpcLimits) -> None:
        self.path = socket_path(chain_dir)
        self.limits = limits
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._name: _ShortPath | None = None

    def _http(self) -> httpx.AsyncClient:
        """A pooled client per event loop (connections belong to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            if self._name is None:
                self._name = _ShortPath(self.path)
            transport = httpx.AsyncHTTPTransport(uds=self._name.name)
            client = httpx.AsyncClient(transport=transport, base_url="http://ledger-node", timeout=FORWARD_TIMEOUT)
            self._clients[loop] = client
        return client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = b""
        if request.method == "POST":
            max_bytes = self.limits.max_body_bytes
            read = await read_limited(request, max_bytes)
            if read is None:
                err = RpcError(LIMIT_EXCEEDED, f"request body too large (max {max_bytes} bytes)")
                await _reply(scope, receive, send, 413, encode(error_answer(None, err)), {})
                return
            body = read
        if not self.path.exists():
            err = RpcError(SERVER_ERROR, "no ledger node serves JSON-RPC on this host")
            await _reply(scope, receive, send, 503, encode(error_answer(None, err)), {"Retry-After": "5"})
            return
        headers = {
            CLIENT_HEADER: client_key(scope, self.limits.trusted_proxies),
            "content-type": "application/json",
        }
        try:
            answer = await self._http().request(request.method, scope["path"], content=body, headers=headers)
        except (httpx.HTTPError, OSError) as exc:
            log.warning("cannot reach the ledger node at %s: %s", self.path, exc)
            err = RpcError(SERVER_ERROR, "ledger node unreachable from this worker; retry shortly")
            await _reply(scope, receive, send, 503, encode(error_answer(None, err)), {"Retry-After": "1"})
            return
        passed = {k: v for k, v in answer.headers.items() if k.lower() == "retry-after"}
        await _reply(scope, receive, send, answer.status_code, answer.content, passed)

    async def aclose(self) -> None:
        """Close this loop's pooled connections to the owner."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        if not self._clients and self._name is not None:
            self._name.close()
            self._name = None


async def _reply(scope: Scope, receive: Receive, send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    response = Response(body, status_code=status, headers=headers, media_type="application/json")
    await response(scope, receive, send)
