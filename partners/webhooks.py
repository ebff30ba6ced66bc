"""Outbound webhooks: what concerns a partner, HMAC-signed, retried with backoff, logged.

Services append domain events (:mod:`partners.events`); the durable consumer
``partners.webhooks`` (:data:`WEBHOOK_CONSUMER`) turns each one that concerns a partner into one
``webhook_delivery`` row per subscribed endpoint (:func:`enqueue`), in the transaction that
advances its position, so each event makes its deliveries exactly once; a replay finds them made
already (one per endpoint, event and payload). That row is the delivery log the partner queries.
The worker's :func:`deliver_pending` claims due rows (a lease, so two workers never post
the same row at once), POSTs them and records the outcome; failures are retried with
exponential backoff (``base_delay * 2**(attempt-1)``, capped, with jitter) until
``max_attempts``, then marked failed. Delivery is at least once: receivers deduplicate on
the ``Opsure-Delivery`` header.

Each request carries ``Opsure-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
``HMAC-SHA256(secret, "<t>." + body)`` (the endpoint's secret, shown once at
registration); :func:`verify_signature` is the receiver's check.

Partners choose the URLs, so both gates of :mod:`core.egress` apply: registration refuses
every literal form of a non-public address, and delivery goes only through an
:func:`core.egress.egress_client`, which checks the resolved address at connect time (DNS
rebinding included), follows no redirect and never reads the response body. What a
partner sees of a failure is a code — ``HTTP_STATUS`` (with ``last_status_code``),
``DELIVERY_FAILED`` or ``ENDPOINT_DEACTIVATED`` — never the connection-level detail
("connection refused" against a TLS error would map our network); the detail is kept in
``last_error_detail`` for staff.

Example::

    endpoint, secret = register_endpoint(s, principal=p, partner_id=3,
                                         url="https://partner.example/hooks", events=EVENTS, now=now)
    create_assignment(s, principal=staff, partner_id=3, kind=AssignmentKind.SURVEY, ...)  # an event
    deliver_pending(factory, egress_client(EgressPolicy.from_settings(settings)))  # consumer, then POST
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal
from core.db import transaction, utcnow
from core.egress import EgressPolicy, check_url, is_guarded
from core.errors import NotFoundError, ValidationError
from core.event_stream import Consumer, StoredEvent, drain, register_consumer
from partners.events import AssignmentCreated, RiskFlagPublished, SignedRecordAnchored
from partners.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookFailure
from partners.scoping import owned_by_caller
from partners.service import Page, PageRequest, count_of, get_partner, keyset_page

__all__ = [
    "DELIVERY_FAILED",
    "ENDPOINT_DEACTIVATED",
    "EVENTS",
    "HTTP_STATUS",
    "PAYLOAD_FIELDS",
    "SIGNATURE_HEADER",
    "WEBHOOK_CONSUMER",
    "DeliveryResult",
    "count_deliveries",
    "count_endpoints",
    "deactivate_endpoint",
    "deliver_pending",
    "delivery_body",
    "enqueue",
    "get_delivery",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "node_id",
    "register_endpoint",
    "sign",
    "verify_signature",
    "webhooks_of",
]

log = logging.getLogger("opsure.partners.webhooks")

EVENTS: tuple[str, ...] = tuple(e.value for e in WebhookEvent)
#: The fields of each event's payload (``data``): the API types them (``WebhookEventData``).
PAYLOAD_FIELDS: dict[str, frozenset[str]] = {
    WebhookEvent.ASSIGNMENT_CREATED: frozenset({"assignmentId", "kind", "caseReference", "investigationId"}),
    WebhookEvent.RECORD_ANCHORED: frozenset({"signedRecordId", "recordType", "commitment"}),
    WebhookEvent.FLAG_MATCHED: frozenset({"blindedId", "riskFlagId", "flagCode", "level", "publisher"}),
}
SIGNATURE_HEADER = "Opsure-Signature"
MAX_ENDPOINTS = 10

#: What a partner sees of a failed attempt (the detail is staff-only).
HTTP_STATUS = WebhookFailure.HTTP_STATUS
DELIVERY_FAILED = WebhookFailure.DELIVERY_FAILED
ENDPOINT_DEACTIVATED = WebhookFailure.ENDPOINT_DEACTIVATED


def register_endpoint(
    session: Session,
    *,
    principal: Principal,
    partner_id: int,
    url: str,
    events: Sequence[str],
    policy: EgressPolicy = EgressPolicy(),
    allow_insecure: bool = False,
    now: dt.datetime,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it and its signing secret (shown once).

    ``policy`` names the non-public addresses the operator allows; ``allow_insecure``
    permits plain http (development only).
    """
    partner = get_partner(session, principal=principal, partner_id=partner_id)
    try:
        url = check_url(url, policy, allow_http=allow_insecure)
    except ValueError as exc:
        raise ValidationError(str(exc), field="url", code="BAD_URL") from exc
    chosen = sorted(set(events or EVENTS))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise ValidationError(f"unknown events {unknown}; known: {list(EVENTS)}", field="events")
    count = len(session.scalars(select(WebhookEndpoint.id).where(
        WebhookEndpoint.partner_id == partner.id, WebhookEndpoint.active.is_(True))).all())
    if count >= MAX_ENDPOINTS:
        raise ValidationError(f"at most {MAX_ENDPOINTS} active endpoints", field="url", code="TOO_MANY")
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        partner_id=partner.id, url=url, secret=secret,
        events=chosen, active=True, created_by=principal.subject, created_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def deactivate_endpoint(session: Session, *, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    """Stop delivering to an endpoint (its pending deliveries fail on their next attempt)."""
    endpoint = session.scalar(select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, owned_by_caller(principal, WebhookEndpoint.partner_id)))
    if endpoint is None:
        raise NotFoundError("webhook endpoint not found", field="endpointId")
    endpoint.active = False
    session.flush()
    return endpoint


