"""JSON-RPC 2.0 over HTTP (Starlette) for the embedded node, and a standalone server.

:class:`RpcService` is the public endpoint of one node, bounded for anonymous callers
(:class:`~ledger.node.rpc_limits.RpcLimits`): body size, JSON nesting, batch size, a
rate per client, and heavy reads (EVM calls, logs, blocks) answered in read processes
(:mod:`ledger.node.read_pool`) under a gas cap and a time budget. Every refusal is a
JSON-RPC error (-32005 for a limit), never a 500. Light reads and the node's own methods
(sending, pool, filters) run on two threads of their own.

Example::

    app = make_rpc_app(node, RpcLimits.from_settings(settings))   # POST /, GET /health
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import weakref
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.ratelimit import Decision
from ledger.node.node import EmbeddedNode
from ledger.node.read_pool import ISOLATED_METHODS, ReadPool, ReadPoolBusy, answer_within, request_id
from ledger.node.rpc_codec import INVALID_REQUEST, LIMIT_EXCEEDED, PARSE_ERROR, RpcError
from ledger.node.rpc_dispatch import RpcDispatcher, encode, error_answer
from ledger.node.rpc_limits import RpcLimits, client_key
from ledger.node.rpc_rate import RpcRateLimit

__all__ = [
    "CLIENT_HEADER",
    "MAX_JSON_NESTING",
    "RpcDispatcher",
    "RpcReply",
    "RpcService",
    "json_nesting_depth",
    "make_rpc_app",
    "read_limited",
    "run_node",
]

log = logging.getLogger("opsure.ledger.rpc")

#: Deepest JSON nesting accepted. Checked by a linear scan BEFORE json.loads: py-evm (via
#: py_ecc) raises the recursion limit to 100000, and json.loads of ~100k nested brackets
#: then overflows the C stack and kills the process instead of raising RecursionError.
MAX_JSON_NESTING = 64
_JSON_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
#: Header carrying the original client's key on the node owner's Unix socket (only there).
CLIENT_HEADER = "x-opsure-rpc-client"
#: Light requests (not ISOLATED_METHODS) queued or running on the service's two threads.
_LIGHT_QUEUE = 64


def json_nesting_depth(body: bytes) -> int:
    """Deepest bracket nesting of a JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


