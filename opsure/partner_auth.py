"""OAuth2 token endpoint for partner systems (RFC 6749 §4.4, client_credentials grant).

``POST /oauth/token`` with ``application/x-www-form-urlencoded`` body
``grant_type=client_credentials`` and the client's credentials, either as HTTP Basic
(``Authorization: Basic base64(client_id:client_secret)``, preferred) or as the form
fields ``client_id`` and ``client_secret``. The answer is a bearer JWT for role ``partner``
scoped to the client's partner::

    {"access_token": "…", "token_type": "Bearer", "expires_in": 3600, "scope": "partner"}

Refusals follow RFC 6749 §5.2: 400 ``invalid_request`` / ``unsupported_grant_type``;
401 ``invalid_client`` (unknown, wrong secret, revoked) or ``unauthorized_client`` (the
partner is not approved), with ``WWW-Authenticate``. Issued tokens are audited and name
their client (``clid``), so revoking the client voids them.

The body is read as a stream and reading stops past :data:`MAX_FORM_BYTES` (413). Failed
logins are counted per (client id, source address) — so nobody elsewhere can lock a
partner out — and, more loosely, per source across client ids (credential stuffing); the
source is the peer, or behind ``settings.trusted_proxies`` the ``X-Forwarded-For`` hop
they vouch for (:mod:`core.proxies`). The counts live in the store all workers share
(:mod:`core.ratelimit`); when it does not answer, logins are refused (503), never let through.

Example (mounting; the app factory owns the routes)::

    Route("/oauth/token", token_endpoint(runtime), methods=["POST"])
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, unquote

from limits import RateLimitItem
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.audit import append_audit, digest_input
from core.auth import Principal, Role, issue_token, verify_token
from core.db import READ_ONLY, transaction, utcnow
from core.errors import AuthError
from core.proxies import client_address, parse_networks, throttle_key
from core.ratelimit import RateLimitUnavailable, parse_rule, shared_limiter
from core.throttle import FailureThrottle
from opsure.runtime import Runtime
from partners import credentials

__all__ = ["MAX_FORM_BYTES", "PAIR_FAILURES", "SOURCE_FAILURES", "authenticate", "token_endpoint", "token_revoked"]

log = logging.getLogger("opsure.partner_auth")

MAX_FORM_BYTES = 4096
#: Failed logins of one client id from one source before that pair waits (sliding window).
PAIR_FAILURES: RateLimitItem = parse_rule("5/minute")
#: Failed logins from one source over every client id (credential stuffing).
SOURCE_FAILURES: RateLimitItem = parse_rule("30/hour")
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


def token_revoked(runtime: Runtime, principal: Principal) -> bool:
    """Whether ``principal``'s token was issued to a partner client since revoked (one indexed query)."""
    if principal.client_id is None:
        return False  # not issued by /oauth/token: nothing to revoke it by
    with runtime.engine.connect().execution_options(**READ_ONLY) as conn:
        return credentials.token_revoked(conn, client_id=principal.client_id)


async def authenticate(runtime: Runtime, token: str) -> Principal:
    """The principal of a bearer token: signature, claims and expiry checked, and not revoked."""
    principal = verify_token(runtime.token_keys, runtime.settings, token)
    if principal.client_id is not None and await run_in_threadpool(token_revoked, runtime, principal):
        raise AuthError("token revoked", code="TOKEN_REVOKED")
    return principal


class _TooLarge(Exception):
    pass


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk; _TooLarge as soon as it passes ``limit`` (no more is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def token_endpoint(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    """The ``/oauth/token`` endpoint bound to ``runtime`` (keys, settings, database)."""
    limiter = shared_limiter(runtime.settings, runtime.engine)
    per_pair = FailureThrottle(limiter, PAIR_FAILURES, name="login-pair")
    per_source = FailureThrottle(limiter, SOURCE_FAILURES, name="login-source")
    trusted = parse_networks(runtime.settings.trusted_proxies)

    def issue(client_id: str, client_secret: str) -> tuple[str, int]:
        now = utcnow()
        with transaction(runtime.session_factory) as session:
            client = credentials.authenticate(session, client_id=client_id, client_secret=client_secret, now=now)
            token = issue_token(runtime.token_keys, runtime.settings, subject=f"partner-client:{client.client_id}",
                                role=Role.PARTNER, partner_id=client.partner_id, client_id=client.client_id)
            append_audit(session, actor=f"partner-client:{client.client_id}", role=Role.PARTNER.value,
                         action="partnerToken", target=f"Partner:{client.partner_id}",
                         input_digest=digest_input({"clientId": client.client_id, "grant": "client_credentials"}))
        return token, runtime.settings.token_ttl_seconds

    def attempt(client_id: str, client_secret: str, source: str) -> tuple[str, int] | Response:
        """Throttle check, credential check and counting, in one worker thread."""
        pair = (client_id[:128], source)
        wait = max(per_pair.blocked_for(*pair), per_source.blocked_for(source))
        if wait > 0:  # refuse even a right secret now, or guessing would still pay off
            reply = _error(429, "slow_down", "too many failed attempts; try again later")
            reply.headers["Retry-After"] = str(int(wait) + 1)
            return reply
        try:
            issued = issue(client_id, client_secret)
        except AuthError as exc:
            log.info("partner token refused for %s from %s: %s", client_id[:64], source, exc.code)
            per_pair.failure(*pair)
            per_source.failure(source)
            return _error(401, exc.code, exc.message, challenge=True)
        per_pair.success(*pair)
        return issued

    async def endpoint(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return _error(400, "invalid_request", "send application/x-www-form-urlencoded")
        try:
            body = await _bounded_body(request, MAX_FORM_BYTES)
        except _TooLarge:
            return _error(413, "invalid_request", f"request body larger than {MAX_FORM_BYTES} bytes")
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
        source = throttle_key(client_address(request.client.host if request.client else None,
                                             request.headers.getlist("x-forwarded-for"), trusted))
        try:
            outcome = await run_in_threadpool(attempt, client_id, client_secret, source)
        except RateLimitUnavailable:
            log.exception("login throttle store unavailable; refusing partner logins")
            return _error(503, "temporarily_unavailable", "try again later")
        if isinstance(outcome, Response):
            return outcome
        token, ttl = outcome
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": "partner"},
                            headers=_NO_STORE)

    return endpoint