def get_endpoint(session: Session, *, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    """An endpoint the caller may see (staff: any; a partner: its own), else NotFoundError."""
    endpoint = session.scalar(select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, owned_by_caller(principal, WebhookEndpoint.partner_id)))
    if endpoint is None:
        raise NotFoundError("webhook endpoint not found", field="id")
    return endpoint


def get_delivery(session: Session, *, principal: Principal, delivery_id: int) -> WebhookDelivery:
    """A delivery the caller may see (staff: any; a partner: its own), else NotFoundError."""
    delivery = session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, owned_by_caller(principal, WebhookDelivery.partner_id)))
    if delivery is None:
        raise NotFoundError("webhook delivery not found", field="id")
    return delivery


def _endpoints(principal: Principal, partner_id: int) -> Select[WebhookEndpoint]:
    return select(WebhookEndpoint).where(
        WebhookEndpoint.partner_id == partner_id, owned_by_caller(principal, WebhookEndpoint.partner_id))


def list_endpoints(
    session: Session, *, principal: Principal, partner_id: int, page: PageRequest
) -> Page[WebhookEndpoint]:
    """A page of a partner's endpoints (active and deactivated), oldest first."""
    return keyset_page(session, _endpoints(principal, partner_id), WebhookEndpoint.id, request=page)


def count_endpoints(session: Session, *, principal: Principal, partner_id: int) -> int:
    """How many endpoints a partner has (active and deactivated)."""
    return count_of(session, _endpoints(principal, partner_id))


