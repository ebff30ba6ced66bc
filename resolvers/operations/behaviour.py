"""Behaviour events: batched ingestion of what customers and anonymous visitors did.

Each event names a registered schema (``EVENT_SCHEMAS``: its properties, typed, nothing
else), a customer or an anonymous id, its sender's event id (idempotency: a repeated id is a
duplicate, stored once) and an instant with its zone, not in the future (5 minutes of clock
skew allowed). A batch holds at most ``MAX_BATCH`` events; each bad event is refused with its
index and code while the good ones of the batch are kept, so nothing valid is lost.

Example::

    result = ingest(session, principal=p, source="customer-7", now=now, events=[
        EventIn(event_id="a1b2c3d4e5", name="quote.viewed", customer_id=7, timestamp=now,
                properties={"productCode": "MED-1"})])
    result.accepted, result.duplicates, result.rejected
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import ValidationError
from resolvers.operations.models import BehaviourEvent

__all__ = ["EVENT_SCHEMAS", "MAX_BATCH", "EventIn", "IngestResult", "Rejected", "ingest"]

MAX_BATCH = 500
FUTURE_SKEW = dt.timedelta(minutes=5)
_EVENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_ANON_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class _Props(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Empty(_Props):
    """No properties."""


class _QuoteViewed(_Props):
    product_code: str = Field(alias="productCode", min_length=1, max_length=40)


class _Step(_Props):
    step: str = Field(min_length=1, max_length=40)


class _DeclarationFailed(_Props):
    reason: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")


class _Purchase(_Props):
    product_code: str = Field(alias="productCode", min_length=1, max_length=40)
    premium: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class _PageViewed(_Props):
    path: str = Field(min_length=1, max_length=200, pattern=r"^/")


#: Every event name a sender may use, with the schema of its properties.
EVENT_SCHEMAS: dict[str, type[_Props]] = {
    "page.viewed": _PageViewed,
    "quote.viewed": _QuoteViewed,
    "underwriting.step": _Step,
    "health_declaration.started": _Empty,
    "health_declaration.completed": _Empty,
    "health_declaration.failed": _DeclarationFailed,
    "purchase": _Purchase,
    "policy.surrendered": _Empty,
    "policy.renewed": _Empty,
    "claim.reported": _Empty,
    "consultation.opened": _Empty,
    "callback.answered": _Empty,
}


@dataclass(frozen=True)
class EventIn:
    """One event as sent."""

    event_id: str
    name: str
    timestamp: dt.datetime | None  # None: the sender's text was no instant
    customer_id: int | None = None
    anonymous_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """Why the event at ``index`` of the batch was refused."""

    index: int
    code: str
    message: str


@dataclass(frozen=True)
class IngestResult:
    """Accepted (stored now), duplicates (stored before), and every refused event."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]


def _check(e: EventIn, principal: Principal, now: dt.datetime) -> tuple[str, str] | dict[str, Any]:
    """(code, message) of the first problem of ``e``, or its properties as stored."""
    if not _EVENT_ID.match(e.event_id):
        return "BAD_EVENT_ID", "eventId is 8-64 of A-Z, a-z, 0-9, _ and -"
    schema = EVENT_SCHEMAS.get(e.name)
    if schema is None:
        return "UNKNOWN_EVENT", f"no event named {e.name!r} is registered"
    if e.customer_id is None and e.anonymous_id is None and principal.role is not Role.CUSTOMER:
        return "NO_SUBJECT", "name a customerId or an anonymousId"  # a customer's own events name them
    if e.anonymous_id is not None and not _ANON_ID.match(e.anonymous_id):
        return "BAD_ANONYMOUS_ID", "anonymousId is 8-64 of A-Z, a-z, 0-9, _ and -"
    if e.customer_id is not None and e.customer_id <= 0:
        return "BAD_CUSTOMER_ID", "customerId is no Customer's global id"
    if principal.role is Role.CUSTOMER and e.customer_id not in (None, principal.customer_id):
        return "NOT_YOUR_CUSTOMER_ID", "a customer sends events about themself only"
    if principal.role is None and e.customer_id is not None:
        return "NOT_YOUR_CUSTOMER_ID", "an anonymous sender names an anonymousId only"
    if e.timestamp is None or e.timestamp.tzinfo is None:
        return "BAD_TIMESTAMP", "timestamp is an ISO 8601 instant naming its zone"
    if e.timestamp > now + FUTURE_SKEW:
        return "FUTURE_DATED", "timestamp lies in the future"
    try:
        props = schema.model_validate(e.properties)
    except PydanticError as exc:
        return "BAD_PROPERTIES", "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors())
    return props.model_dump(mode="json", by_alias=True)


def ingest(session: Session, *, principal: Principal, events: Sequence[EventIn], source: str,
           now: dt.datetime) -> IngestResult:
    """Store the batch's valid events once each (by event id); report duplicates and every refusal."""
    if len(events) > MAX_BATCH:
        raise ValidationError(f"at most {MAX_BATCH} events per batch", field="events", code="BATCH_TOO_LARGE")
    rejected: list[Rejected] = []
    rows: dict[str, dict[str, Any]] = {}
    duplicates = 0
    for i, e in enumerate(events):
        checked = _check(e, principal, now)
        if isinstance(checked, tuple):
            rejected.append(Rejected(i, *checked))
            continue
        if e.event_id in rows:
            duplicates += 1
            continue
        customer = principal.customer_id if principal.role is Role.CUSTOMER else e.customer_id
        rows[e.event_id] = {"event_id": e.event_id, "name": e.name, "customer_id": customer,
                            "anonymous_id": e.anonymous_id, "occurred_at": e.timestamp.astimezone(dt.UTC) if e.timestamp else None,
                            "received_at": now, "properties": checked, "source": source[:200]}
    if rows:
        seen = set(session.scalars(select(BehaviourEvent.event_id).where(BehaviourEvent.event_id.in_(list(rows)))))
        duplicates += len(seen)
        fresh = [r for k, r in rows.items() if k not in seen]
        if fresh:  # a concurrent batch with the same ids: the first writer keeps each row
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            session.execute(dialect.insert(BehaviourEvent).on_conflict_do_nothing(index_elements=["event_id"]), fresh)
        return IngestResult(accepted=len(fresh), duplicates=duplicates, rejected=rejected)
    return IngestResult(accepted=0, duplicates=duplicates, rejected=rejected)
