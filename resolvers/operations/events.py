"""The operations domain's events and consumers.

* ``visitor.identified`` (aggregate ``Customer``): an anonymous visitor's id was bound to a customer
  (``via`` identify or alias); from then on the visitor's earlier events count for the customer
  (tags recompute the customer). The anonymous id itself stays out of the payload.
* Consumer ``operations.experiments`` reads ``claim.paid`` and counts the insured customer
  converted in every claim-flow experiment that exposed them (``outcomes.record_conversions``:
  once per subject and experiment, so a replay or a second payment changes nothing).
* Consumer ``operations.behaviour`` (``platform_events``) turns the platform's own domain events
  (policies issued, renewed, surrendered; claims reported...) into behaviour events.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.auth import Principal
from core.event_stream import (
    Actor,
    Aggregate,
    Consumer,
    EventPayload,
    StoredEvent,
    append,
    register_consumer,
    register_event_type,
)
from core.roles import POLICY_READERS
from resolvers.claims.events import ClaimPaid
from resolvers.operations.models import Flow
from resolvers.operations.outcomes import claim_subject, record_conversions
from resolvers.operations.platform_events import BEHAVIOUR_CONSUMER

__all__ = ["BEHAVIOUR_CONSUMER", "EXPERIMENT_CONSUMER", "VisitorIdentified", "identified"]


class VisitorIdentified(EventPayload):
    """An anonymous visitor turned out to be this customer (``via``: identify or alias)."""

    customer_id: int
    via: str


register_event_type("visitor.identified", 1, VisitorIdentified, aggregate="Customer", readers=POLICY_READERS)


def identified(session: Session, *, customer_id: int, via: str, principal: Principal) -> None:
    """Append ``visitor.identified`` for a binding just made (the anonymous id stays out of the payload)."""
    append(session, VisitorIdentified(customer_id=customer_id, via=via), aggregate=Aggregate("Customer", customer_id),
           actor=Actor.of(principal))


def _claim_paid(session: Session, event: StoredEvent) -> None:
    payload = event.payload
    assert isinstance(payload, ClaimPaid)
    record_conversions(session, flow=Flow.CLAIM, subject=claim_subject(payload.customer_id), at=event.occurred_at,
                       event_id=event.id)


EXPERIMENT_CONSUMER = register_consumer(Consumer("operations.experiments", _claim_paid, types=frozenset({"claim.paid"})))
