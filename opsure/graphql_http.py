"""GraphQL over HTTP (the GraphQL-over-HTTP spec, audited by npm ``graphql-http``).

- POST with ``application/json`` bodies; GET for queries only (mutations via GET: 405).
- Answers ``application/graphql-response+json`` when the client accepts it (then a request
  that fails before execution — parse, validation, variables — is a 4xx), else
  ``application/json`` with 200 for any well-formed GraphQL request.
- Body size limit, JSON errors, wrong content types: clear 4xx, never a 500.
- Execution runs on a worker thread with its own event loop, so blocking database calls
  never stall the server's loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import anyio.to_thread
from graphql import ExecutionResult, GraphQLError
from strawberry.types.graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response

from core.auth import Principal
from opsure.metrics import Metrics
from opsure.runtime import Runtime
from schema.context import Context

__all__ = ["GraphQLEndpoint"]

log = logging.getLogger("opsure.graphql")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

_local = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_local, "loop", None)
    if loop is None:
        loop = _local.loop = asyncio.new_event_loop()
    return loop


class HttpError(Exception):
    """A request refused before GraphQL execution, with its status and message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _media_type(accept: str | None) -> str | None:
    """Pick the response media type from an Accept header (None: nothing acceptable)."""
    if not accept:
        return JSON
    best: tuple[float, str] | None = None
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        candidates = {
            GRAPHQL_RESPONSE: GRAPHQL_RESPONSE,
            JSON: JSON,
            "application/*": GRAPHQL_RESPONSE,
            "*/*": GRAPHQL_RESPONSE,
        }
        chosen = candidates.get(media)
        if chosen is None or q <= 0:
            continue
        # On a tie, prefer application/json (legacy clients) only when named explicitly.
        if best is None or q > best[0]:
            best = (q, chosen)
    return best[1] if best else None


class GraphQLEndpoint:
    """ASGI-callable endpoint for ``/graphql`` (HTTP; websockets are served by strawberry)."""

    def __init__(self, runtime: Runtime, schema: Any, metrics: Metrics, graphiql_html: str | None) -> None:
        self.runtime = runtime
        self.schema = schema
        self.metrics = metrics
        self.graphiql_html = graphiql_html

    async def handle(self, request: Request) -> Response:
        """Handle one HTTP request."""
        media = _media_type(request.headers.get("accept"))
        try:
            if request.method == "GET" and self.graphiql_html and _wants_html(request):
                return Response(self.graphiql_html, media_type="text/html")
            if media is None:
                raise HttpError(406, "Accept application/graphql-response+json or application/json.")
            params = await self._params(request)
            principal: Principal = request.scope["principal"]
            return await self._execute(request, params, principal, media)
        except HttpError as exc:
            return _error_response(exc.status, exc.message, media or JSON, exc.headers)

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            qp = request.query_params
            params: dict[str, Any] = {"query": qp.get("query")}
            for key in ("variables", "extensions"):
                raw = qp.get(key)
                if raw:
                    try:
                        params[key] = json.loads(raw)
                    except ValueError as exc:
                        raise HttpError(400, f"'{key}' is not valid JSON.") from exc
            params["operationName"] = qp.get("operationName")
            return _check_params(params)
        if request.method != "POST":
            raise HttpError(405, "Use GET or POST.", {"Allow": "GET, POST"})
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != JSON:
            raise HttpError(415, "Content-Type must be application/json.")
        declared = request.headers.get("content-length")
        limit = self.runtime.settings.max_body_bytes
        if declared and declared.isdigit() and int(declared) > limit:
            raise HttpError(413, f"Body larger than {limit} bytes.")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise HttpError(413, f"Body larger than {limit} bytes.")
        try:
            params = json.loads(body)
        except ValueError as exc:
            raise HttpError(400, "Body is not valid JSON.") from exc
        if not isinstance(params, dict):
            raise HttpError(400, "Body must be a JSON object.")
        return _check_params(params)

    async def _execute(self, request: Request, params: dict[str, Any], principal: Principal, media: str) -> Response:
        ctx = Context(principal=principal, session_factory=self.runtime.session_factory,
                      settings=self.runtime.settings, request=request)
        query: str = params["query"]
        operation_name = params.get("operationName")
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )

        def run() -> ExecutionResult:
            loop = _thread_loop()
            try:
                return loop.run_until_complete(
                    self.schema.execute(
                        query,
                        variable_values=params.get("variables"),
                        context_value=ctx,
                        operation_name=operation_name,
                        allowed_operation_types=allowed,
                    )
                )
            finally:
                ctx.close()

        try:
            result = await anyio.to_thread.run_sync(run)
        except Exception as exc:  # strawberry raises for GET mutations and a few protocol cases
            name = type(exc).__name__
            if name == "InvalidOperationTypeError":
                raise HttpError(405, "Mutations are not allowed over GET; use POST.", {"Allow": "POST"}) from exc
            if name in ("CannotGetOperationTypeError", "MissingQueryError"):
                raise HttpError(400, str(exc) or "Cannot tell which operation to run.") from exc
            log.exception("graphql execution failed")
            raise HttpError(500, "Internal error") from exc
        op_type = _op_type(query)
        outcome = "ok" if not result.errors else ("rejected" if result.data is None else "partial")
        self.metrics.operations.labels(op_type, outcome).inc()
        return _graphql_response(result, media)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


def _check_params(params: dict[str, Any]) -> dict[str, Any]:
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise HttpError(400, "'query' must be a non-empty string.")
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HttpError(400, "'variables' must be a JSON object.")
    op = params.get("operationName")
    if op is not None and not isinstance(op, str):
        raise HttpError(400, "'operationName' must be a string.")
    ext = params.get("extensions")
    if ext is not None and not isinstance(ext, dict):
        raise HttpError(400, "'extensions' must be a JSON object.")
    return params


def _op_type(query: str) -> str:
    head = query.lstrip()[:12]
    if head.startswith("mutation"):
        return "mutation"
    if head.startswith("subscription"):
        return "subscription"
    return "query"


def _format_error(err: GraphQLError) -> dict[str, Any]:
    return err.formatted


def _graphql_response(result: ExecutionResult, media: str) -> Response:
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [_format_error(e) for e in result.errors]
    # Errors without a path happened before execution (parse, validation, variables).
    not_executed = result.data is None and bool(result.errors) and all(not e.path for e in result.errors or [])
    if not not_executed:
        body["data"] = result.data
    status = 200
    if media == GRAPHQL_RESPONSE and not_executed:
        codes = {(e.extensions or {}).get("code") for e in result.errors or []}
        status = 401 if codes == {"UNAUTHENTICATED"} else 400
    return Response(json.dumps(body, default=str), status_code=status, media_type=media)


def _error_response(status: int, message: str, media: str, headers: dict[str, str]) -> Response:
    body = json.dumps({"errors": [{"message": message}]})
    return Response(body, status_code=status, media_type=media if media else JSON, headers=headers)
