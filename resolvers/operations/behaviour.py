"""Behaviour events: batched ingestion of what customers and anonymous visitors did, and reads of them.

Each event names a registered schema (``EVENT_SCHEMAS``: its properties, typed, nothing
else), a customer or an anonymous id, its sender's event id (idempotency: a repeated id is a
duplicate, stored once) and an instant with its zone, not in the future (5 minutes of clock
skew allowed). A batch holds at most ``MAX_BATCH`` events; each bad event is refused with its
index and code while the good ones of the batch are kept, so nothing valid is lost.

Identity: ``identify`` binds an anonymous id to the customer it turned out to be, ``alias``
binds another anonymous id to the customer an identified one is bound to. Events keep their
rows as sent; every read below resolves an event's customer as its ``customer_id`` or else
the customer its ``anonymous_id`` is bound to (an event sent anonymously before the visitor
identified counts for the customer from then on). A binding is made once: the same binding
again changes nothing, an anonymous id bound to another customer is ``ANONYMOUS_ID_TAKEN``.

The platform's own flows (policies issued, renewed, surrendered, claims reported...) become
events of source ``"platform"`` through the ``operations.behaviour`` consumer
(``resolvers/operations/platform_events.py``), with event ids no sender can use
(``platform:<stream id>:<n>``), so a replay stores nothing twice.

Read API for other domains (identity-resolved; ``since`` inclusive, ``until`` exclusive, aware
datetimes; ``names``/``name`` from ``EVENT_SCHEMAS``)::

    events_for_customer(session, customer_id, *, names=None, since=None, until=None) -> list[CustomerEvent]
        # one customer's events, oldest first (occurred_at, then id)
    event_stats(session, name, *, since=None, until=None, customer_ids=None) -> dict[int, EventStats]
        # per customer: EventStats(count, first, last) of the name in the window (one GROUP BY)
    event_counts(session, name, since=None, until=None) -> dict[int, int]
    first_occurrences(session, name, since=None, until=None) -> dict[int, datetime]
    last_occurrences(session, name, since=None, until=None) -> dict[int, datetime]
    events_after(session, after_id, *, limit=1000, names=None) -> list[ResolvedEvent]
        # events by storage id (a cursor for incremental work); customer_id None while anonymous
    identities_after(session, after_id, *, limit=1000) -> list[Identity]
        # bindings by id: whose earlier anonymous events now count for a customer
    customer_of(session, anonymous_id) -> int | None

Anonymous events never identified are in none of the per-customer answers. Ids grow with
inserts, but concurrent transactions may commit them out of order: a cursor over
``events_after``/``identities_after`` should re-read a short overlap (or use the event stream).

Example::

    result = ingest(session, principal=p, source="customer-7", now=now, events=[
        EventIn(event_id="a1b2c3d4e5", name="quote.viewed", customer_id=7, timestamp=now,
                properties={"productCode": "MED-1"})])
    result.accepted, result.duplicates, result.rejected
    identify(session, principal=p, anonymous_id="visitor-42ab", customer_id=7, now=now)
    event_counts(session, "quote.viewed", since=now - dt.timedelta(days=30), until=now)  # {7: 1}
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from resolvers.operations.models import BehaviourEvent, BehaviourIdentity
from resolvers.policies import service as policies

__all__ = [
    "EVENT_SCHEMAS",
    "MAX_BATCH",
    "PLATFORM_SOURCE",
    "CustomerEvent",
    "EventIn",
    "EventStats",
    "IdentifyResult",
    "Identity",
    "IngestResult",
    "PlatformEvent",
    "Rejected",
    "ResolvedEvent",
    "alias",
    "customer_of",
    "event_counts",
    "event_stats",
    "events_after",
    "events_for_customer",
    "first_occurrences",
    "identify",
    "identify_visitor",
    "identities_after",
    "ingest",
    "last_occurrences",
    "record_platform_events",
]

MAX_BATCH = 500
FUTURE_SKEW = dt.timedelta(minutes=5)
#: The source of the events the platform's own flows record (``platform_events``).
PLATFORM_SOURCE = "platform"
_EVENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # no ":": platform ids (platform:<id>:<n>) are no sender's
_ANON_ID = _EVENT_ID


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


@dataclass(frozen=True, slots=True)
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


_EMPTY = frozenset(n for n, sc in EVENT_SCHEMAS.items() if not sc.model_fields)
#: Strict schemas coerce nothing: what validates is stored as sent (no dump needed).
_AS_SENT = frozenset(n for n, sc in EVENT_SCHEMAS.items() if sc.model_config.get("strict"))
_VALIDATE = {n: sc.__pydantic_validator__.validate_python for n, sc in EVENT_SCHEMAS.items()}


def _properties(name: str, props: dict[str, Any]) -> tuple[str, str] | dict[str, Any]:
    """The properties as stored, or ("BAD_PROPERTIES", where and why)."""
    if not props and name in _EMPTY:
        return {}
    try:
        model = _VALIDATE[name](props)
    except PydanticError as exc:
        return "BAD_PROPERTIES", "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors())
    if name in _AS_SENT and type(props) is dict:
        return props
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return dumped


def _check(e: EventIn, role: Role | None, own: int | None, latest: dt.datetime) -> tuple[str, str] | dict[str, Any]:
    """(code, message) of the first problem of ``e``, or its properties as stored (``role``, ``own``: the
    sender's role and customer id; ``latest``: the latest instant allowed)."""
    if not _EVENT_ID.fullmatch(e.event_id):
        return "BAD_EVENT_ID", "eventId is 8-64 of A-Z, a-z, 0-9, _ and -"
    if e.name not in EVENT_SCHEMAS:
        return "UNKNOWN_EVENT", f"no event named {e.name!r} is registered"
    customer, anonymous = e.customer_id, e.anonymous_id
    if anonymous is not None:
        if not _ANON_ID.fullmatch(anonymous):
            return "BAD_ANONYMOUS_ID", "anonymousId is 8-64 of A-Z, a-z, 0-9, _ and -"
    elif customer is None and role is not Role.CUSTOMER:
        return "NO_SUBJECT", "name a customerId or an anonymousId"  # a customer's own events name them
    if customer is not None:
        if customer <= 0:
            return "BAD_CUSTOMER_ID", "customerId is no Customer's global id"
        if role is Role.CUSTOMER and customer != own:
            return "NOT_YOUR_CUSTOMER_ID", "a customer sends events about themself only"
        if role is None:
            return "NOT_YOUR_CUSTOMER_ID", "an anonymous sender names an anonymousId only"
    ts = e.timestamp
    if ts is None or ts.tzinfo is None:
        return "BAD_TIMESTAMP", "timestamp is an ISO 8601 instant naming its zone"
    if ts > latest:
        return "FUTURE_DATED", "timestamp lies in the future"
    return _properties(e.name, e.properties)


_COLUMNS = "event_id, name, customer_id, anonymous_id, occurred_at, received_at, properties, source"
_INSERT = {  # the driver's own executemany: no per-row bind processing (the rows are made ready below)
    "sqlite": f"INSERT INTO behaviour_event ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (event_id) DO NOTHING",
    "postgresql": f"INSERT INTO behaviour_event ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s::json, %s) "
                  "ON CONFLICT (event_id) DO NOTHING",
}


def _json(value: dict[str, Any]) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits: the stdlib writes it
        return json.dumps(value, separators=(",", ":"))


def _instant(session: Session) -> Any:
    """How this database takes a UTC instant: SQLite as SQLAlchemy stores it (text), PostgreSQL as is."""
    if session.get_bind().dialect.name == "postgresql":
        return lambda at: at
    return _sqlite_instant


def _sqlite_instant(at: dt.datetime) -> str:
    """A UTC instant as SQLAlchemy stores it on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    return at.replace(tzinfo=None).isoformat(" ", "microseconds")


def _insert(session: Session, rows: list[tuple[Any, ...]]) -> int:
    """Insert ``rows`` (``_COLUMNS`` order, made ready by ``_instant``/``_json``) in one executemany; how many
    were new (a row whose event id exists is skipped)."""
    conn = session.connection()
    result = conn.exec_driver_sql(_INSERT[conn.dialect.name], rows)  # type: ignore[arg-type]
    return int(result.rowcount)


def ingest(session: Session, *, principal: Principal, events: Sequence[EventIn], source: str,
           now: dt.datetime) -> IngestResult:
    """Store the batch's valid events once each (by event id); report duplicates and every refusal."""
    if len(events) > MAX_BATCH:
        raise ValidationError(f"at most {MAX_BATCH} events per batch", field="events", code="BATCH_TOO_LARGE")
    rejected: list[Rejected] = []
    rows: dict[str, tuple[Any, ...]] = {}
    duplicates = 0
    role = principal.role
    own = principal.customer_id if role is Role.CUSTOMER else None
    latest = now + FUTURE_SKEW
    source = source[:200]
    utc = dt.UTC
    instant = _instant(session)
    received = instant(now.astimezone(utc))
    for i, e in enumerate(events):
        checked = _check(e, role, own, latest)
        if isinstance(checked, tuple):
            rejected.append(Rejected(i, *checked))
            continue
        if e.event_id in rows:
            duplicates += 1
            continue
        assert e.timestamp is not None  # _check refused the others
        rows[e.event_id] = (e.event_id, e.name, own if own is not None else e.customer_id, e.anonymous_id,
                            instant(e.timestamp.astimezone(utc)), received, _json(checked), source)
    if not rows:
        return IngestResult(accepted=0, duplicates=duplicates, rejected=rejected)
    # Ids stored before (or by a concurrent batch: the first writer keeps each row) are skipped by the insert.
    accepted = _insert(session, list(rows.values()))
    return IngestResult(accepted=accepted, duplicates=duplicates + len(rows) - accepted, rejected=rejected)


# --- the platform's own events ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformEvent:
    """An event a platform flow records about a customer (``event_id``: deterministic, ``platform:...``)."""

    event_id: str
    name: str
    customer_id: int
    occurred_at: dt.datetime
    properties: dict[str, Any] = field(default_factory=dict)


def record_platform_events(session: Session, events: Sequence[PlatformEvent], *, now: dt.datetime) -> None:
    """Store the platform's events once each by event id (a replay stores nothing again).

    Properties are checked by their name's schema like a sender's: a mismatch is a programming
    error (``ValueError``), never a stored row.
    """
    instant = _instant(session)
    rows = []
    for e in events:
        props = _properties(e.name, e.properties) if e.name in EVENT_SCHEMAS else ("UNKNOWN_EVENT", e.name)
        if isinstance(props, tuple):
            raise ValueError(f"platform event {e.name}: {props[1]}")
        rows.append((e.event_id, e.name, e.customer_id, None, instant(e.occurred_at.astimezone(dt.UTC)),
                     instant(now.astimezone(dt.UTC)), _json(props), PLATFORM_SOURCE))
    if rows:
        _insert(session, rows)


# --- identity: anonymous ids bound to customers -----------------------------------------------------------


@dataclass(frozen=True)
class IdentifyResult:
    """The binding made (``created``) or found as it was (idempotent: ``created`` is False)."""

    anonymous_id: str
    customer_id: int
    created: bool


def _anonymous(value: str, field: str) -> None:
    if not _ANON_ID.fullmatch(value):
        raise ValidationError("an anonymous id is 8-64 of A-Z, a-z, 0-9, _ and -", field=field,
                              code="BAD_ANONYMOUS_ID")


def _bind(session: Session, *, principal: Principal, anonymous_id: str, customer_id: int, via: str,
          alias_of: str | None, now: dt.datetime) -> IdentifyResult:
    bound = customer_of(session, anonymous_id)
    if bound is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(BehaviourIdentity.__table__).on_conflict_do_nothing(
            index_elements=["anonymous_id"]), [{
                "anonymous_id": anonymous_id, "customer_id": customer_id, "via": via, "alias_of": alias_of,
                "identified_at": now, "identified_by": principal.subject[:200]}])
        bound = customer_of(session, anonymous_id)  # a concurrent identify may have won
        if bound == customer_id:
            from resolvers.operations import events  # late: events imports this module's consumer

            events.identified(session, customer_id=customer_id, via=via, principal=principal)
            return IdentifyResult(anonymous_id, customer_id, created=True)
    if bound != customer_id:
        raise ConflictError("this anonymous id is bound to another customer", field="anonymousId",
                            code="ANONYMOUS_ID_TAKEN")
    return IdentifyResult(anonymous_id, customer_id, created=False)


