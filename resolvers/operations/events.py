"""The operations domain's event consumer: claim payments are the claim flow's conversions.

``operations.experiments`` reads ``claim.paid`` and counts the insured customer converted in
every claim-flow experiment that exposed them (``outcomes.record_conversions``: once per
subject and experiment, so a replay or a second payment changes nothing).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.event_stream import Consumer, StoredEvent, register_consumer
from resolvers.claims.events import ClaimPaid
from resolvers.operations.models import Flow
from resolvers.operations.outcomes import claim_subject, record_conversions

__all__ = ["EXPERIMENT_CONSUMER"]


def _claim_paid(session: Session, event: StoredEvent) -> None:
    payload = event.payload
    assert isinstance(payload, ClaimPaid)
    record_conversions(session, flow=Flow.CLAIM, subject=claim_subject(payload.customer_id), at=event.occurred_at,
                       event_id=event.id)


EXPERIMENT_CONSUMER = register_consumer(Consumer("operations.experiments", _claim_paid, types=frozenset({"claim.paid"})))
