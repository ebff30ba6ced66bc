"""GraphQL over HTTP (the GraphQL-over-HTTP spec, audited by npm ``graphql-http``).

Requests: ``POST`` with an ``application/json`` body (a JSON object with ``query``,
``variables``, ``operationName``, ``extensions``, ``documentId``), or ``GET`` with the same
names as URL parameters — queries only. ``GET`` with ``Accept: text/html`` and no query
serves GraphiQL when it is enabled.

Response media type, from ``Accept``: ``application/graphql-response+json`` when asked for
by name; ``application/json`` when asked for by name, for ``*/*``/``application/*`` and
when there is no ``Accept`` at all; anything else is 406.

Status codes (the same for every route into GraphQL, so clients can rely on them):

- 200: the operation executed (``data`` is present, maybe with field errors). With
  ``application/json`` also every well-formed GraphQL request that failed parsing,
  validation or variable coercion: the errors are in the body, as legacy clients expect.
- 400: the request is not a GraphQL request (bad JSON, body not an object, missing or
  empty ``query``, ``variables``/``extensions`` not objects, ``operationName`` not a
  string), an unknown or mismatched trusted document, a raw query while trusted documents
  are enforced, a subscription over HTTP; and with ``application/graphql-response+json``
  every document that failed before execution: syntax, validation (unknown fields,
  depth/token/alias/cost limits, disabled introspection, fields the caller's role may not
  select — code ``FORBIDDEN``), no operation to run (none, or an unknown
  ``operationName``) and variables of the wrong type. No ``data`` then.
- 401: an ``Authorization`` header that is malformed, forged or expired (any media type;
  ``WWW-Authenticate: Bearer error="invalid_token"``, code ``TOKEN_INVALID`` or
  ``TOKEN_EXPIRED``); and with ``application/graphql-response+json`` an anonymous caller
  selecting a field that needs a role, when that is the document's only problem (code
  ``UNAUTHENTICATED``, ``WWW-Authenticate: Bearer``). With ``application/json`` the latter
  is a 200 carrying the same error code.
- 405: a mutation over ``GET`` (``Allow: POST``); any method but GET/POST
  (``Allow: GET, POST``).
- 406: no acceptable response media type. 413: body over ``max_body_bytes`` (declared or
  streamed), or a GraphQL document over ``max_document_bytes`` of UTF-8 (code
  ``DOCUMENT_TOO_LARGE``; the same for ``GET`` query strings and trusted documents; it is
  refused before parsing, so a large document costs one linear scan). 415: a POST whose
  ``Content-Type`` is not ``application/json``.
- 500: only for a bug of ours (logged); no input is meant to produce one.

Refusals made here, before GraphQL, carry ``{"errors": [{"message", "extensions":
{"code"}}]}`` (``BAD_REQUEST``, ``METHOD_NOT_ALLOWED``, ``NOT_ACCEPTABLE``,
``PAYLOAD_TOO_LARGE``, ``DOCUMENT_TOO_LARGE``, ``UNSUPPORTED_MEDIA_TYPE``,
``PERSISTED_QUERY_NOT_FOUND``, ...).

Execution runs on a worker thread, so blocking database calls never stall the server's
loop. A request a compiled plan answers (``schema.fastexec.try_plan``) runs there without
any event loop; everything else runs on the thread's own loop. Responses are encoded by
orjson (the stdlib encoder for what orjson refuses, e.g. integers beyond 64 bits).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVarTuple

import anyio
import anyio.to_thread
import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from core.auth import ANONYMOUS, Principal
from core.errors import DomainError
from opsure.metrics import Metrics
from opsure.runtime import Runtime
from opsure.trusted_documents import TrustedDocumentError, TrustedDocuments
from schema import fastexec
from schema.context import Context
from schema.documents import DOCUMENT_TOO_LARGE, document_too_large

__all__ = [
    "GRAPHQL_RESPONSE",
    "JSON",
    "GraphQLEndpoint",
    "HttpError",
    "check_document_size",
    "negotiate",
]

log = logging.getLogger("opsure.graphql")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
ALLOWED_METHODS = "GET, POST"

_local = threading.local()


EXECUTION_THREADS = 4  # execution is CPU-bound under the GIL: more threads only add contention
_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _execution_limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = anyio.CapacityLimiter(EXECUTION_THREADS)
    return limiter


_Ts = TypeVarTuple("_Ts")


class _ThreadLoop(asyncio.SelectorEventLoop):
    """A worker thread's event loop that notes whether anything was scheduled on it."""

    scheduled = False

    def call_soon(self, callback: Callable[[*_Ts], object], *args: *_Ts,
                  context: contextvars.Context | None = None) -> asyncio.Handle:
        self.scheduled = True
        return super().call_soon(callback, *args, context=context)

    def call_at(self, when: float, callback: Callable[[*_Ts], object], *args: *_Ts,
                context: contextvars.Context | None = None) -> asyncio.TimerHandle:
        self.scheduled = True
        return super().call_at(when, callback, *args, context=context)