def identify(session: Session, *, principal: Principal, anonymous_id: str, customer_id: int | None,
             now: dt.datetime) -> IdentifyResult:
    """Bind ``anonymous_id`` to ``customer_id`` (a customer: themself, ``customer_id`` may be None), once.

    Errors: BAD_ANONYMOUS_ID, NOT_YOUR_CUSTOMER_ID (a customer naming another), NO_CUSTOMER,
    CUSTOMER_NOT_FOUND, ANONYMOUS_ID_TAKEN (bound to another customer: nothing changes).
    """
    if principal.role is None:
        raise ForbiddenError("sign in to identify a visitor", code="FORBIDDEN")
    _anonymous(anonymous_id, "anonymousId")
    if principal.role is Role.CUSTOMER:
        if customer_id not in (None, principal.customer_id):
            raise ForbiddenError("a customer identifies as themself only", field="customerId",
                                 code="NOT_YOUR_CUSTOMER_ID")
        customer_id = principal.customer_id
    if customer_id is None:
        raise ValidationError("name the customer the visitor is", field="customerId", code="NO_CUSTOMER")
    try:
        policies.get_customer(session, principal=principal, customer_id=customer_id)
    except NotFoundError:
        raise NotFoundError("customer not found", field="customerId", code="CUSTOMER_NOT_FOUND") from None
    return _bind(session, principal=principal, anonymous_id=anonymous_id, customer_id=customer_id, via="identify",
                 alias_of=None, now=now)


