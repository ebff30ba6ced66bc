"""Typed event payloads, their registry, and who may see an event.

A payload is a frozen, strict pydantic model (camelCase in JSON). Each domain registers its
event types from its own module; the ground floor knows none of them. A field may declare
its readers, as ``resolvers/claims/reasons.py`` declares them per reason parameter; an
event is visible to the type's readers narrowed by the readers of every field it carries
(a field left ``None`` carries nothing).

Example::

    class ClaimAssessed(EventPayload):
        claim_id: int
        customer_id: int
        risk_score: Annotated[float | None, readers(RISK_READERS, source="Claim.riskScore")] = None

    register_event_type("claim.assessed", 1, ClaimAssessed, aggregate="Claim", readers=CLAIM_READERS)
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from core.auth import Principal

__all__ = [
    "Actor",
    "Aggregate",
    "EventPayload",
    "EventType",
    "EventTypeError",
    "FieldReaders",
    "event_type_of",
    "readers",
    "register_event_type",
    "registered_event_types",
    "resolve_event_type",
]


class EventTypeError(TypeError):
    """A programming error: an unregistered event type, or a payload that breaks its schema."""


class EventPayload(BaseModel):
    """Base of every event payload: frozen, strict, no unknown fields, camelCase JSON."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid", alias_generator=to_camel,
                              validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)


@dataclass(frozen=True)
class FieldReaders:
    """The roles that may read one payload field, and the schema field ("Type.field") it mirrors."""

    roles: frozenset[str]
    source: str | None = None


def readers(roles: Iterable[str], *, source: str | None = None) -> FieldReaders:
    """Declare a payload field's readers: ``Annotated[float, readers(RISK_READERS)]``."""
    return FieldReaders(frozenset(roles), source)


@dataclass(frozen=True)
class Aggregate:
    """The thing an event is about: its type name, integer key and version after the change."""

    type: str
    id: int
    version: int | None = None

    @property
    def global_id(self) -> str:
        """The aggregate's Relay global id (base64 of ``Type:id``, as the schema encodes it)."""
        return base64.b64encode(f"{self.type}:{self.id}".encode()).decode()


@dataclass(frozen=True)
class Actor:
    """Who caused an event: a token subject and role, or a named system job (role None)."""

    subject: str
    role: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The actor behind a request's principal."""
        return cls(principal.subject, principal.role.value if principal.role else None)

    @classmethod
    def system(cls, job: str) -> Actor:
        """A background job acting on its own (expiry, anchoring...)."""
        return cls(f"system:{job}", None)


@dataclass(frozen=True)
class EventType:
    """A registered event type: name, payload version and class, aggregate type, readers."""

    name: str
    version: int
    payload: type[EventPayload]
    aggregate: str
    readers: frozenset[str]
    field_readers: tuple[tuple[str, FieldReaders], ...]

    def visible_to(self, payload: EventPayload) -> frozenset[str]:
        """The roles that may see an event of this type carrying ``payload``."""
        roles = self.readers
        for name, declared in self.field_readers:
            if getattr(payload, name) is not None:
                roles = roles & declared.roles
        return roles


_lock = threading.Lock()
_by_name: dict[tuple[str, int], EventType] = {}
_by_class: dict[type[EventPayload], EventType] = {}


def register_event_type(
    name: str, version: int, payload: type[EventPayload], *, aggregate: str, readers: Iterable[str]
) -> EventType:
    """Register ``payload`` as version ``version`` of event type ``name`` (idempotent for the same class)."""
    if not (isinstance(payload, type) and issubclass(payload, EventPayload)):
        raise EventTypeError(f"{name}: the payload must be an EventPayload subclass")
    if version < 1 or not name or len(name) > 80 or "." not in name:
        raise EventTypeError(f"{name!r} v{version}: names look like 'domain.fact' (80 characters), versions start at 1")
    roles = frozenset(readers)
    declared = tuple(
        (field, marker)
        for field, info in payload.model_fields.items()
        for marker in info.metadata
        if isinstance(marker, FieldReaders)
    )
    for field, marker in declared:
        if not marker.roles <= roles:
            raise EventTypeError(f"{name}.{field}: its readers must be a subset of the type's readers")
    event_type = EventType(name, version, payload, aggregate, roles, declared)
    with _lock:
        known = _by_name.get((name, version))
        if known is not None and known != event_type:
            raise EventTypeError(f"{name} v{version} is registered already, with another payload")
        if payload in _by_class and _by_class[payload] != event_type:
            raise EventTypeError(f"{payload.__name__} is registered already, as {_by_class[payload].name}")
        _by_name[(name, version)] = event_type
        _by_class[payload] = event_type
    return event_type


def event_type_of(payload: Any) -> EventType:
    """The registration of ``payload``'s class; EventTypeError when it has none."""
    event_type = _by_class.get(type(payload))
    if event_type is None:
        raise EventTypeError(f"{type(payload).__name__} is not a registered event payload")
    return event_type


def resolve_event_type(name: str, version: int) -> EventType:
    """The registration of a stored event's type and version; EventTypeError when unknown here."""
    event_type = _by_name.get((name, version))
    if event_type is None:
        raise EventTypeError(f"event type {name} v{version} is not registered in this process")
    return event_type


def registered_event_types() -> list[EventType]:
    """Every registered event type, by name and version (tests check them over all services)."""
    with _lock:
        return sorted(_by_name.values(), key=lambda t: (t.name, t.version))
