"""One JSON-RPC request object in, one answer out: envelope checks, method call, error codes.

Synchronous and transport-free: the HTTP service (:mod:`ledger.node.rpc`), the read
processes (:mod:`ledger.node.read_pool`) and the anchorer's in-process web3 provider all
answer through it.

Example::

    dispatcher = RpcDispatcher(node)                      # trusted limits (in process)
    dispatcher.handle_one({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ledger.node.errors import (
    BlockNotFound,
    ExecutionError,
    ExecutionReverted,
    ExecutionTimeout,
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
    SERVER_ERROR,
    RpcError,
    hex_data,
)
from ledger.node.rpc_limits import RpcLimits
from ledger.node.rpc_methods import ReadMethods, RpcMethods

__all__ = ["RpcDispatcher", "as_rpc_error", "encode", "error_answer"]

log = logging.getLogger("opsure.ledger.rpc")


def error_answer(request_id: Any, err: RpcError) -> dict[str, Any]:
    """A JSON-RPC error response object."""
    return {"jsonrpc": "2.0", "id": request_id, "error": err.as_json()}


def encode(answer: Any) -> bytes:
    """Compact JSON bytes of an answer."""
    return json.dumps(answer, separators=(",", ":")).encode()


def as_rpc_error(exc: Exception) -> RpcError:
    """The JSON-RPC error for an exception raised while answering (never a bare 500)."""
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, ExecutionReverted):
        return RpcError(EXECUTION_REVERTED, str(exc), hex_data(exc.data))
    if isinstance(exc, ExecutionTimeout):
        return RpcError(LIMIT_EXCEEDED, str(exc))
    if isinstance(exc, TransactionRejected | ExecutionError):
        return RpcError(SERVER_ERROR, str(exc))
    if isinstance(exc, BlockNotFound):
        return RpcError(SERVER_ERROR, "header not found")
    if isinstance(exc, LogQueryTooLarge):
        return RpcError(LIMIT_EXCEEDED, f"{exc}; query a smaller block range")
    if isinstance(exc, KeyError) and exc.args == ("filter not found",):
        return RpcError(SERVER_ERROR, "filter not found")
    if isinstance(exc, OverflowError):
        return RpcError(LIMIT_EXCEEDED, str(exc))
    if isinstance(exc, LedgerNodeError):
        return RpcError(SERVER_ERROR, str(exc))
    log.exception("internal error in JSON-RPC handler")
    return RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}")


class RpcDispatcher:
    """Validates JSON-RPC envelopes and runs the method handlers (synchronously).

    ``RpcDispatcher(node)`` answers with the trusted in-process limits; pass public
    limits for anonymous callers, or ``methods=`` for a read-only method table.
    """

    def __init__(
        self,
        node: EmbeddedNode | None = None,
        limits: RpcLimits | None = None,
        *,
        methods: ReadMethods | None = None,
    ) -> None:
        if methods is None:
            if node is None:
                raise TypeError("RpcDispatcher needs a node or a method table")
            methods = RpcMethods(node, limits)
        self.methods = methods

    def handle_one(self, message: Any) -> dict[str, Any] | None:
        """Answer one request object; None for a notification (no id)."""
        if not isinstance(message, dict):
            return error_answer(None, RpcError(INVALID_REQUEST, "invalid request"))
        request_id = message.get("id")
        if isinstance(request_id, dict | list | bool):
            return error_answer(None, RpcError(INVALID_REQUEST, "invalid request id"))
        method = message.get("method")
        if message.get("jsonrpc", "2.0") != "2.0" or not isinstance(method, str):
            return error_answer(request_id, RpcError(INVALID_REQUEST, "invalid request"))
        handler = self.methods.handlers.get(method)
        try:
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
            result = handler(message.get("params"))
        except Exception as exc:
            answer = error_answer(request_id, as_rpc_error(exc))
        else:
            answer = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return answer if "id" in message else None

    def handle_payload(self, payload: Any) -> Any:
        """Answer a single request or a batch (no size limit); None when nothing is due."""
        if isinstance(payload, list):
            if not payload:
                return error_answer(None, RpcError(INVALID_REQUEST, "empty batch"))
            answers = [a for a in (self.handle_one(m) for m in payload) if a is not None]
            return answers or None
        return self.handle_one(payload)
