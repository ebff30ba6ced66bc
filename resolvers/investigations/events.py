"""The investigations domain's events: one typed payload per fact, appended in its transaction.

Every event is about an Investigation (aggregate ``Investigation``) and visible to
``INVESTIGATION_READERS``; subscribers scope rows themselves (a firm: ``partner_id``).
Payloads carry ids and codes only, never instructions or notes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.event_stream import Actor, Aggregate, EventPayload, append, register_event_type
from core.roles import INVESTIGATION_READERS
from resolvers.investigations.models import (
    AssignmentHow,
    DeclineReason,
    EventKind,
    Investigation,
    InvestigationState,
    InvestigationTrigger,
    ReviewOutcome,
    SlaKind,
)

__all__ = [
    "InvestigationAssigned",
    "InvestigationDeclined",
    "InvestigationEscalated",
    "InvestigationFact",
    "InvestigationRequested",
    "InvestigationReviewed",
    "InvestigationStateChanged",
    "InvestigationTrailRecorded",
    "publish",
    "publish_for",
]


class InvestigationFact(EventPayload):
    """What every investigation event carries: the investigation, its claim and state after the fact."""

    investigation_id: int
    claim_id: int
    state: InvestigationState


class InvestigationRequested(InvestigationFact):
    """An adjuster or a risk rule asked for an investigation."""

    trigger: InvestigationTrigger


class InvestigationAssigned(InvestigationFact):
    """An offer to a firm (auto or by hand)."""

    assignment_id: int
    partner_id: int
    how: AssignmentHow


class InvestigationDeclined(InvestigationFact):
    """A firm declined its offer (with a reason code)."""

    assignment_id: int
    partner_id: int
    reason: DeclineReason


class InvestigationStateChanged(InvestigationFact):
    """Any other move: accepted, reported, expired offer, reassigned."""

    from_state: InvestigationState
    partner_id: int | None = None


class InvestigationTrailRecorded(InvestigationFact):
    """A trail event was recorded and committed to the ledger."""

    event_id: int
    kind: EventKind
    partner_id: int


class InvestigationEscalated(InvestigationFact):
    """An SLA was missed: the escalation level after it."""

    sla: SlaKind
    due_at: dt.datetime
    level: int


class InvestigationReviewed(InvestigationFact):
    """The adjuster reviewed the survey report."""

    outcome: ReviewOutcome
    partner_id: int


for _name, _payload in (("investigation.requested", InvestigationRequested),
                        ("investigation.assigned", InvestigationAssigned),
                        ("investigation.declined", InvestigationDeclined),
                        ("investigation.state_changed", InvestigationStateChanged),
                        ("investigation.trail_recorded", InvestigationTrailRecorded),
                        ("investigation.escalated", InvestigationEscalated),
                        ("investigation.reviewed", InvestigationReviewed)):
    register_event_type(_name, 1, _payload, aggregate="Investigation", readers=INVESTIGATION_READERS)


def publish(session: Session, inv: Investigation, payload: InvestigationFact, *, actor: Actor) -> None:
    """Append ``payload`` about ``inv`` in the caller's transaction."""
    append(session, payload, aggregate=Aggregate("Investigation", inv.id, inv.version), actor=actor)


def publish_for(session: Session, investigation_id: int, version: int, payload: InvestigationFact, *,
                actor: Actor) -> None:
    """Append ``payload`` about an investigation known by id and version (bulk paths that hold no entity)."""
    append(session, payload, aggregate=Aggregate("Investigation", investigation_id, version), actor=actor)
