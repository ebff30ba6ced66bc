"""The analytics consumer: every policy and claim event brings that row's facts up to date.

``analytics.rollups`` reads the events that change what a policy or claim contributes
(issue, renewal, each way a policy ends, claim reported and paid) and calls
``rollups.refresh`` for the rows they name; a renewal refreshes the renewed policy too (its
renewal is now kept). The refresh derives from current state and applies a difference, so a
replay or a repeated event changes nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.event_stream import Consumer, StoredEvent, register_consumer
from resolvers.analytics.rollups import refresh
from resolvers.claims.events import ClaimFact
from resolvers.policies.events import PolicyFact, PolicyRenewed

__all__ = ["ANALYTICS_CONSUMER", "ANALYTICS_EVENT_TYPES"]

#: The events after which a policy's or a claim's facts may differ.
ANALYTICS_EVENT_TYPES = frozenset({"policy.issued", "policy.renewed", "policy.cancelled", "policy.surrendered",
                                   "policy.lapsed", "policy.expired", "claim.reported", "claim.paid"})


def _handle(session: Session, event: StoredEvent) -> None:
    payload = event.payload
    if isinstance(payload, PolicyFact):
        ids = [payload.policy_id]
        if isinstance(payload, PolicyRenewed):
            ids.append(payload.renewed_from_id)
        refresh(session, policy_ids=ids)
    elif isinstance(payload, ClaimFact):
        refresh(session, claim_ids=[payload.claim_id])


ANALYTICS_CONSUMER = register_consumer(Consumer("analytics.rollups", _handle, types=ANALYTICS_EVENT_TYPES))
