"""JSON-RPC 2.0 over HTTP (Starlette) for the embedded node, and a standalone server."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ledger.node.errors import (
    BlockNotFound,
    ExecutionError,
    ExecutionReverted,
    LedgerNodeError,
    TransactionRejected,
)
from ledger.node.index import LogQueryTooLarge
from ledger.node.node import EmbeddedNode
from ledger.node.rpc_codec import (
    EXECUTION_REVERTED,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SERVER_ERROR,
    RpcError,
    hex_data,
)
from ledger.node.rpc_methods import RpcMethods

__all__ = ["MAX_BATCH", "MAX_BODY_BYTES", "RpcDispatcher", "make_rpc_app", "run_node"]

log = logging.getLogger("opsure.ledger.rpc")

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_BATCH = 1000
#: Deepest JSON nesting accepted. Checked by a linear scan BEFORE json.loads: py-evm (via
#: py_ecc) raises the recursion limit to 100000, and json.loads of ~100k nested brackets
#: then overflows the C stack and kills the process instead of raising RecursionError.
MAX_JSON_NESTING = 64
_JSON_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


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


def _error(request_id: Any, err: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": err.as_json()}


def _as_rpc_error(exc: Exception) -> RpcError:
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, ExecutionReverted):
        return RpcError(EXECUTION_REVERTED, str(exc), hex_data(exc.data))
    if isinstance(exc, TransactionRejected | ExecutionError):
        return RpcError(SERVER_ERROR, str(exc))
    if isinstance(exc, BlockNotFound):
        return RpcError(SERVER_ERROR, "header not found")
    if isinstance(exc, LogQueryTooLarge):
        return RpcError(LIMIT_EXCEEDED, str(exc))
    if isinstance(exc, KeyError) and exc.args == ("filter not found",):
        return RpcError(SERVER_ERROR, "filter not found")
    if isinstance(exc, OverflowError):
        return RpcError(LIMIT_EXCEEDED, str(exc))
    if isinstance(exc, LedgerNodeError):
        return RpcError(SERVER_ERROR, str(exc))
    log.exception("internal error in JSON-RPC handler")
    return RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}")


class RpcDispatcher:
    """Validates JSON-RPC envelopes and runs the method handlers (synchronously)."""

    def __init__(self, node: EmbeddedNode) -> None:
        self.methods = RpcMethods(node)

    def handle_one(self, message: Any) -> dict[str, Any] | None:
        """Answer one request object; None for a notification (no id)."""
        if not isinstance(message, dict):
            return _error(None, RpcError(INVALID_REQUEST, "invalid request"))
        request_id = message.get("id")
        if isinstance(request_id, dict | list | bool):
            return _error(None, RpcError(INVALID_REQUEST, "invalid request id"))
        method = message.get("method")
        if message.get("jsonrpc", "2.0") != "2.0" or not isinstance(method, str):
            return _error(request_id, RpcError(INVALID_REQUEST, "invalid request"))
        handler = self.methods.handlers.get(method)
        try:
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
            result = handler(message.get("params"))
        except Exception as exc:
            answer = _error(request_id, _as_rpc_error(exc))
        else:
            answer = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return answer if "id" in message else None

    def handle_payload(self, payload: Any) -> Any:
        """Answer a single request or a batch; None when nothing must be sent back."""
        if isinstance(payload, list):
            if not payload:
                return _error(None, RpcError(INVALID_REQUEST, "empty batch"))
            if len(payload) > MAX_BATCH:
                return _error(None, RpcError(INVALID_REQUEST, f"batch too large (max {MAX_BATCH})"))
            answers = [a for a in (self.handle_one(m) for m in payload) if a is not None]
            return answers or None
        return self.handle_one(payload)


async def _read_limited(request: Request) -> bytes | None:
    """The request body, or None once it exceeds MAX_BODY_BYTES (stops reading)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def make_rpc_app(node: EmbeddedNode) -> Starlette:
    """ASGI app answering JSON-RPC 2.0 POSTs on "/" (and GET /health)."""
    dispatcher = RpcDispatcher(node)

    async def rpc(request: Request) -> Response:
        body = await _read_limited(request)
        if body is None:
            return JSONResponse(
                _error(None, RpcError(INVALID_REQUEST, "request body too large")), status_code=413
            )
        if json_nesting_depth(body) > MAX_JSON_NESTING:
            return JSONResponse(
                _error(None, RpcError(INVALID_REQUEST, f"JSON nested deeper than {MAX_JSON_NESTING}"))
            )
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return JSONResponse(_error(None, RpcError(PARSE_ERROR, "parse error")))
        answer = await run_in_threadpool(dispatcher.handle_payload, payload)
        if answer is None:
            return Response(status_code=200, media_type="application/json")
        return JSONResponse(answer)

    async def health(request: Request) -> Response:
        number = await run_in_threadpool(node.block_number)
        return JSONResponse({"status": "ok", "chainId": node.chain_id, "head": number})

    return Starlette(routes=[Route("/", rpc, methods=["POST"]), Route("/health", health, methods=["GET"])])


def run_node(
    host: str,
    port: int,
    data_dir: str | Path,
    *,
    prefund: Mapping[str | bytes, int] | Iterable[str | bytes] = (),
    allowlist: Iterable[str | bytes] | None = None,
    log_level: str = "info",
    **node_options: Any,
) -> None:
    """Open (or create) the node in `data_dir` and serve JSON-RPC until interrupted."""
    import uvicorn

    node = EmbeddedNode(data_dir, prefund=prefund, allowlist=allowlist, **node_options)
    try:
        uvicorn.run(make_rpc_app(node), host=host, port=port, log_level=log_level)
    finally:
        node.close()
