"""``POST /events``: behaviour events from frontends over plain HTTP, anonymous visitors included.

The body is ``{"events": [...]}`` with the fields of ``BehaviourEventInput`` (``eventId``, ``name``,
``timestamp``, ``customerId``, ``anonymousId``, ``properties``); the answer ``{"accepted",
"duplicates", "rejected": [{"index", "code", "message"}]}`` as the GraphQL mutation's. A caller
with a token must hold a role of ``BEHAVIOUR_EVENT_SENDERS``; a caller without one sends
anonymous ids only and is bounded per source address (``ANONYMOUS_BATCHES``, shared by every
worker through ``core.ratelimit``). Bodies over ``MAX_BODY`` bytes are refused (413) before
parsing, batches over ``behaviour.MAX_BATCH`` events whole (413 ``BATCH_TOO_LARGE``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.auth import ANONYMOUS, Principal
from core.clock import now
from core.db import transaction
from core.errors import DomainError
from core.proxies import client_address, parse_networks, throttle_key
from core.ratelimit import RateLimitUnavailable, parse_rule, shared_limiter
from core.roles import BEHAVIOUR_EVENT_SENDERS
from opsure.runtime import Runtime
from resolvers.operations import behaviour
from schema.relay import decode_global_id

__all__ = ["ANONYMOUS_BATCHES", "MAX_BODY", "events_route"]

MAX_BODY = 256 * 1024
#: Batches per minute one source address may send without a token.
ANONYMOUS_BATCHES = parse_rule("60/minute")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status,
                        headers=headers)


def _instant(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _customer(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return decode_global_id(str(value), "Customer", field="customerId")
    except DomainError:
        return 0  # refused as BAD_CUSTOMER_ID


def _event(raw: Any) -> behaviour.EventIn:
    d = raw if isinstance(raw, dict) else {}
    props = d.get("properties", {})
    return behaviour.EventIn(event_id=str(d.get("eventId", "")), name=str(d.get("name", "")),
                             timestamp=_instant(d.get("timestamp")), customer_id=_customer(d.get("customerId")),
                             anonymous_id=None if d.get("anonymousId") is None else str(d["anonymousId"]),
                             properties=props if isinstance(props, dict) else {"": props})


async def _body(request: Request) -> bytes | None:
    """The body, or None when it outgrows MAX_BODY (read no further)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def events_route(runtime: Runtime) -> Route:
    """The Starlette route of ``POST /events``."""
    limiter = shared_limiter(runtime.settings, runtime.engine)
    trusted = parse_networks(runtime.settings.trusted_proxies)

    def store(principal: Principal, events: list[behaviour.EventIn], source: str) -> behaviour.IngestResult:
        with transaction(runtime.session_factory) as session:
            return behaviour.ingest(session, principal=principal, events=events, source=source, now=now())

    async def endpoint(request: Request) -> Response:
        principal: Principal = request.scope.get("principal", ANONYMOUS)
        if principal.role is not None and principal.role.value not in BEHAVIOUR_EVENT_SENDERS:
            return _error(403, "FORBIDDEN", "this role sends no behaviour events")
        source = principal.subject
        if principal.role is None:
            source = throttle_key(client_address(request.client.host if request.client else None,
                                                 request.headers.getlist("x-forwarded-for"), trusted))
            try:
                decision = await run_in_threadpool(limiter.hit, ANONYMOUS_BATCHES, "behaviour-events", source)
            except RateLimitUnavailable:
                return _error(503, "UNAVAILABLE", "try again later", {"retry-after": "5"})
            if not decision.allowed:
                return _error(429, "RATE_LIMITED", "too many batches from this address",
                              {"retry-after": decision.retry_after_header})
        body = await _body(request)
        if body is None:
            return _error(413, "BODY_TOO_LARGE", f"the body exceeds {MAX_BODY} bytes")
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(400, "BAD_REQUEST", "the body is no JSON")
        raw = parsed.get("events") if isinstance(parsed, dict) else None
        if not isinstance(raw, list):
            return _error(400, "BAD_REQUEST", 'the body is {"events": [...]}')
        if len(raw) > behaviour.MAX_BATCH:
            return _error(413, "BATCH_TOO_LARGE", f"at most {behaviour.MAX_BATCH} events per batch")
        result = await run_in_threadpool(store, principal, [_event(e) for e in raw], source)
        return JSONResponse({"accepted": result.accepted, "duplicates": result.duplicates,
                             "rejected": [{"index": r.index, "code": r.code, "message": r.message}
                                          for r in result.rejected]})

    return Route("/events", endpoint, methods=["POST"])