def alias(session: Session, *, principal: Principal, anonymous_id: str, alias_of: str,
          now: dt.datetime) -> IdentifyResult:
    """Bind ``anonymous_id`` to the customer ``alias_of`` (an identified anonymous id) is bound to, once.

    Errors: BAD_ANONYMOUS_ID, NOT_IDENTIFIED (``alias_of`` is bound to no customer, or for a
    customer caller to another one), ANONYMOUS_ID_TAKEN.
    """
    if principal.role is None:
        raise ForbiddenError("sign in to alias a visitor", code="FORBIDDEN")
    _anonymous(anonymous_id, "anonymousId")
    _anonymous(alias_of, "aliasOf")
    target = customer_of(session, alias_of)
    if target is None or (principal.role is Role.CUSTOMER and target != principal.customer_id):
        raise NotFoundError("the anonymous id aliased is bound to no customer", field="aliasOf",
                            code="NOT_IDENTIFIED")
    return _bind(session, principal=principal, anonymous_id=anonymous_id, customer_id=target, via="alias",
                 alias_of=alias_of, now=now)


def identify_visitor(session: Session, *, principal: Principal, anonymous_id: str, customer_id: int | None,
                     alias_of: str | None, now: dt.datetime) -> IdentifyResult:
    """``alias`` when ``alias_of`` is given, else ``identify`` (the one rule of GraphQL and HTTP); both: CUSTOMER_AND_ALIAS."""
    if alias_of is not None:
        if customer_id is not None:
            raise ValidationError("name customerId or aliasOf, not both", field="aliasOf", code="CUSTOMER_AND_ALIAS")
        return alias(session, principal=principal, anonymous_id=anonymous_id, alias_of=alias_of, now=now)
    return identify(session, principal=principal, anonymous_id=anonymous_id, customer_id=customer_id, now=now)


