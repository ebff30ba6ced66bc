"""The platform's own flows as behaviour events: a consumer of the domain event stream.

Consumer ``operations.behaviour`` reads the domain events below and records the standard
behaviour events of the customer they are about (source ``"platform"``), each with the event id
``platform:<stream id>:<n>`` (n: its place among the events one domain event makes). Senders'
ids never contain ``:``, so no sender can take a platform id first, and a replay of the stream
stores nothing twice (the consumer's writes commit with its position: exactly once).

================================  =====================================================
domain event                      behaviour event (properties)
================================  =====================================================
``quote.requested``               ``quote.viewed`` (productCode: the priced quote shown),
                                  ``underwriting.step`` (step ``auto:<outcome>``),
                                  ``health_declaration.completed``, or ``.failed``
                                  (reason ``DECLINED``) when underwriting declined
``quote.decided``                 ``underwriting.step`` (``manual:accept|decline``)
``policy.issued``                 ``purchase`` (productCode, premium)
``policy.renewed``                ``policy.renewed``
``policy.surrendered``            ``policy.surrendered``
``claim.reported``                ``claim.reported``
================================  =====================================================

``consultation.opened`` and ``callback.answered`` are registered schemas the customer-service
domain will record once it emits its events; frontends send ``page.viewed``, their own
``quote.viewed`` and ``health_declaration.started`` (see docs/API.md "Behaviour events").
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from core import clock
from core.event_stream import Consumer, EventPayload, StoredEvent, register_consumer
from resolvers.claims.events import ClaimReported
from resolvers.operations.behaviour import PlatformEvent, record_platform_events
from resolvers.policies import service as policies
from resolvers.policies.events import (
    PolicyIssued,
    PolicyRenewed,
    PolicySurrendered,
    QuoteDecided,
    QuoteRequested,
)

__all__ = ["BEHAVIOUR_CONSUMER", "PLATFORM_EVENTS", "platform_event_id"]


def platform_event_id(stream_id: int, n: int = 0) -> str:
    """The behaviour event id of the ``n``-th event made from domain event ``stream_id``."""
    return f"platform:{stream_id}:{n}"


Made = list[tuple[str, int, dict[str, object]]]


def _quote_requested(session: Session, p: EventPayload) -> Made:
    assert isinstance(p, QuoteRequested)
    code = policies.get_product(session, product_id=p.product_id).code
    declared: tuple[str, dict[str, object]] = (("health_declaration.failed", {"reason": "DECLINED"})
                                               if p.outcome.value == "decline" else ("health_declaration.completed", {}))
    return [("quote.viewed", p.customer_id, {"productCode": code}),
            ("underwriting.step", p.customer_id, {"step": f"auto:{p.outcome.value}"}),
            (declared[0], p.customer_id, declared[1])]


def _quote_decided(session: Session, p: EventPayload) -> Made:
    assert isinstance(p, QuoteDecided)
    return [("underwriting.step", p.customer_id, {"step": "manual:accept" if p.accepted else "manual:decline"})]


def _purchase(session: Session, p: EventPayload) -> list[tuple[str, int, dict[str, object]]]:
    assert isinstance(p, PolicyIssued)
    code = policies.get_product(session, product_id=p.product_id).code
    return [("purchase", p.customer_id, {"productCode": code, "premium": p.premium})]


def _renewed(session: Session, p: EventPayload) -> list[tuple[str, int, dict[str, object]]]:
    assert isinstance(p, PolicyRenewed)
    return [("policy.renewed", p.customer_id, {})]


def _surrendered(session: Session, p: EventPayload) -> list[tuple[str, int, dict[str, object]]]:
    assert isinstance(p, PolicySurrendered)
    return [("policy.surrendered", p.customer_id, {})]


def _claim_reported(session: Session, p: EventPayload) -> list[tuple[str, int, dict[str, object]]]:
    assert isinstance(p, ClaimReported)
    return [("claim.reported", p.customer_id, {})]


#: Domain event type -> the behaviour events (name, customer, properties) it makes.
PLATFORM_EVENTS: dict[str, Callable[[Session, EventPayload], list[tuple[str, int, dict[str, object]]]]] = {
    "quote.requested": _quote_requested,
    "quote.decided": _quote_decided,
    "policy.issued": _purchase,
    "policy.renewed": _renewed,
    "policy.surrendered": _surrendered,
    "claim.reported": _claim_reported,
}


def _record(session: Session, event: StoredEvent) -> None:
    made = PLATFORM_EVENTS[event.type](session, event.payload)
    record_platform_events(session, [
        PlatformEvent(event_id=platform_event_id(event.id, n), name=name, customer_id=customer,
                      occurred_at=event.occurred_at, properties=dict(props))
        for n, (name, customer, props) in enumerate(made)], now=clock.now())


BEHAVIOUR_CONSUMER = register_consumer(Consumer("operations.behaviour", _record, types=frozenset(PLATFORM_EVENTS)))
