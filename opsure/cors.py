"""CORS: which browser origins may read which routes; preflights are answered here.

Policies, route by route:

- ``/graphql`` (GET, POST) and the claim document routes (``POST
  /claims/{claim_id}/documents``, ``GET``/``HEAD /claims/{claim_id}/documents/{document_id}``):
  the exact origins of ``OPSURE_CORS_ORIGINS`` (none by default).
- ``/rpc`` (GET, POST): any origin (``*``). It is anonymous by design and serves public
  chain data with its own bounds, like any public Ethereum endpoint, so an auditor's dapp
  may verify proofs from a browser.
- Nothing else: ``/oauth/token`` is for partner *systems* (a client secret in a browser is
  a leaked secret), ``/healthz`` and ``/metrics`` are for operators' tools.

A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) on a policy's
route is answered here, before authentication and the route guard (it carries no token and
runs no endpoint): 204 with the allowed methods and headers, ``Access-Control-Max-Age`` and
``Vary``; or, for an origin, method or header the policy leaves out, 403 ``CORS_REFUSED``
with the reason and no CORS header, so the browser blocks the call. Other requests run as
usual; the answer names the caller's origin in ``Access-Control-Allow-Origin`` (and exposes
the headers clients read) only when that origin is allowed, and always varies by ``Origin``.

``Access-Control-Allow-Credentials`` is never sent: Opsure authenticates by the
``Authorization`` header alone and reads no cookie, so ``fetch`` needs no ``credentials``
and a page that asks for them is refused by the browser.

Example::

    app.add_middleware(CorsMiddleware, policies=api_policies(settings.cors_origins))
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_AGE_SECONDS", "CorsMiddleware", "CorsPolicy", "api_policies", "parse_origins"]

#: How long a browser may reuse a preflight answer (Chromium caps it at 7,200 s).
MAX_AGE_SECONDS = 3600
#: Request headers a page may send to the API: the token, the GraphQL and upload headers,
#: the request id and the conditional/range headers of downloads.
API_REQUEST_HEADERS = frozenset({"accept", "authorization", "content-type", "if-none-match", "if-range", "range",
                                 "x-document-kind", "x-filename", "x-request-id"})
#: Response headers a page may read besides the CORS-safelisted ones.
API_EXPOSED_HEADERS = ("content-disposition", "content-range", "etag", "location", "retry-after",
                       "www-authenticate", "x-request-id")
_RPC_REQUEST_HEADERS = frozenset({"accept", "content-type", "x-request-id"})
_RPC_EXPOSED_HEADERS = ("retry-after", "x-request-id")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origins(entries: Iterable[str]) -> frozenset[str]:
    """Exact origins (``scheme://host[:port]``, lower case, default port dropped); ValueError names a bad one."""
    origins = set()
    for entry in entries:
        raw = entry.strip().rstrip("/")
        try:
            parts = urlsplit(raw)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"OPSURE_CORS_ORIGINS: not an origin: {entry!r}") from exc
        if (parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None
                or parts.password is not None or parts.path or parts.query or parts.fragment or "*" in raw):
            raise ValueError(f"OPSURE_CORS_ORIGINS: not an origin: {entry!r} (want scheme://host[:port], "
                             "exact: no wildcard, path or 'null')")
        scheme, host = parts.scheme.lower(), parts.hostname.lower()
        host = f"[{host}]" if ":" in host else host
        origins.add(f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}")
    return frozenset(origins)


@dataclass(frozen=True)
class CorsPolicy:
    """Who may read one route from a browser: origins (None: any), methods, request headers."""

    path: str
    methods: frozenset[str]
    origins: frozenset[str] | None
    request_headers: frozenset[str]
    exposed_headers: tuple[str, ...]

    def allows(self, origin: str) -> bool:
        """Whether a page of ``origin`` may read this route's answers."""
        return self.origins is None or origin.lower() in self.origins


