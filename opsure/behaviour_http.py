"""``POST /events``: behaviour events from frontends over plain HTTP, anonymous visitors included.

The body is ``{"events": [...]}`` with the fields of ``BehaviourEventInput`` (``eventId``, ``name``,
``timestamp``, ``customerId``, ``anonymousId``, ``properties``); the answer ``{"accepted",
"duplicates", "rejected": [{"index", "code", "message"}]}`` as the GraphQL mutation's. A caller
with a token must hold a role of ``BEHAVIOUR_EVENT_SENDERS``; a caller without one sends
anonymous ids only and is bounded per source address (``ANONYMOUS_BATCHES``, shared by every
worker through ``core.ratelimit``). Bodies over ``MAX_BODY`` bytes are refused (413) before
parsing, batches over ``behaviour.MAX_BATCH`` events whole (413 ``BATCH_TOO_LARGE``). Each stored
batch writes one audit row (action ``postBehaviourEvents``: the sender, the counts, an HMAC of
the raw body), in the batch's transaction.

``POST /events/identify``: ``{"anonymousId", "customerId"}`` (identify; a customer may leave
``customerId`` out) or ``{"anonymousId", "aliasOf"}`` (alias), for ``VISITOR_IDENTIFIERS``; the
answer ``{"customerId", "alreadyIdentified"}`` or an error with ``identifyVisitor``'s code
(400 bad input, 403 another customer's id, 404 no such customer or alias target, 409
``ANONYMOUS_ID_TAKEN``), audited as ``identifyVisitor``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.audit import append_audit, current_audit_key, digest_input
from core.auth import ANONYMOUS, Principal
from core.clock import now
from core.db import transaction
from core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError
from core.proxies import client_address, parse_networks, throttle_key
from core.ratelimit import RateLimitUnavailable, parse_rule, shared_limiter
from core.roles import BEHAVIOUR_EVENT_SENDERS
from opsure.runtime import Runtime
from resolvers.operations import behaviour
from schema.relay import decode_global_id, encode_global_id

__all__ = ["ANONYMOUS_BATCHES", "MAX_BODY", "events_route", "identify_route"]

MAX_BODY = 256 * 1024
#: Batches per minute one source address may send without a token.
ANONYMOUS_BATCHES = parse_rule("60/minute")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
           field: str | None = None) -> Response:
    error: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if field is not None:
        error["extensions"]["field"] = field
    return JSONResponse({"errors": [error]}, status_code=status, headers=headers)


def _role(principal: Principal) -> str | None:
    return principal.role.value if principal.role else None


def _instant(value: Any) -> dt.datetime | None:
    if type(value) is not str:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _customer(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return decode_global_id(str(value), "Customer", field="customerId")
    except DomainError:
        return 0  # refused as BAD_CUSTOMER_ID


def _text(value: Any) -> str:
    return value if type(value) is str else str(value)


def _events(raw: list[Any]) -> list[behaviour.EventIn]:
    """The batch as the service takes it (a frontend's batch names few customers: each decoded once)."""
    customers: dict[Any, int | None] = {}
    out = []
    make = behaviour.EventIn
    for d in raw:
        if type(d) is not dict:
            d = {}
        get = d.get
        props = get("properties", {})
        customer = get("customerId")
        if customer is not None:
            key = customer if type(customer) is str else repr(customer)
            if key not in customers:
                customers[key] = _customer(customer)
            customer = customers[key]
        anonymous = get("anonymousId")
        out.append(make(_text(get("eventId", "")), _text(get("name", "")), _instant(get("timestamp")), customer,
                        None if anonymous is None else _text(anonymous),
                        props if type(props) is dict else {"": props}))
    return out


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

    def store(principal: Principal, events: list[behaviour.EventIn], source: str, body: bytes) -> behaviour.IngestResult:
        with transaction(runtime.session_factory) as session:
            result = behaviour.ingest(session, principal=principal, events=events, source=source, now=now())
            # One audit row per batch, not per event: the raw body's HMAC (no canonical JSON of 500 events).
            append_audit(session, actor=source, role=_role(principal), action="postBehaviourEvents",
                         input_digest=hmac.new(current_audit_key().key, body, hashlib.sha256).hexdigest(),
                         detail=json.dumps({"events": len(events), "accepted": result.accepted,
                                            "duplicates": result.duplicates, "rejected": len(result.rejected)}))
            return result

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
        result = await run_in_threadpool(store, principal, _events(raw), source, body)
        return JSONResponse({"accepted": result.accepted, "duplicates": result.duplicates,
                             "rejected": [{"index": r.index, "code": r.code, "message": r.message}
                                          for r in result.rejected]})

    return Route("/events", endpoint, methods=["POST"])


_STATUS = ((ForbiddenError, 403), (NotFoundError, 404), (ConflictError, 409))


def identify_route(runtime: Runtime) -> Route:
    """The Starlette route of ``POST /events/identify`` (the guard admits ``VISITOR_IDENTIFIERS`` only)."""

    def bind(principal: Principal, body: dict[str, Any]) -> tuple[behaviour.IdentifyResult | None, DomainError | None]:
        digest = digest_input(body)
        try:
            with transaction(runtime.session_factory) as session:
                customer = body.get("customerId")
                result = behaviour.identify_visitor(
                    session, principal=principal, anonymous_id=str(body.get("anonymousId") or ""),
                    customer_id=None if customer is None else decode_global_id(str(customer), "Customer",
                                                                               field="customerId"),
                    alias_of=None if body.get("aliasOf") is None else str(body["aliasOf"]), now=now())
                append_audit(session, actor=principal.subject, role=_role(principal), action="identifyVisitor",
                             input_digest=digest, target=encode_global_id("Customer", result.customer_id))
                return result, None
        except DomainError as exc:
            with transaction(runtime.session_factory) as session:
                append_audit(session, actor=principal.subject, role=_role(principal), action="identifyVisitor",
                             input_digest=digest, outcome=f"refused:{exc.code}"[:32])
            return None, exc

    async def endpoint(request: Request) -> Response:
        principal: Principal = request.scope.get("principal", ANONYMOUS)
        raw = await _body(request)
        if raw is None:
            return _error(413, "BODY_TOO_LARGE", f"the body exceeds {MAX_BODY} bytes")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(400, "BAD_REQUEST", "the body is no JSON")
        if not isinstance(body, dict):
            return _error(400, "BAD_REQUEST", 'the body is {"anonymousId": ..., "customerId" or "aliasOf": ...}')
        result, error = await run_in_threadpool(bind, principal, body)
        if error is not None:
            status = next((code for cls, code in _STATUS if isinstance(error, cls)), 400)
            return _error(status, error.code, error.message, field=error.field)
        assert result is not None
        return JSONResponse({"customerId": encode_global_id("Customer", result.customer_id),
                             "alreadyIdentified": not result.created})

    return Route("/events/identify", endpoint, methods=["POST"])