def node_id(type_name: str, pk: int) -> str:
    """The Relay global id of a row, as ``node(id:)`` takes it (payloads name rows by it).

    The same form as ``schema.relay.encode_global_id``, which sits a floor above partners.
    """
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def enqueue(session: Session, *, partner_id: int, event: str, data: dict[str, Any], now: dt.datetime,
            once: bool = False) -> int:
    """Queue ``event`` for every active endpoint of the partner subscribed to it; returns how many.

    ``once`` (the consumer): only endpoints registered by ``now`` that have no delivery of this
    very event and payload yet, so delivering an event again (a replay) makes nothing twice.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    if set(data) != PAYLOAD_FIELDS[event]:
        raise ValueError(f"a {event} payload has exactly {sorted(PAYLOAD_FIELDS[event])}, not {sorted(data)}")
    endpoints = session.execute(  # not the rows: their URL and secret stay sealed here
        select(WebhookEndpoint.id, WebhookEndpoint.events, WebhookEndpoint.created_at).where(
            WebhookEndpoint.partner_id == partner_id, WebhookEndpoint.active.is_(True))).all()
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if once:
        made = set(session.scalars(select(WebhookDelivery.endpoint_id).where(
            WebhookDelivery.partner_id == partner_id, WebhookDelivery.event == event,
            WebhookDelivery.payload == payload)))
        endpoints = [e for e in endpoints if e.id not in made and _aware(e.created_at) <= now]
    rows = [
        WebhookDelivery(endpoint_id=e.id, partner_id=partner_id, event=event, payload=payload,
                        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, created_at=now)
        for e in endpoints
        if event in (e.events or ())
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def webhooks_of(ev: StoredEvent) -> list[tuple[int, WebhookEvent, dict[str, Any]]]:
    """The webhooks an event makes: (partner id, webhook event, data) for each partner it concerns."""
    p = ev.payload
    if isinstance(p, AssignmentCreated):
        return [(p.partner_id, WebhookEvent.ASSIGNMENT_CREATED, {
            "assignmentId": node_id("Assignment", p.assignment_id), "kind": p.kind.value,
            "caseReference": p.case_reference, "investigationId": p.investigation_id})]
    if isinstance(p, SignedRecordAnchored):
        return [(p.partner_id, WebhookEvent.RECORD_ANCHORED, {
            "signedRecordId": node_id("SignedRecord", p.signed_record_id), "recordType": p.record_type.value,
            "commitment": p.commitment})]
    if isinstance(p, RiskFlagPublished):
        data = {"blindedId": p.blinded_id, "riskFlagId": node_id("RiskFlag", p.risk_flag_id),
                "flagCode": p.flag_code, "level": p.level, "publisher": p.publisher_code}
        return [(other, WebhookEvent.FLAG_MATCHED, data) for other in p.matched_partner_ids]
    return []


def _deliver_event(session: Session, ev: StoredEvent) -> None:
    for partner_id, event, data in webhooks_of(ev):
        enqueue(session, partner_id=partner_id, event=event.value, data=data, now=ev.occurred_at, once=True)


#: The durable consumer making deliveries from events (``opsure worker`` and ``opsure serve`` run it).
WEBHOOK_CONSUMER = register_consumer(Consumer(
    "partners.webhooks", _deliver_event,
    types=frozenset({"partner.assignment_created", "partner.signed_record_anchored", "partner.risk_flag_published"}),
))


def delivery_body(row: WebhookDelivery) -> bytes:
    """The exact bytes POSTed for a delivery (the same on every retry)."""
    return json.dumps(
        {"id": row.id, "event": row.event, "createdAt": row.created_at.isoformat(),
         "data": json.loads(row.payload)},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Opsure-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, *, now: float | None = None,
                     tolerance: float = 300.0) -> bool:
    """Receiver side: the header's MAC matches and its timestamp is within ``tolerance``."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        ts = int(fields["t"])
        given = fields["v1"]
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    expected = sign(secret, ts, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


@dataclass
class DeliveryResult:
    """What one delivery round did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0


def backoff_delay(attempts: int, *, base: float, cap: float, jitter: float) -> float:
    """Seconds to wait after the ``attempts``-th failure."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return float(delay + (random.uniform(0, delay * jitter) if jitter else 0.0))


def _claim(session_factory: sessionmaker[Session], now: dt.datetime, limit: int, lease: float) -> list[int]:
    with transaction(session_factory) as s:
        due = s.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        ).all()
        claimed = []
        until = now + dt.timedelta(seconds=lease)
        for did in due:
            res = s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == did, WebhookDelivery.status == DeliveryStatus.PENDING,
                       WebhookDelivery.next_attempt_at <= now)
                .values(next_attempt_at=until)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(int(did))
        return claimed


