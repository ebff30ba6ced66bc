"""OAuth2 token endpoint for partner systems (RFC 6749 §4.4, client_credentials grant).

``POST /oauth/token`` with ``application/x-www-form-urlencoded`` body
``grant_type=client_credentials`` and the client's credentials, either as HTTP Basic
(``Authorization: Basic base64(client_id:client_secret)``, preferred) or as the form
fields ``client_id`` and ``client_secret``. The answer is a bearer JWT for role ``partner``
scoped to the client's partner::

    {"access_token": "…", "token_type": "Bearer", "expires_in": 3600, "scope": "partner"}

Refusals follow RFC 6749 §5.2: 400 ``invalid_request`` / ``unsupported_grant_type``;
401 ``invalid_client`` (unknown, wrong secret, revoked) or ``unauthorized_client`` (the
partner is not approved), with ``WWW-Authenticate``. Issued tokens are audited.

Example (mounting; the app factory owns the routes)::

    Route("/oauth/token", token_endpoint(runtime), methods=["POST"])
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.audit import append_audit, digest_input
from core.auth import Role, issue_token
from core.db import transaction, utcnow
from core.errors import AuthError
from core.throttle import FailureThrottle
from opsure.runtime import Runtime
from partners import credentials

__all__ = ["MAX_FORM_BYTES", "token_endpoint"]

log = logging.getLogger("opsure.partner_auth")

MAX_FORM_BYTES = 4096
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(status: int, error: str, description: str, *, challenge: bool = False) -> JSONResponse:
    headers = dict(_NO_STORE)
    if challenge:
        headers["WWW-Authenticate"] = f'Basic realm="opsure", error="{error}"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise ValueError("only Basic client authentication is supported")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("malformed Basic credentials") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ValueError("malformed Basic credentials")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def token_endpoint(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    """The ``/oauth/token`` endpoint bound to ``runtime`` (keys, settings, database)."""

    def issue(client_id: str, client_secret: str) -> tuple[str, int]:
        now = utcnow()
        with transaction(runtime.session_factory) as session:
            client = credentials.authenticate(session, client_id=client_id, client_secret=client_secret, now=now)
            token = issue_token(runtime.token_keys, runtime.settings, subject=f"partner-client:{client.client_id}",
                                role=Role.PARTNER, partner_id=client.partner_id)
            append_audit(session, actor=f"partner-client:{client.client_id}", role=Role.PARTNER.value,
                         action="partnerToken", target=f"Partner:{client.partner_id}",
                         input_digest=digest_input({"clientId": client.client_id, "grant": "client_credentials"}))
        return token, runtime.settings.token_ttl_seconds

    throttle = FailureThrottle(max_failures=5, window_seconds=60)

    async def endpoint(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return _error(400, "invalid_request", "send application/x-www-form-urlencoded")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return _error(400, "invalid_request", "request body too large")
        try:
            form = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            return _error(400, "invalid_request", "malformed form body")
        if any(len(v) > 1 for v in form.values()):
            return _error(400, "invalid_request", "parameters must not repeat")
        fields = {k: v[0] for k, v in form.items()}
        if fields.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
        try:
            basic = _basic(request.headers.get("authorization"))
        except ValueError as exc:
            return _error(401, "invalid_client", str(exc), challenge=True)
        in_form = "client_id" in fields or "client_secret" in fields
        if basic is not None and in_form:
            return _error(400, "invalid_request", "use one client authentication method, not two")
        client_id, client_secret = basic if basic is not None else (
            fields.get("client_id", ""), fields.get("client_secret", ""))
        if not client_id or not client_secret:
            return _error(401, "invalid_client", "client credentials missing", challenge=True)
        keys = (f"client:{client_id[:128]}", f"ip:{request.client.host if request.client else '?'}")
        wait = max(throttle.blocked_for(k) for k in keys)
        if wait > 0:  # refuse even a right secret now, or guessing would still pay off
            reply = _error(429, "slow_down", "too many failed attempts; try again later")
            reply.headers["Retry-After"] = str(int(wait) + 1)
            return reply
        try:
            token, ttl = await run_in_threadpool(issue, client_id, client_secret)
        except AuthError as exc:
            log.info("partner token refused for %s: %s", client_id[:64], exc.code)
            for k in keys:
                throttle.failure(k)
            return _error(401, exc.code, exc.message, challenge=True)
        throttle.success(keys[0])
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": "partner"},
                            headers=_NO_STORE)

    return endpoint
