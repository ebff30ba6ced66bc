"""Analytics events: the rollups' consumer, and the alert state changes the domain publishes.

``analytics.alert_changed`` is appended when an alert rule fires or resolves (readers: the
analytics readers); the ``analyticsAlerts`` subscription streams it.

The analytics consumer: every policy and claim event brings that row's facts up to date.

``analytics.rollups`` reads the events that change what a policy or claim contributes
(issue, renewal, each way a policy ends, claim reported and paid, an advance's moves, a complaint
filed or decided) and calls
``rollups.refresh`` for the rows they name; a renewal refreshes the renewed policy too (its
renewal is now kept). The refresh derives from current state and applies a difference, so a
replay or a repeated event changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from core.event_stream import Actor, Aggregate, Consumer, EventPayload, StoredEvent, append, register_consumer
from core.event_stream import register_event_type as _register
from core.roles import ANALYTICS_READERS, RISK_PROFILE_READERS
from resolvers.advances.events import AdvanceBalanceMoved, AdvanceStateChanged
from resolvers.analytics.rollups import refresh, refresh_advances, refresh_complaints
from resolvers.claims.events import ClaimFact
from resolvers.policies.events import PolicyFact, PolicyRenewed
from resolvers.service.events import WorkOrderFact

if TYPE_CHECKING:
    from resolvers.analytics.models import AlertHistory, AlertRule

__all__ = ["ALERT_ACTOR", "ANALYTICS_CONSUMER", "ANALYTICS_EVENT_TYPES", "AlertChanged", "WatchChanged",
           "alert_changed"]

#: Who moves alerts: the worker's evaluation job.
ALERT_ACTOR = Actor.system("analytics.alerts")


class AlertChanged(EventPayload):
    """An alert rule fired or resolved (values as the rule saw them; ``low``/``high``: a forecast's interval)."""

    rule_id: int
    rule_key: str
    metric: str
    from_state: str
    to_state: str
    at: dt.datetime
    value: Decimal | None = None
    threshold: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None


_register("analytics.alert_changed", 1, AlertChanged, aggregate="AlertRule", readers=ANALYTICS_READERS)


class WatchChanged(EventPayload):
    """The high-risk robot put a customer under watch or cleared them (reason codes only)."""

    customer_id: int
    status: str
    score: float
    reason_codes: tuple[str, ...]


# Not about the Customer aggregate: its readers include the customer, who must never learn of the watch list.
_register("analytics.watch_changed", 1, WatchChanged, aggregate="RiskWatch", readers=RISK_PROFILE_READERS)


def alert_changed(session: Session, rule: AlertRule, entry: AlertHistory) -> None:
    """``analytics.alert_changed`` for one history entry of ``rule``."""
    append(session, AlertChanged(rule_id=rule.id, rule_key=rule.key, metric=rule.metric,
                                 from_state=entry.from_state.value, to_state=entry.to_state.value, at=entry.at,
                                 value=entry.value, threshold=rule.threshold, low=entry.low, high=entry.high),
           aggregate=Aggregate("AlertRule", rule.id), actor=ALERT_ACTOR, versioned=rule)

#: The events after which a policy's or a claim's facts may differ.
ANALYTICS_EVENT_TYPES = frozenset({"policy.issued", "policy.renewed", "policy.cancelled", "policy.surrendered",
                                   "policy.lapsed", "policy.expired", "claim.reported", "claim.paid",
                                   "advance.state_changed", "advance.balance_moved", "service.complaint_filed",
                                   "service.complaint_resolved"})


def _handle(session: Session, event: StoredEvent) -> None:
    payload = event.payload
    if isinstance(payload, PolicyFact):
        ids = [payload.policy_id]
        if isinstance(payload, PolicyRenewed):
            ids.append(payload.renewed_from_id)
        refresh(session, policy_ids=ids)
    elif isinstance(payload, ClaimFact):
        refresh(session, claim_ids=[payload.claim_id])
    elif isinstance(payload, AdvanceStateChanged | AdvanceBalanceMoved):
        refresh_advances(session, advance_ids=[payload.advance_id])
    elif isinstance(payload, WorkOrderFact):
        refresh_complaints(session, work_order_ids=[payload.work_order_id])


ANALYTICS_CONSUMER = register_consumer(Consumer("analytics.rollups", _handle, types=ANALYTICS_EVENT_TYPES))