def deliver_pending(
    session_factory: sessionmaker[Session],
    client: httpx.Client,
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
    max_attempts: int = 8,
    base_delay: float = 10.0,
    max_delay: float = 3600.0,
    jitter: float = 0.1,
    lease: float = 120.0,
) -> DeliveryResult:
    """POST every due delivery once; record delivered / retry-at / failed.

    ``client`` must come from :func:`core.egress.egress_client` (TypeError otherwise).
    """
    if not is_guarded(client):
        raise TypeError("webhooks are delivered only through core.egress.egress_client")
    # Events the consumer has not read yet become deliveries first (fenced by its stored position,
    # so this never doubles the work of a consumer running elsewhere).
    drain(session_factory, WEBHOOK_CONSUMER)
    result = DeliveryResult()
    at = now or utcnow()  # after the drain: what it made is due
    for did in _claim(session_factory, at, limit, lease):
        with session_factory() as s:
            row = s.get(WebhookDelivery, did)
            assert row is not None
            endpoint = s.get(WebhookEndpoint, row.endpoint_id)
            assert endpoint is not None
            body = delivery_body(row)
            url, secret, active, event = endpoint.url, endpoint.secret, endpoint.active, row.event
        status_code: int | None = None
        error: str | None = None
        detail: str | None = None
        if not active:
            error, detail = ENDPOINT_DEACTIVATED, "endpoint deactivated"
        else:
            headers = {
                "content-type": "application/json",
                "user-agent": "Opsure-Webhooks/1",
                "opsure-event": event,
                "opsure-delivery": str(did),
                SIGNATURE_HEADER.lower(): sign(secret, int(time.time()), body),
            }
            try:
                with client.stream("POST", url, content=body, headers=headers) as response:
                    status_code = response.status_code  # the body is never read
                if not 200 <= status_code < 300:
                    error, detail = HTTP_STATUS, f"HTTP {status_code}"
            except httpx.HTTPError as exc:
                error, detail = DELIVERY_FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        with transaction(session_factory) as s:
            row = s.get(WebhookDelivery, did)
            assert row is not None
            row.attempts += 1
            row.last_status_code = status_code
            row.last_error = error
            row.last_error_detail = detail
            if error is None:
                row.status = DeliveryStatus.DELIVERED
                row.delivered_at = utcnow()
                result.delivered += 1
            elif not active or row.attempts >= max_attempts:
                row.status = DeliveryStatus.FAILED
                result.failed += 1
            else:
                delay = backoff_delay(row.attempts, base=base_delay, cap=max_delay, jitter=jitter)
                row.next_attempt_at = at + dt.timedelta(seconds=delay)
                result.retried += 1
        if error:
            log.info("webhook delivery %d to %s failed: %s", did, url, detail)
    return result


def _deliveries(
    principal: Principal, status: DeliveryStatus | None, event: WebhookEvent | None
) -> Select[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(owned_by_caller(principal, WebhookDelivery.partner_id))
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event is not None:
        stmt = stmt.where(WebhookDelivery.event == event.value)
    return stmt


def list_deliveries(
    session: Session,
    *,
    principal: Principal,
    page: PageRequest,
    status: DeliveryStatus | None = None,
    event: WebhookEvent | None = None,
) -> Page[WebhookDelivery]:
    """A page of the deliveries of the caller's partner (staff: all), oldest first."""
    return keyset_page(session, _deliveries(principal, status, event), WebhookDelivery.id, request=page)


def count_deliveries(
    session: Session, *, principal: Principal, status: DeliveryStatus | None = None, event: WebhookEvent | None = None
) -> int:
    """How many deliveries the caller may see (with the filters of :func:`list_deliveries`)."""
    return count_of(session, _deliveries(principal, status, event))
