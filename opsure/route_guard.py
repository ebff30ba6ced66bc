"""The one enforcement point of declared route permissions (``schema.permissions.ROUTE_ACCESS``).

:func:`guard_routes` wraps each route's ASGI app in a check of the caller's role (the
principal the auth middleware put on the scope) before the endpoint runs: anonymous callers
of a closed route get 401, other roles 403, and the endpoint never sees them. Routes open to
everyone on every method stay unwrapped. A route, or one of its methods, without a
declaration stops the app from being built: nothing is reachable that nobody declared.

Example::

    app = Starlette(routes=guard_routes([Route("/claims/{claim_id}/documents", upload, methods=["POST"])]))
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from core.auth import ANONYMOUS, Principal
from schema.permissions import RouteAccess, route_access, route_refusal

__all__ = ["UndeclaredRouteError", "guard_routes", "route_methods"]

_MESSAGES = {"UNAUTHENTICATED": "authentication required", "FORBIDDEN": "your role may not call this route"}


class UndeclaredRouteError(LookupError):
    """A route or method has no declaration in ``schema.permissions.ROUTE_ACCESS``."""


def route_methods(route: BaseRoute) -> list[str]:
    """The methods a route answers (``WEBSOCKET`` for a websocket route)."""
    if isinstance(route, WebSocketRoute):
        return ["WEBSOCKET"]
    if isinstance(route, Route):
        return sorted(route.methods or {"GET", "HEAD"})
    raise UndeclaredRouteError(f"{type(route).__name__} routes cannot be declared; mount plain routes")


class _Guard:
    """Refuses callers whose role the route's declaration (for the request's method) leaves out."""

    def __init__(self, app: ASGIApp, access: dict[str, RouteAccess]) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = "WEBSOCKET" if scope["type"] == "websocket" else scope.get("method", "")
        access = self.access.get(method)
        if access is None:  # Starlette answers 405 for a method the route does not serve
            await self.app(scope, receive, send)
            return
        principal: Principal = scope.get("principal", ANONYMOUS)
        refusal = route_refusal(access, principal.role.value if principal.role else None)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401 if refusal == "UNAUTHENTICATED" else 4403})
        else:
            headers = {"WWW-Authenticate": "Bearer"} if refusal == "UNAUTHENTICATED" else None
            body = {"errors": [{"field": None, "code": refusal, "message": _MESSAGES[refusal]}]}
            response = JSONResponse(body, status_code=401 if refusal == "UNAUTHENTICATED" else 403, headers=headers)
            await response(scope, receive, send)


def guard_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """``routes``, each behind its declared roles; UndeclaredRouteError for anything undeclared."""
    for route in routes:
        path = getattr(route, "path", "?")
        methods = route_methods(route)
        access: dict[str, RouteAccess] = {}
        for method in methods:
            found = route_access(method, path)
            if found is None:
                raise UndeclaredRouteError(f"{method} {path} is not declared in schema.permissions.ROUTE_ACCESS")
            access[method] = found
        if all("*" in a.roles for a in access.values()):
            continue  # open on every method: nothing to check, no wrapper on the hot path
        assert isinstance(route, Route | WebSocketRoute)
        route.app = _Guard(route.app, access)
    return list(routes)