def _thread_loop() -> _ThreadLoop:
    loop: _ThreadLoop | None = getattr(_local, "loop", None)
    if loop is None:
        loop = _local.loop = _ThreadLoop()
        # DataLoaders made while no loop runs (a plan's prefetch) bind to this one.
        asyncio.set_event_loop(loop)
    return loop


def _drop_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what an execution left on this thread's loop before its request closes.

    An error that nulls the whole result ends execution while DataLoader batches are still
    scheduled; run later (by the thread's next request) they would reopen the closed
    request's session and hold a pooled connection idle in a transaction.
    """
    loop.run_until_complete(asyncio.sleep(0))  # scheduled callbacks become tasks
    leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))


class HttpError(Exception):
    """A request refused before GraphQL execution, with its status, code and message."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


_MEDIA = {
    GRAPHQL_RESPONSE: GRAPHQL_RESPONSE,
    JSON: JSON,
    "application/*": JSON,
    "*/*": JSON,
}


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header (None: nothing acceptable)."""
    if accept is None or not accept.strip():
        return JSON
    best_key: tuple[float, int, int] | None = None
    best_media: str | None = None
    for index, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        chosen = _MEDIA.get(fields[0].lower())
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if chosen is None or not q > 0:
            continue
        # Highest q wins; on a tie the more specific range, then the earlier entry.
        key = (q, 0 if "*" in fields[0] else 1, -index)
        if best_key is None or key > best_key:
            best_key, best_media = key, chosen
    return best_media


class GraphQLEndpoint:
    """The HTTP side of ``/graphql`` (websockets are served by strawberry's ASGI app)."""

    def __init__(self, runtime: Runtime, schema: Any, metrics: Metrics, graphiql_html: str | None,
                 trusted: TrustedDocuments | None = None) -> None:
        self.runtime = runtime
        self.schema = schema
        self.metrics = metrics
        self.graphiql_html = graphiql_html
        self.trusted = trusted or TrustedDocuments(
            runtime.settings.data_dir, enforce=runtime.settings.trusted_documents_only
        )

    async def handle(self, request: Request) -> Response:
        """Handle one HTTP request to ``/graphql``."""
        media = negotiate(request.headers.get("accept"))
        try:
            if request.method not in ("GET", "POST"):
                raise HttpError(405, f"Method {request.method} is not allowed; use GET or POST.",
                                "METHOD_NOT_ALLOWED", {"Allow": ALLOWED_METHODS})
            if request.method == "GET" and self.graphiql_html and _wants_html(request):
                return Response(self.graphiql_html, media_type="text/html")
            if media is None:
                raise HttpError(406, f"Accept {GRAPHQL_RESPONSE} or {JSON}.", "NOT_ACCEPTABLE")
            params = await (self._get_params(request) if request.method == "GET" else self._post_params(request))
            query = self._document(params)
            principal: Principal = request.scope.get("principal", ANONYMOUS)
            return await self._execute(request, query, params, principal, media)
        except HttpError as exc:
            return _error_response(exc.status, exc.message, exc.code, media or JSON, exc.headers)

    async def _get_params(self, request: Request) -> dict[str, Any]:
        qp = request.query_params
        params: dict[str, Any] = {
            "query": qp.get("query"),
            "operationName": qp.get("operationName") or None,
            "documentId": qp.get("documentId") or None,
        }
        for key in ("variables", "extensions"):
            raw = qp.get(key)
            if raw:
                params[key] = _loads(raw, f"'{key}' is not valid JSON.")
        return _check_params(params, self.runtime.settings.max_document_bytes)

    async def _post_params(self, request: Request) -> dict[str, Any]:
        ctype, _, ctype_params = request.headers.get("content-type", "").partition(";")
        if ctype.strip().lower() != JSON:
            raise HttpError(415, "Content-Type must be application/json.", "UNSUPPORTED_MEDIA_TYPE")
        charset = next((p.partition("=")[2].strip().strip('"').lower() for p in ctype_params.split(";")
                        if p.partition("=")[0].strip().lower() == "charset"), "utf-8")
        if charset not in ("utf-8", "utf8"):
            raise HttpError(415, "The body must be UTF-8 encoded JSON.", "UNSUPPORTED_MEDIA_TYPE")
        limit = self.runtime.settings.max_body_bytes
        declared = request.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise HttpError(413, f"Body larger than {limit} bytes.", "PAYLOAD_TOO_LARGE")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise HttpError(413, f"Body larger than {limit} bytes.", "PAYLOAD_TOO_LARGE")
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HttpError(400, "The body is not valid UTF-8.") from exc
        params = _loads(text, "The body is not valid JSON.")
        if not isinstance(params, dict):
            raise HttpError(400, "The body must be a JSON object.")
        return _check_params(params, self.runtime.settings.max_document_bytes)

    def _document(self, params: dict[str, Any]) -> str:
        """The document to run: the query, or the trusted document the request names."""
        try:
            query = self.trusted.resolve(query=params.get("query"), doc_id=params.get("documentId"),
                                         extensions=params.get("extensions"))
        except TrustedDocumentError as exc:
            raise HttpError(exc.status, exc.message, exc.code) from exc
        if not isinstance(query, str) or not query.strip():
            raise HttpError(400, "'query' must be a non-empty string (or send a 'documentId').")
        check_document_size(query, self.runtime.settings.max_document_bytes)  # a trusted one too
        return query

    async def _execute(self, request: Request, query: str, params: dict[str, Any], principal: Principal,
                       media: str) -> Response:
        ctx = Context(principal=principal, session_factory=self.runtime.session_factory,
                      settings=self.runtime.settings, request=request)
        allowed = ({OperationType.QUERY} if request.method == "GET"
                   else {OperationType.QUERY, OperationType.MUTATION})

        options: dict[str, Any] = {
            "variable_values": params.get("variables"),
            "context_value": ctx,
            "operation_name": params.get("operationName"),
            "allowed_operation_types": allowed,
            "operation_extensions": params.get("extensions"),
        }

        def run() -> ExecutionResult:
            loop = _thread_loop()
            loop.scheduled = False
            try:
                # schema.fastexec: a compiled plan per (document, role) once the document ran
                # normally, answered here without a loop when it can; otherwise exactly
                # self.schema.execute(query, ...) on the thread's loop.
                result: ExecutionResult | None = fastexec.try_plan(self.schema, query, **options)
                if result is None:
                    result = loop.run_until_complete(
                        fastexec.execute(self.schema, query, plan_tried=True, **options))
                return result
            finally:
                if loop.scheduled:
                    _drop_leftovers(loop)
                ctx.close()

        try:
            result = await anyio.to_thread.run_sync(run, limiter=_execution_limiter())
        except CannotGetOperationTypeError as exc:  # no such operation: a GraphQL request error
            result = PreExecutionError(data=None, errors=[GraphQLError(exc.as_http_error_reason())])
        except Exception as exc:  # strawberry raises for refused operation types
            raise _protocol_error(exc, request.method) from exc
        op_type = _op_type(query)
        outcome = "ok" if not result.errors else ("rejected" if result.data is None else "partial")
        self.metrics.operations.labels(op_type, outcome).inc()
        return _graphql_response(result, media)


def _protocol_error(exc: Exception, method: str) -> HttpError:
    """Map strawberry's operation-selection exceptions to HTTP refusals (else a logged 500)."""
    if isinstance(exc, InvalidOperationTypeError):
        if exc.operation_type is OperationType.SUBSCRIPTION:
            return HttpError(400, "Subscriptions are served over websocket (graphql-transport-ws) "
                             "at this path, not over HTTP.", "BAD_REQUEST")
        return HttpError(405, f"{exc.as_http_error_reason(method).capitalize()}; use POST.",
                         "METHOD_NOT_ALLOWED", {"Allow": "POST"})
    if isinstance(exc, MissingQueryError):
        return HttpError(400, "'query' must be a non-empty string.")
    log.error("graphql execution failed", exc_info=exc)
    return HttpError(500, "Internal error", "INTERNAL_ERROR")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Deep nesting is refused by a linear scan *before* any recursive parser runs: web3/py-evm
# raise Python's recursion limit (py_ecc sets 100,000), so a recursive JSON or GraphQL parser
# given a few thousand brackets would overflow the C stack and kill the process.
MAX_NESTING = 64
_OPENERS = frozenset("[{(")
_CLOSERS = frozenset("]})")


def nesting_depth(text: str) -> int:
    """Deepest bracket nesting of JSON or GraphQL text, ignoring brackets inside strings."""
    if sum(text.count(c) for c in _OPENERS) <= MAX_NESTING:
        return 0  # cannot be deeper than the number of openers: the common, fast case
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    return deepest
        elif ch in _CLOSERS:
            depth -= 1
    return deepest


def _check_nesting(text: str, what: str) -> None:
    if nesting_depth(text) > MAX_NESTING:
        raise HttpError(400, f"{what} is nested deeper than {MAX_NESTING} levels.")


def _loads(text: str, message: str) -> Any:
    _check_nesting(text, "The JSON")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise HttpError(400, message) from exc


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept.lower() and "query" not in request.query_params \
        and "documentId" not in request.query_params


def check_document_size(query: str, max_bytes: int) -> None:
    """Refuse (413 ``DOCUMENT_TOO_LARGE``) a document over ``max_bytes`` of UTF-8, before parsing."""
    if document_too_large(query, max_bytes):
        raise HttpError(413, f"The GraphQL document is larger than {max_bytes} bytes.", DOCUMENT_TOO_LARGE)


def _check_params(params: dict[str, Any], max_document_bytes: int) -> dict[str, Any]:
    query = params.get("query")
    if query is not None and not isinstance(query, str):
        raise HttpError(400, "'query' must be a string.")
    if query:
        check_document_size(query, max_document_bytes)
        _check_nesting(query, "The GraphQL document")
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


def _not_executed(result: ExecutionResult) -> bool:
    """True when the operation never ran: parse, validation or variable errors only."""
    if not result.errors or result.data is not None:
        return False
    return isinstance(result, PreExecutionError) or all(not e.path for e in result.errors)


def _internal(err: GraphQLError) -> bool:
    original = err.original_error
    return original is not None and not isinstance(original, GraphQLError | DomainError | RecursionError)


def _graphql_response(result: ExecutionResult, media: str) -> Response:
    body: dict[str, Any] = {}
    errors = result.errors or []
    if errors:
        body["errors"] = [e.formatted for e in errors]
    not_executed = _not_executed(result)
    if not not_executed:
        body["data"] = result.data
    if result.extensions:
        body["extensions"] = result.extensions
    status = 200
    headers: dict[str, str] = {}
    if not_executed and any(_internal(e) for e in errors):
        status = 500  # a bug of ours before execution: logged by the schema's error policy
    elif media == GRAPHQL_RESPONSE and not_executed:
        codes = {(e.extensions or {}).get("code") for e in errors}
        if codes == {"UNAUTHENTICATED"}:
            status = 401
            headers["WWW-Authenticate"] = 'Bearer realm="opsure"'
        else:
            status = 400
    return Response(encode_json(body), status_code=status, media_type=media, headers=headers)


def encode_json(body: Any) -> bytes:
    """UTF-8 JSON of a response body: orjson, else the stdlib encoder (what orjson refuses)."""
    try:
        # Datetimes and dataclasses go through ``str`` as with the stdlib encoder.
        return orjson.dumps(body, default=str, option=_PASSTHROUGH)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits, a lone surrogate
        return json.dumps(body, default=str).encode()


_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _error_response(status: int, message: str, code: str, media: str, headers: dict[str, str]) -> Response:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return Response(body, status_code=status, media_type=media, headers=headers)