def customer_of(session: Session, anonymous_id: str) -> int | None:
    """The customer ``anonymous_id`` is bound to, if any."""
    return session.scalar(select(BehaviourIdentity.customer_id).where(BehaviourIdentity.anonymous_id == anonymous_id))


# --- reads for other domains (identity-resolved) ------------------------------------------------------------


@dataclass(frozen=True)
class CustomerEvent:
    """One event of a customer, as stored (``anonymous_id``: set when it was sent before identifying)."""

    id: int
    event_id: str
    name: str
    occurred_at: dt.datetime
    properties: dict[str, Any]
    source: str
    anonymous_id: str | None


@dataclass(frozen=True)
class ResolvedEvent:
    """An event with the customer it counts for (None: still anonymous)."""

    id: int
    event_id: str
    name: str
    customer_id: int | None
    anonymous_id: str | None
    occurred_at: dt.datetime
    properties: dict[str, Any]
    source: str


@dataclass(frozen=True)
class EventStats:
    """How often a customer did something in a window, and when first and last."""

    count: int
    first: dt.datetime
    last: dt.datetime


@dataclass(frozen=True)
class Identity:
    """One binding of an anonymous id to a customer."""

    id: int
    anonymous_id: str
    customer_id: int
    via: str
    identified_at: dt.datetime


