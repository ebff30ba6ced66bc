"""The ASGI application: /graphql (HTTP + graphql-transport-ws), /healthz, /metrics.

Example::

    app = create_app(Settings.from_env())     # uvicorn opsure.app:app --factory
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from core.auth import ANONYMOUS, Principal, verify_token
from core.errors import AuthError
from core.settings import Settings, get_settings
from opsure.graphql_http import GraphQLEndpoint
from opsure.logs import request_id_var
from opsure.metrics import CONTENT_TYPE_LATEST, Metrics
from opsure.runtime import Runtime, open_runtime
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


class AuthMiddleware:
    """Puts the caller's principal on the scope; a bad token is 401 before anything runs."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            token = _bearer(headers.get("authorization"))
            principal = (
                verify_token(self.runtime.token_keys, self.runtime.settings, token) if token else ANONYMOUS
            )
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


class SubscriptionApp(GraphQL):  # type: ignore[misc]
    """strawberry's ASGI app, used for graphql-transport-ws subscriptions only."""

    def __init__(self, runtime: Runtime, schema: Any) -> None:
        super().__init__(schema, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL], graphql_ide=None)
        self.runtime = runtime

    async def get_context(self, request: Any, response: Any = None) -> Context:
        principal: Principal = request.scope.get("principal", ANONYMOUS)
        return Context(principal=principal, session_factory=self.runtime.session_factory,
                       settings=self.runtime.settings, request=request)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """Build the Starlette app for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    runtime = runtime or open_runtime(settings)
    schema = build_schema(settings)
    metrics = Metrics()
    graphiql = _graphiql_html() if settings.graphiql else None
    endpoint = GraphQLEndpoint(runtime, schema, metrics, graphiql)
    ws_app = SubscriptionApp(runtime, schema)

    async def healthz(_request: Request) -> Response:
        try:
            with runtime.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the database is down: say so, never 500
            return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def metrics_view(_request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        runtime.close()

    routes = [
        Route("/graphql", endpoint.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        WebSocketRoute("/graphql", ws_app),
        Route("/healthz", healthz),
        Route("/metrics", metrics_view),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.schema = schema
    app.state.metrics = metrics
    app.add_middleware(AuthMiddleware, runtime=runtime)  # type: ignore[arg-type]
    app.add_middleware(RequestContextMiddleware, metrics=metrics)  # type: ignore[arg-type]
    return app


def _graphiql_html() -> str:
    from strawberry.http.ides import get_graphql_ide_html

    return get_graphql_ide_html(graphql_ide="graphiql")
