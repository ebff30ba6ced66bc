"""The ASGI application: /graphql (HTTP + graphql-transport-ws), /healthz, /metrics.

Browsers: CORS per route (:mod:`opsure.cors`, origins from ``OPSURE_CORS_ORIGINS``) and
GraphiQL with its files served from here (:mod:`opsure.graphiql`, ``OPSURE_GRAPHIQL``).

HTTP requests to /graphql are served by :mod:`opsure.graphql_http` (status codes are
documented there). Websockets speak graphql-transport-ws and carry subscriptions only;
the caller authenticates with the handshake's ``Authorization`` header or the
connection_init payload ``{"Authorization": "Bearer <token>"}``, and an anonymous or badly
authenticated connection is closed with 4403 and the reason. Trusted documents
(:mod:`opsure.trusted_documents`) apply to both.

Example::

    app = create_app(Settings.from_env())     # uvicorn opsure.app:app --factory
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from graphql import GraphQLError, get_operation_ast, parse
from graphql import OperationType as GraphQLOperationType
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.unset import UnsetType

from core.auth import ANONYMOUS, Principal
from core.errors import AuthError
from core.proxies import client_address, in_networks, parse_networks
from core.settings import Settings, get_settings
from opsure.behaviour_http import events_route, identify_route
from opsure.cors import CorsMiddleware, api_policies
from opsure.downloads import download_route
from opsure.event_stream_host import EventStreamHost
from opsure.graphiql import GraphiQLPage
from opsure.graphql_http import MAX_NESTING, GraphQLEndpoint, HttpError, check_document_size, nesting_depth
from opsure.ledger_host import LedgerHost
from opsure.logs import request_id_var
from opsure.metrics import CONTENT_TYPE_LATEST, Metrics
from opsure.partner_auth import authenticate, token_endpoint, token_revoked
from opsure.report_files import report_routes
from opsure.route_guard import guard_routes
from opsure.runtime import Runtime, open_runtime
from opsure.trusted_documents import TrustedDocumentError, TrustedDocuments
from opsure.uploads import upload_route
from schema import build_schema
from schema.context import Context

__all__ = ["create_app"]

log = logging.getLogger("opsure.http")


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization must be 'Bearer <token>'", code="TOKEN_INVALID")
    return token.strip()


UNAUTHENTICATED_PATHS = frozenset({"/oauth/token", "/healthz", "/metrics", "/rpc"})


class AuthMiddleware:
    """Puts the caller's principal on the scope; a bad token is 401 before anything runs."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") in UNAUTHENTICATED_PATHS:
            await self.app(scope, receive, send)  # these endpoints authenticate on their own
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            token = _bearer(headers.get("authorization"))
            principal = await authenticate(self.runtime, token) if token else ANONYMOUS
        except AuthError as exc:
            if scope["type"] == "websocket":
                scope["principal"] = ANONYMOUS
                scope["auth_error"] = exc
                await self.app(scope, receive, send)
                return
            body = JSONResponse(
                {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                media_type="application/graphql-response+json"
                if "graphql-response" in headers.get("accept", "")
                else "application/json",
            )
            await body(scope, receive, send)
            return
        scope["principal"] = principal
        await self.app(scope, receive, send)


class RequestContextMiddleware:
    """Request id (``X-Request-ID`` in and out), access log line and metrics per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            path = scope.get("path", "")
            route = path if path in ("/graphql", "/healthz", "/metrics", "/rpc") else "other"
            self.metrics.requests.labels(route, scope.get("method", ""), str(status)).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            log.info("request", extra={"method": scope.get("method"), "path": path, "status": status,
                                       "ms": round(elapsed * 1000, 2)})
            request_id_var.reset(token)


@dataclass
class WsContext(Context):
    """The context of one websocket connection: also its connection_init payload."""

    connection_params: dict[str, Any] | None = None
    auth_error: AuthError | None = None


class WsRefusedError(Exception):
    """A websocket connection refused at connection_init, with the close reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _connection_token(params: dict[str, Any]) -> Any:
    """The ``Authorization`` value of a connection_init payload (any key case), or None."""
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization":
            return value
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with clear refusals, trusted documents and subscriptions only."""

    view: SubscriptionApp

    expiry_task: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """Acknowledge an authenticated connection; close 4403 with the reason otherwise."""
        try:
            await super().handle_connection_init(message)
        except WsRefusedError as exc:
            await self.websocket.close(code=4403, reason=f"Forbidden: {exc.reason}"[:120])
            return
        expires_at = self.context.principal.expires_at
        if self.connection_acknowledged and expires_at is not None and self.expiry_task is None:
            self.expiry_task = asyncio.create_task(self._close_when_expired(expires_at))

    #: How often an open connection re-checks that a revocable (partner client) token is still live.
    revocation_check_seconds: float = 30.0

    async def _close_when_expired(self, expires_at: float) -> None:
        principal = self.context.principal
        reason = "Unauthorized: token expired"
        while (left := expires_at - time.time()) > 0:
            if principal.client_id is None:
                await asyncio.sleep(left)
                break
            await asyncio.sleep(min(left, self.revocation_check_seconds))
            if await run_in_threadpool(token_revoked, self.view.runtime, principal):
                reason = "Unauthorized: token revoked"
                break
        with contextlib.suppress(Exception):  # already closed by the client: nothing to do
            await self.websocket.close(code=4401, reason=reason)

    async def shutdown(self) -> None:
        """Stop the expiry timer with the connection."""
        if self.expiry_task is not None:
            self.expiry_task.cancel()
        await super().shutdown()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Resolve trusted documents and refuse non-subscriptions before strawberry runs them."""
        payload: Any = message.get("payload")
        if not self.connection_acknowledged or "id" not in message or not isinstance(payload, dict):
            await super().handle_subscribe(message)
            return
        try:
            query = self.view.check_subscribe(payload)
        except HttpError as exc:
            await self.send_message({"id": message["id"], "type": "error",
                                     "payload": [{"message": exc.message, "extensions": {"code": exc.code}}]})
            return
        await super().handle_subscribe(cast(SubscribeMessage, {**message, "payload": {**payload, "query": query}}))


class SubscriptionApp(GraphQL[Context, None]):
    """strawberry's ASGI app, used for graphql-transport-ws subscriptions only.

    The caller authenticates with the handshake's ``Authorization`` header or the
    connection_init payload ``{"Authorization": "Bearer <token>"}`` (the payload wins);
    an anonymous or badly authenticated connection is closed with 4403 and a reason.
    """

    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, runtime: Runtime, schema: Any, trusted: TrustedDocuments) -> None:
        super().__init__(schema, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL], graphql_ide=None)
        self.runtime = runtime
        self.trusted = trusted

    def decode_json(self, data: str | bytes) -> object:
        """Parse a websocket message, refusing deep nesting before the recursive parser runs."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if nesting_depth(text) > MAX_NESTING:
            raise json.JSONDecodeError(f"nested deeper than {MAX_NESTING} levels", text[:20], 0)
        return json.loads(text)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        """A context for the connection, with the handshake's principal (if any)."""
        principal: Principal = request.scope.get("principal", ANONYMOUS)
        return WsContext(principal=principal, session_factory=self.runtime.session_factory,
                         settings=self.runtime.settings, request=request,
                         auth_error=request.scope.get("auth_error"))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate the connection from its init payload or handshake header."""
        params = getattr(context, "connection_params", None) or {}
        raw = _connection_token(params)
        if raw is not None:
            try:
                token = _bearer(raw) if isinstance(raw, str) else None
                if token is None:
                    raise AuthError("Authorization must be 'Bearer <token>'", code="TOKEN_INVALID")
                context.principal = await authenticate(self.runtime, token)
            except AuthError as exc:
                raise WsRefusedError(exc.message) from exc
        else:
            error = getattr(context, "auth_error", None)
            if error is not None:
                raise WsRefusedError(error.message)
        if not context.principal.authenticated:
            raise WsRefusedError("authentication required (Authorization in connection_init)")
        return UnsetType()  # acknowledge without a payload

    def check_subscribe(self, payload: dict[str, Any]) -> str:
        """The document a subscribe message runs; HttpError when it may not run here."""
        max_bytes = self.runtime.settings.max_document_bytes
        if isinstance(payload.get("query"), str):
            check_document_size(payload["query"], max_bytes)  # before hashing or parsing it
        try:
            query = self.trusted.resolve(query=payload.get("query"), doc_id=payload.get("documentId"),
                                         extensions=payload.get("extensions"))
        except TrustedDocumentError as exc:
            raise HttpError(exc.status, exc.message, exc.code) from exc
        if not isinstance(query, str) or not query.strip():
            raise HttpError(400, "'query' must be a non-empty string (or send a 'documentId').")
        check_document_size(query, max_bytes)
        if nesting_depth(query) > MAX_NESTING:
            raise HttpError(400, f"The GraphQL document is nested deeper than {MAX_NESTING} levels.")
        try:
            document = parse(query, max_tokens=self.runtime.settings.max_query_tokens)
        except GraphQLError:
            return query  # strawberry reports the syntax error itself
        name = payload.get("operationName")
        operation = get_operation_ast(document, name if isinstance(name, str) else None)
        if operation is not None and operation.operation is not GraphQLOperationType.SUBSCRIPTION:
            raise HttpError(400, "Only subscriptions run over websocket; send queries and mutations "
                            "over HTTP POST.")
        return query


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """Build the Starlette app for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    runtime = runtime or open_runtime(settings)
    schema = build_schema(settings)
    metrics = Metrics()
    cors_policies = api_policies(settings.cors_origins)  # a bad origin stops the start here
    graphiql = GraphiQLPage.load() if settings.graphiql else None
    trusted = TrustedDocuments(settings.data_dir, enforce=settings.trusted_documents_only)
    endpoint = GraphQLEndpoint(runtime, schema, metrics, None, trusted)  # GraphiQL's page is served below
    ws_app = SubscriptionApp(runtime, schema, trusted)

    def database_answers() -> None:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def healthz(_request: Request) -> Response:
        # Anonymous callers learn the status only: driver errors name hosts, users and paths.
        try:
            await run_in_threadpool(database_answers)
        except Exception:  # the database is down: say so, never 500
            log.exception("health check: the database does not answer")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    scrapers = parse_networks(settings.metrics_allow)
    proxies = parse_networks(settings.trusted_proxies)

    async def metrics_view(request: Request) -> Response:
        caller = client_address(request.client.host if request.client else None,
                                request.headers.getlist("x-forwarded-for"), proxies)
        if not in_networks(caller, scrapers):  # operational detail is for our own scrapers only
            return JSONResponse({"errors": [{"field": None, "code": "FORBIDDEN",
                                             "message": "metrics are served to OPSURE_METRICS_ALLOW only"}]},
                                status_code=403)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    ledger = LedgerHost(runtime)
    ledger.start()

    events = EventStreamHost(runtime, run_consumers=settings.event_consumers_in_process)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.anchoring_in_process:
            ledger.start_anchoring()
        events.start()
        yield
        events.close()
        ledger.close()
        runtime.close()

    async def graphql_or_ide(request: Request) -> Response:
        if graphiql is not None and graphiql.wants_page(request):
            return graphiql.page()
        return await endpoint.handle(request)

    routes = guard_routes([  # each route behind its declaration in schema.permissions.ROUTE_ACCESS
        Route("/graphql", endpoint.handle if graphiql is None else graphql_or_ide,
              methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        WebSocketRoute("/graphql", ws_app),
        Route("/healthz", healthz),
        Route("/metrics", metrics_view),
        Route("/rpc", _RpcRoute(ledger), methods=["GET", "POST"]),
        Route("/oauth/token", token_endpoint(runtime), methods=["POST"]),
        upload_route(runtime),
        download_route(runtime),
        events_route(runtime),
        identify_route(runtime),
        *report_routes(runtime),
        *([graphiql.route()] if graphiql is not None else []),
    ])
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.schema = schema
    app.state.metrics = metrics
    app.state.trusted_documents = trusted
    app.state.ledger = ledger
    app.state.events = events
    app.add_middleware(AuthMiddleware, runtime=runtime)  # type: ignore[arg-type]
    app.add_middleware(CorsMiddleware, policies=cors_policies)  # type: ignore[arg-type]  # preflights skip auth
    app.add_middleware(RequestContextMiddleware, metrics=metrics)  # type: ignore[arg-type]
    return app


class _RpcRoute:
    """ASGI adapter: ``/rpc`` (POST JSON-RPC, GET health) onto the ledger host's node app."""

    def __init__(self, ledger: LedgerHost) -> None:
        self.ledger = ledger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        inner = "/" if scope.get("method") == "POST" else "/health"
        await self.ledger.rpc({**scope, "path": inner, "raw_path": inner.encode()}, receive, send)