_RESOLVED = func.coalesce(BehaviourEvent.customer_id, BehaviourIdentity.customer_id)


def _window(since: dt.datetime | None, until: dt.datetime | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if since is not None:
        conds.append(BehaviourEvent.occurred_at >= since)
    if until is not None:
        conds.append(BehaviourEvent.occurred_at < until)
    return conds


def _resolving(stmt: Any) -> Any:  # any Select over behaviour_event
    return stmt.outerjoin(BehaviourIdentity, BehaviourIdentity.anonymous_id == BehaviourEvent.anonymous_id)


def events_for_customer(session: Session, customer_id: int, *, names: Sequence[str] | None = None,
                        since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[CustomerEvent]:
    """Every event of ``customer_id`` (sent as them, or anonymously by an id bound to them), oldest first."""
    bound = select(BehaviourIdentity.anonymous_id).where(BehaviourIdentity.customer_id == customer_id)
    e = BehaviourEvent
    stmt = (select(e.id, e.event_id, e.name, e.occurred_at, e.properties, e.source, e.anonymous_id)
            .where(or_(e.customer_id == customer_id, and_(e.customer_id.is_(None), e.anonymous_id.in_(bound))),
                   *_window(since, until))
            .order_by(e.occurred_at, e.id))
    if names is not None:
        stmt = stmt.where(e.name.in_(list(names)))
    return [CustomerEvent(*row) for row in session.execute(stmt)]


def event_stats(session: Session, name: str, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                customer_ids: Sequence[int] | None = None) -> dict[int, EventStats]:
    """Per customer who did ``name`` in the window: how often, first and last (one GROUP BY)."""
    e = BehaviourEvent
    stmt = _resolving(select(_RESOLVED, func.count(), func.min(e.occurred_at), func.max(e.occurred_at))
                      .select_from(e)).where(e.name == name, _RESOLVED.is_not(None), *_window(since, until))
    if customer_ids is not None:
        stmt = stmt.where(_RESOLVED.in_(list(customer_ids)))
    return {int(c): EventStats(int(n), first, last) for c, n, first, last in session.execute(stmt.group_by(_RESOLVED))}


def event_counts(session: Session, name: str, since: dt.datetime | None = None,
                 until: dt.datetime | None = None) -> dict[int, int]:
    """How many times each customer did ``name`` in the window (customers who never did: absent)."""
    return {c: s.count for c, s in event_stats(session, name, since=since, until=until).items()}


def first_occurrences(session: Session, name: str, since: dt.datetime | None = None,
                      until: dt.datetime | None = None) -> dict[int, dt.datetime]:
    """When each customer first did ``name`` in the window."""
    return {c: s.first for c, s in event_stats(session, name, since=since, until=until).items()}


def last_occurrences(session: Session, name: str, since: dt.datetime | None = None,
                     until: dt.datetime | None = None) -> dict[int, dt.datetime]:
    """When each customer last did ``name`` in the window."""
    return {c: s.last for c, s in event_stats(session, name, since=since, until=until).items()}


def events_after(session: Session, after_id: int, *, limit: int = 1000,
                 names: Sequence[str] | None = None) -> list[ResolvedEvent]:
    """Events stored after ``after_id`` (by id, at most ``limit``), each with the customer it counts for now."""
    e = BehaviourEvent
    stmt = _resolving(select(e.id, e.event_id, e.name, _RESOLVED, e.anonymous_id, e.occurred_at, e.properties,
                             e.source).select_from(e)).where(e.id > after_id).order_by(e.id).limit(limit)
    if names is not None:
        stmt = stmt.where(e.name.in_(list(names)))
    return [ResolvedEvent(*row) for row in session.execute(stmt)]


def identities_after(session: Session, after_id: int, *, limit: int = 1000) -> list[Identity]:
    """Bindings made after ``after_id`` (by id): their anonymous ids' earlier events now count for the customer."""
    i = BehaviourIdentity
    stmt = select(i.id, i.anonymous_id, i.customer_id, i.via, i.identified_at).where(i.id > after_id) \
        .order_by(i.id).limit(limit)
    return [Identity(*row) for row in session.execute(stmt)]
