"""The investigations domain's events: one typed payload per fact, appended in its transaction.

Every event is about an Investigation (aggregate ``Investigation``) and visible to
``INVESTIGATION_READERS``; subscribers scope rows themselves (a firm: ``partner_id``).
Payloads carry ids and codes only, never instructions or notes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.event_stream import Actor, Aggregate, EventPayload, append, register_event_type
from core.roles import FIRM_QUALIFICATION_REVIEWERS, INVESTIGATION_READERS
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
    "FirmQualificationReviewed",
    "InvestigationAssigned",
    "InvestigationDeclined",
    "InvestigationEscalated",
    "InvestigationFact",
    "InvestigationRequested",
    "InvestigationReviewed",
    "InvestigationStateChanged",
    "InvestigationTrailRecorded",
    "publish",
    "publish_firm",
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


class FirmQualificationReviewed(EventPayload):
    """A claims manager decided on an assessor firm's qualification (renewed or suspended it).

    Codes and dates only (the states are ``resolvers.investigations.qualification``'s)."""

    partner_id: int
    decision: str
    from_state: str
    state: str
    qualified_until: dt.date | None = None
    suspension_reason: str | None = None


register_event_type("investigation.firm_qualification_reviewed", 1, FirmQualificationReviewed,
                    aggregate="AssessorFirmQualification", readers=FIRM_QUALIFICATION_REVIEWERS)


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


def publish_firm(session: Session, payload: FirmQualificationReviewed, *, version: int, actor: Actor) -> None:
    """Append a firm's qualification decision (aggregate: the firm's qualification, its registry version)."""
    append(session, payload, aggregate=Aggregate("AssessorFirmQualification", payload.partner_id, version),
           actor=actor)