def api_policies(origins: Iterable[str]) -> tuple[CorsPolicy, ...]:
    """The policies of Opsure's routes, with the API open to ``origins`` (``settings.cors_origins``)."""
    allowed = parse_origins(origins)

    def api(path: str, *methods: str) -> CorsPolicy:
        return CorsPolicy(path, frozenset(methods), allowed, API_REQUEST_HEADERS, API_EXPOSED_HEADERS)

    return (
        api("/graphql", "GET", "POST"),
        api("/claims/{claim_id}/documents", "POST"),
        api("/claims/{claim_id}/documents/{document_id}", "GET", "HEAD"),
        CorsPolicy("/rpc", frozenset({"GET", "POST"}), None, _RPC_REQUEST_HEADERS, _RPC_EXPOSED_HEADERS),
    )


def _refusal(reason: str) -> Response:
    body = {"errors": [{"field": None, "code": "CORS_REFUSED", "message": reason}]}
    return JSONResponse(body, status_code=403, headers={"Vary": "Origin"})


class CorsMiddleware:
    """Answers preflights and labels answers for the origins each route's policy allows."""

    def __init__(self, app: ASGIApp, policies: Iterable[CorsPolicy]) -> None:
        self.app = app
        self.exact: dict[str, CorsPolicy] = {}
        self.templated: list[tuple[re.Pattern[str], CorsPolicy]] = []
        for policy in policies:
            if "{" in policy.path:
                self.templated.append((compile_path(policy.path)[0], policy))
            else:
                self.exact[policy.path] = policy

    def policy_for(self, path: str) -> CorsPolicy | None:
        """The policy of the route serving ``path``, or None (no CORS there)."""
        found = self.exact.get(path)
        if found is None:
            found = next((policy for regex, policy in self.templated if regex.match(path)), None)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = self.policy_for(scope["path"]) if scope["type"] == "http" else None
        if policy is None:
            await self.app(scope, receive, send)
            return
        origin = wanted_method = wanted_headers = None
        for key, value in scope["headers"]:
            if key == b"origin":
                origin = value.decode("latin-1")
            elif key == b"access-control-request-method":
                wanted_method = value.decode("latin-1")
            elif key == b"access-control-request-headers":
                wanted_headers = value.decode("latin-1")
        if scope["method"] == "OPTIONS" and origin is not None and wanted_method is not None:
            await self.preflight(policy, origin, wanted_method, wanted_headers)(scope, receive, send)
            return
        allowed = origin is not None and policy.allows(origin)

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if policy.origins is not None:
                    headers.add_vary_header("Origin")
                if allowed:
                    headers["Access-Control-Allow-Origin"] = "*" if policy.origins is None else str(origin)
                    headers["Access-Control-Expose-Headers"] = ", ".join(policy.exposed_headers)
            await send(message)

        await self.app(scope, receive, labelled)

    @staticmethod
    def preflight(policy: CorsPolicy, origin: str, method: str, header_list: str | None) -> Response:
        """The answer to a preflight: 204 with the policy, or 403 ``CORS_REFUSED`` and no CORS header."""
        if not policy.allows(origin):
            return _refusal(f"origin {origin[:200]!r} may not call this route from a browser: "
                            "list it in OPSURE_CORS_ORIGINS")
        if method not in policy.methods:
            return _refusal(f"{method[:20]} may not be sent here from a browser (allowed: "
                            f"{', '.join(sorted(policy.methods))})")
        wanted = {h.strip().lower() for h in (header_list or "").split(",") if h.strip()}
        if extra := sorted(wanted - policy.request_headers):
            return _refusal(f"request headers {', '.join(extra)[:200]} may not be sent here from a browser "
                            f"(allowed: {', '.join(sorted(policy.request_headers))})")
        headers: dict[str, Any] = {
            "Access-Control-Allow-Origin": "*" if policy.origins is None else origin,
            "Access-Control-Allow-Methods": ", ".join(sorted(policy.methods)),
            "Access-Control-Allow-Headers": ", ".join(sorted(policy.request_headers)),
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }
        return Response(status_code=204, headers=headers)
