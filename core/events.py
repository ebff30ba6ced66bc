"""Compatibility shim over the event stream, until every service appends typed events.

``emit(session, topic, payload)`` appends a *legacy* event to the outbox in the caller's
transaction (types ``legacy.policy``, ``legacy.claim``, ``legacy.partner``; the payload
is kept as free-form JSON, the aggregate is read from its ``policyId``/``claimId``/
``partnerId``), so it is durable, numbered in commit order and seen by every process.
``broker.subscribe(topic)`` reads those events from the process tail
(:class:`core.event_stream.EventTail`, started by ``opsure serve``), so a ``policyEvents``
subscriber sees events made by any worker. Nothing is published in process any more: one
path, from the table.

The next step replaces each ``emit`` with ``append(session, <typed payload>, ...)`` and each
``broker.subscribe`` with ``EventTail.subscribe``; this module then goes.

Example::

    emit(session, "policy", {"policyId": 7, "kind": "issued", "customerId": 3})
    session.commit()                      # written with the transaction; tails read it
    async for event in broker.subscribe("policy"): ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pydantic import JsonValue
from sqlalchemy.orm import Session

from core.event_stream import (
    Actor,
    Aggregate,
    EventPayload,
    EventTail,
    EventTypeError,
    append,
    register_event_type,
)
from core.roles import CLAIM_READERS, PARTNER_READERS, POLICY_READERS

__all__ = ["LEGACY_TYPES", "Broker", "DomainEvent", "broker", "emit"]


class LegacyPolicyEvent(EventPayload):
    """An untyped policy event from ``emit`` (replaced by typed ones in the next step)."""

    data: dict[str, JsonValue]


class LegacyClaimEvent(EventPayload):
    """An untyped claim event from ``emit``."""

    data: dict[str, JsonValue]


class LegacyPartnerEvent(EventPayload):
    """An untyped partner event from ``emit``."""

    data: dict[str, JsonValue]


# topic -> (payload class, aggregate type, the payload key naming the aggregate, readers)
_TOPICS: dict[str, tuple[type[EventPayload], str, str, frozenset[str]]] = {
    "policy": (LegacyPolicyEvent, "Policy", "policyId", POLICY_READERS),
    "claim": (LegacyClaimEvent, "Claim", "claimId", CLAIM_READERS),
    "partner": (LegacyPartnerEvent, "Partner", "partnerId", PARTNER_READERS),
}
#: The event type each legacy topic is stored as.
LEGACY_TYPES: dict[str, str] = {topic: f"legacy.{topic}" for topic in _TOPICS}

for _topic, (_cls, _aggregate, _key, _readers) in _TOPICS.items():
    register_event_type(LEGACY_TYPES[_topic], 1, _cls, aggregate=_aggregate, readers=_readers)

_LEGACY_ACTOR = Actor.system("legacy-emit")


@dataclass(frozen=True)
class DomainEvent:
    """A fact that happened: a topic and a JSON-ready payload."""

    topic: str
    payload: dict[str, Any] = field(default_factory=dict)


def emit(session: Session, topic: str, payload: dict[str, Any]) -> None:
    """Append a legacy event to ``session``'s transaction; written when (and if) it commits."""
    try:
        cls, aggregate, key, _ = _TOPICS[topic]
    except KeyError:
        raise EventTypeError(f"no legacy event topic {topic!r}") from None
    try:
        body = cls.model_validate({"data": payload})
    except pydantic.ValidationError as exc:
        raise EventTypeError(f"legacy {topic} event: the payload is not JSON: {exc}") from exc
    append(session, body, aggregate=Aggregate(aggregate, int(payload[key])), actor=_LEGACY_ACTOR)


class Broker:
    """``subscribe(topic)`` over the process's event tail (legacy events only)."""

    def __init__(self) -> None:
        self._tail: EventTail | None = None

    def install(self, tail: EventTail | None) -> None:
        """Serve subscriptions from ``tail`` (None: from no tail)."""
        self._tail = tail

    @property
    def tail(self) -> EventTail | None:
        """The installed tail, if any."""
        return self._tail

    async def subscribe(self, topic: str) -> AsyncIterator[DomainEvent]:
        """Yield events of ``topic`` committed after this call, by any process, until the caller stops."""
        tail = self._tail
        if tail is None:
            raise RuntimeError("no event tail runs in this process (opsure serve starts one)")
        async for ev in tail.subscribe(types={LEGACY_TYPES[topic]}):
            yield DomainEvent(topic, dict(getattr(ev.payload, "data", {})))

    def subscriber_count(self, topic: str) -> int:
        """How many subscribers listen to ``topic`` now."""
        return self._tail.subscriber_count({LEGACY_TYPES[topic]}) if self._tail is not None else 0


broker = Broker()