@dataclass(frozen=True)
class RpcReply:
    """An HTTP answer of the JSON-RPC endpoint."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _error_reply(request_id: Any, err: RpcError, status: int = 200, **headers: str) -> RpcReply:
    return RpcReply(status, encode(error_answer(request_id, err)), headers)


def _fit(parts: list[bytes | None], messages: list[Any], max_bytes: int) -> list[bytes | None]:
    """Answers past `max_bytes` in total become -32005 errors."""
    size = 0
    out: list[bytes | None] = []
    for part, message in zip(parts, messages, strict=True):
        if part is not None and size + len(part) > max_bytes:
            part = encode(error_answer(
                request_id(message), RpcError(LIMIT_EXCEEDED, f"response too large (max {max_bytes} bytes)")
            ))
        size += len(part or b"")
        out.append(part)
    return out


class RpcService:
    """The public JSON-RPC endpoint of one node (shared by every transport serving it)."""

    def __init__(self, node: EmbeddedNode, limits: RpcLimits | None = None, *, redis_url: str | None = None) -> None:
        self.node = node
        self.limits = limits or RpcLimits()
        self.dispatcher = RpcDispatcher(node, self.limits)
        self.rate = (
            RpcRateLimit(self.limits.rate_per_minute, redis_url=redis_url)
            if self.limits.rate_per_minute > 0
            else None
        )
        self.pool = (
            ReadPool(node.data_dir, node.chain_id, self.limits) if self.limits.read_processes > 0 else None
        )
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="opsure-rpc")
        self._light_lock = threading.Lock()
        self._light_running = 0
        self._finalizer = weakref.finalize(self, _shutdown, self.pool, self._threads)

    def start(self) -> None:
        """Spawn the read processes now rather than at the first heavy read."""
        if self.pool is not None:
            self.pool.start()

    def close(self) -> None:
        """Stop the read processes and threads."""
        self._finalizer()

    async def answer(self, body: bytes, client: str) -> RpcReply:
        """Answer one HTTP body (a request or a batch) on behalf of `client`."""
        if json_nesting_depth(body) > MAX_JSON_NESTING:
            return _error_reply(None, RpcError(INVALID_REQUEST, f"JSON nested deeper than {MAX_JSON_NESTING}"))
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return _error_reply(None, RpcError(PARSE_ERROR, "parse error"))
        batch = isinstance(payload, list)
        messages: list[Any] = payload if batch else [payload]
        if batch and not messages:
            return _error_reply(None, RpcError(INVALID_REQUEST, "empty batch"))
        if len(messages) > self.limits.max_batch:
            return _error_reply(
                None, RpcError(LIMIT_EXCEEDED, f"batch too large: {len(messages)} requests (max {self.limits.max_batch})")
            )
        refused = await self._rate_limited(client, len(messages))
        if refused is not None:
            return _error_reply(
                None if batch else request_id(payload),
                RpcError(LIMIT_EXCEEDED, f"rate limit exceeded ({self.limits.rate_per_minute} requests per minute)"),
                429,
                **{"Retry-After": refused.retry_after_header},
            )
        parts = await self._answer_all(client, messages)
        parts = _fit(parts, messages, self.limits.max_response_bytes)
        if not batch:
            return RpcReply(200, parts[0] or b"")
        present = [p for p in parts if p is not None]
        return RpcReply(200, b"[" + b",".join(present) + b"]" if present else b"")

    async def _rate_limited(self, client: str, cost: int) -> Decision | None:
        if self.rate is None:
            return None
        if self.rate.shared:  # a network round trip: off the event loop
            decision = await asyncio.get_running_loop().run_in_executor(
                self._threads, lambda: self.rate.hit(client, cost=cost) if self.rate else Decision(True)
            )
        else:
            decision = self.rate.hit(client, cost=cost)
        return None if decision.allowed else decision

    async def _answer_all(self, client: str, messages: list[Any]) -> list[bytes | None]:
        heavy = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("method") in ISOLATED_METHODS]
        heavy_set = set(heavy)
        light = [i for i in range(len(messages)) if i not in heavy_set]
        jobs = []
        if light:
            jobs.append(self._light([messages[i] for i in light]))
        if heavy:
            jobs.append(self._heavy(client, [messages[i] for i in heavy]))
        results = await asyncio.gather(*jobs)
        parts: list[bytes | None] = [None] * len(messages)
        groups = ([light] if light else []) + ([heavy] if heavy else [])
        for indexes, answers in zip(groups, results, strict=True):
            for i, answer in zip(indexes, answers, strict=True):
                parts[i] = answer
        return parts

    async def _light(self, messages: list[Any], budget: float | None = None) -> list[bytes | None]:
        with self._light_lock:
            if self._light_running >= _LIGHT_QUEUE:
                return _all_busy(messages, "server busy: too many requests in progress; retry shortly")
            self._light_running += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._threads, answer_within, self.dispatcher, messages, budget, self.limits.max_response_bytes
            )
        finally:
            with self._light_lock:
                self._light_running -= 1

    async def _heavy(self, client: str, messages: list[Any]) -> list[bytes | None]:
        if self.pool is None:
            return await self._light(messages, self.limits.call_timeout)
        try:
            self.pool.admit(client)
        except ReadPoolBusy as exc:
            return _all_busy(messages, str(exc))
        return await self.pool.run(client, messages)


def _all_busy(messages: list[Any], message: str) -> list[bytes | None]:
    return [
        encode(error_answer(request_id(m), RpcError(LIMIT_EXCEEDED, message)))
        if isinstance(m, dict) and "id" in m
        else None
        for m in messages
    ]


def _shutdown(pool: ReadPool | None, threads: ThreadPoolExecutor) -> None:
    if pool is not None:
        pool.close()
    threads.shutdown(wait=False, cancel_futures=True)


async def read_limited(request: Request, max_bytes: int) -> bytes | None:
    """The request body, or None once it exceeds `max_bytes` (stops reading)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def make_rpc_app(
    node: EmbeddedNode | None = None,
    limits: RpcLimits | None = None,
    *,
    service: RpcService | None = None,
    trust_client_header: bool = False,
) -> Starlette:
    """ASGI app answering JSON-RPC 2.0 POSTs on "/" (and GET /health).

    `trust_client_header` is for the node owner's Unix socket only: other workers
    forward requests there and name the original client in CLIENT_HEADER.
    """
    if service is None:
        if node is None:
            raise TypeError("make_rpc_app needs a node or a service")
        service = RpcService(node, limits)
    rpc_service = service

    async def rpc(request: Request) -> Response:
        max_bytes = rpc_service.limits.max_body_bytes
        body = await read_limited(request, max_bytes)
        if body is None:
            reply = _error_reply(None, RpcError(LIMIT_EXCEEDED, f"request body too large (max {max_bytes} bytes)"), 413)
        else:
            forwarded = request.headers.get(CLIENT_HEADER) if trust_client_header else None
            client = forwarded or client_key(request.scope, rpc_service.limits.trusted_proxies)
            reply = await rpc_service.answer(body, client)
        return Response(reply.body, status_code=reply.status, headers=reply.headers, media_type="application/json")

    async def health(request: Request) -> Response:
        node = rpc_service.node
        number = await run_in_threadpool(node.block_number)
        return JSONResponse({"status": "ok", "chainId": node.chain_id, "head": number})

    app = Starlette(routes=[Route("/", rpc, methods=["POST"]), Route("/health", health, methods=["GET"])])
    app.state.rpc_service = rpc_service
    return app


def run_node(
    host: str,
    port: int,
    data_dir: str | Path,
    *,
    prefund: Mapping[str | bytes, int] | Iterable[str | bytes] = (),
    allowlist: Iterable[str | bytes] | None = None,
    log_level: str = "info",
    limits: RpcLimits | None = None,
    redis_url: str | None = None,
    **node_options: Any,
) -> None:
    """Open (or create) the node in `data_dir` and serve JSON-RPC until interrupted.

    Besides host:port, the node listens on its Unix socket in `data_dir`
    (:mod:`ledger.node.rpc_socket`), where ``opsure serve`` workers forward ``/rpc``.
    """
    import uvicorn

    from ledger.node.rpc_socket import OwnerSocket

    node = EmbeddedNode(data_dir, prefund=prefund, allowlist=allowlist, **node_options)
    service = RpcService(node, limits, redis_url=redis_url)
    owner_socket = OwnerSocket(Path(data_dir), make_rpc_app(service=service, trust_client_header=True))
    try:
        service.start()
        owner_socket.start()
        uvicorn.run(make_rpc_app(service=service), host=host, port=port, log_level=log_level)
    finally:
        owner_socket.close()
        service.close()
        node.close()
