"""Investigation services: request, assign (auto or by hand), accept or decline, record the trail,
take the signed survey report, review it and resume the claim. The caller owns the transaction.

Other domains call :func:`request_for_risk` (the claims risk step's hook) and read
investigations through :func:`get_investigation` / the loaders. The claim is read and moved
through ``resolvers.claims.service`` only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.clock import business_date
from core.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from core.event_stream import Actor
from core.roles import INTERNAL
from ledger import service as ledger
from ledger.contract import RecordKind
from partners import assignments as partner_assignments
from partners import eip712, signed_records
from partners import loaders as partner_loaders
from partners.assignments import AssignmentKind
from resolvers.claims import service as claims
from resolvers.claims.service import ClaimState
from resolvers.investigations import events, firms
from resolvers.investigations.models import (
    ACTIVE_ASSIGNMENT,
    OPEN_STATES,
    AssignmentHow,
    AssignmentState,
    DeclineReason,
    EventKind,
    Investigation,
    InvestigationAssignment,
    InvestigationCheck,
    InvestigationEscalation,
    InvestigationEvent,
    InvestigationState,
    InvestigationTrigger,
    ReviewOutcome,
)
from resolvers.investigations.scoping import acting_firm, investigation_visible
from resolvers.investigations.sla import SlaPolicy

__all__ = [
    "SIGNED_BASE",
    "SYSTEM",
    "accept_offer",
    "assign",
    "decline_offer",
    "get_assignment",
    "get_escalation",
    "get_investigation",
    "get_trail_event",
    "investigations_query",
    "offer",
    "record_trail_event",
    "reference",
    "request_for_risk",
    "request_investigation",
    "review_report",
    "signed_id",
    "submit_survey_report",
]

SYSTEM = Principal(subject="system:investigations", role=Role.ADMIN)
_REGION = re.compile(r"^[0-9]{6}$")
_FINDING = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_MAX_TEXT = 4000
#: Claim states from which an investigation may be asked (the claim moves to INVESTIGATING).
_CLAIM_OPEN = frozenset({ClaimState.SUBMITTED, ClaimState.DOCUMENTS_PENDING, ClaimState.UNDER_REVIEW,
                         ClaimState.INVESTIGATING, ClaimState.REOPENED})


#: Offers sign as ``SIGNED_BASE + offer id``: the partners registry's survey ``investigationId`` is one
#: namespace for every survey assignment (staff may create them by hand with small numbers), so
#: offers keep to a range of their own.
SIGNED_BASE = 10**12


def signed_id(offer_id: int) -> int:
    """The ``investigationId`` a firm signs in its SurveyReport for offer ``offer_id``."""
    return SIGNED_BASE + offer_id


def reference(investigation_id: int) -> str:
    """The case reference of an investigation (what the firm signs as ``caseReference``)."""
    return f"INV-{investigation_id:08d}"


def _actor(principal: Principal) -> Actor:
    return Actor.of(principal)


def _check_version(inv: Investigation, expected: int | None) -> None:
    if expected is not None and inv.version != expected:
        raise StaleVersionError(f"the investigation is at version {inv.version}, not {expected}",
                                field="expectedVersion")


def get_investigation(session: Session, *, principal: Principal, investigation_id: int,
                      lock: bool = False) -> Investigation:
    """An investigation ``principal`` may see, else NotFoundError."""
    stmt = select(Investigation).where(Investigation.id == investigation_id,
                                       investigation_visible(principal, Investigation.id))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise NotFoundError("investigation not found", field="investigationId")
    return row


def get_assignment(session: Session, *, principal: Principal, assignment_id: int) -> InvestigationAssignment:
    """An offer ``principal`` may see (a firm: its own), else NotFoundError."""
    row = session.get(InvestigationAssignment, assignment_id)
    firm = acting_firm(principal)
    if row is None or (principal.role is Role.PARTNER and row.partner_id != firm) or (
            principal.role is not Role.PARTNER and not _internal(principal)):
        raise NotFoundError("offer not found", field="assignmentId")
    return row


def _internal(principal: Principal) -> bool:
    return principal.role in INTERNAL


def investigations_query(principal: Principal, *, states: Sequence[InvestigationState] = (),
                         claim_id: int | None = None, partner_id: int | None = None,
                         overdue_at: dt.datetime | None = None) -> Select[Any]:
    """The investigations ``principal`` may see, filtered (a page is cut by the caller)."""
    stmt = select(Investigation).where(investigation_visible(principal, Investigation.id))
    if states:
        stmt = stmt.where(Investigation.state.in_(list(states)))
    if claim_id is not None:
        stmt = stmt.where(Investigation.claim_id == claim_id)
    if partner_id is not None:
        stmt = stmt.where(Investigation.current_assignment_id.in_(
            select(InvestigationAssignment.id).where(InvestigationAssignment.partner_id == partner_id)))
    if overdue_at is not None:
        stmt = stmt.where(Investigation.state.in_(OPEN_STATES), Investigation.escalation_level > 0)
    return stmt


# --- requesting ----------------------------------------------------------------------------------


def _open_investigation(session: Session, claim_id: int) -> int | None:
    return session.scalar(select(Investigation.id).where(Investigation.claim_id == claim_id,
                                                         Investigation.state.in_(OPEN_STATES)).limit(1))


def request_investigation(
    session: Session, *, principal: Principal, claim_id: int, checks: Sequence[InvestigationCheck],
    instructions: str | None, region: str | None, report_due_on: dt.date | None, now: dt.datetime,
    extra: dict[str, str] | None = None, trigger: InvestigationTrigger = InvestigationTrigger.ADJUSTER,
    rules: Sequence[str] = (),
) -> Investigation:
    """Ask for an investigation of a claim (what to check, where, by when); every input error at once.

    The claim moves to INVESTIGATING (through the claims service) unless it is there already.
    """
    sla = SlaPolicy.from_extra(extra)
    claim = claims.get_claim(session, principal=principal, claim_id=claim_id, lock=True)
    text = (instructions or "").strip()
    with collect_errors() as errors:
        if claim.state not in _CLAIM_OPEN:
            errors.add(InvalidTransitionError(f"a {claim.state.value} claim is not open to investigation",
                                              field="claimId", code="CLAIM_NOT_OPEN"))
        elif _open_investigation(session, claim.id) is not None:
            errors.add(ConflictError("the claim has an open investigation", field="claimId",
                                     code="INVESTIGATION_OPEN"))
        if not checks:
            errors.add(ValidationError("name at least one check", field="checks", code="NO_CHECKS"))
        if len(text) > _MAX_TEXT:
            errors.add(ValidationError(f"instructions: at most {_MAX_TEXT} characters", field="instructions"))
        if region is not None and not _REGION.match(region):
            errors.add(ValidationError("region: a 6-digit GB/T 2260 code", field="region", code="BAD_REGION"))
        if report_due_on is not None and report_due_on <= business_date(now):
            errors.add(ValidationError("the report due date must be after today", field="reportDueOn",
                                       code="DUE_DATE_PASSED"))
        with errors.check():
            report_due = sla.report_due(now, report_due_on)
        errors.raise_if_any()
    inv = Investigation(claim_id=claim.id, state=InvestigationState.PENDING, trigger=trigger,
                        checks=sorted({c.value for c in checks}), rules=list(rules), instructions=text or None,
                        region=region, requested_by=principal.subject, requested_at=now,
                        report_due_on=report_due_on, report_due_at=report_due, escalation_level=0)
    session.add(inv)
    session.flush()
    if claim.state is not ClaimState.INVESTIGATING:
        claims.transition_claim(session, principal=principal, claim_id=claim.id, to=ClaimState.INVESTIGATING,
                                reason=f"investigation {reference(inv.id)} requested", expected_version=None,
                                now=now)
    events.publish(session, inv, events.InvestigationRequested(
        investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, trigger=trigger), actor=_actor(principal))
    return inv


def request_for_risk(session: Session, *, claim_id: int, rules: Sequence[str], now: dt.datetime,
                     region: str | None = None, extra: dict[str, str] | None = None) -> Investigation | None:
    """The risk step's hook: investigate a claim a rule sent to INVESTIGATING (None if one is open already)."""
    if _open_investigation(session, claim_id) is not None:
        return None
    checks = [InvestigationCheck.HOSPITAL_VISIT, InvestigationCheck.MEDICAL_RECORDS, InvestigationCheck.BILLING]
    return request_investigation(session, principal=SYSTEM, claim_id=claim_id, checks=checks, instructions=None,
                                 region=region, report_due_on=None, now=now, extra=extra,
                                 trigger=InvestigationTrigger.RISK_RULE, rules=[r[:40] for r in rules][:20])


# --- assigning -----------------------------------------------------------------------------------


def offer(session: Session, inv: Investigation, partner_id: int, *, how: AssignmentHow, principal: Principal,
          now: dt.datetime, sla: SlaPolicy) -> InvestigationAssignment:
    """Offer ``inv`` to a firm (capacity checked by the caller under the profile lock); the registry
    holds the firm's survey assignment, whose ``investigationId`` is this offer's id."""
    row = InvestigationAssignment(investigation_id=inv.id, partner_id=partner_id, how=how,
                                  state=AssignmentState.OFFERED, assigned_by=principal.subject, offered_at=now,
                                  accept_due_at=sla.accept_due(now), more_requested=0)
    session.add(row)
    session.flush()
    registry = partner_assignments.create_assignment(
        session, principal=principal, partner_id=partner_id, kind=AssignmentKind.SURVEY,
        case_reference=reference(inv.id), investigation_id=signed_id(row.id), now=now)
    row.partner_assignment_id = registry.id
    inv.state = InvestigationState.ASSIGNED
    inv.current_assignment_id = row.id
    inv.accept_due_at = row.accept_due_at
    inv.visit_due_at = None
    session.flush()
    events.publish(session, inv, events.InvestigationAssigned(
        investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, assignment_id=row.id,
        partner_id=partner_id, how=how), actor=_actor(principal))
    return row


def _end_current(session: Session, inv: Investigation, state: AssignmentState, now: dt.datetime) -> None:
    if inv.current_assignment_id is None:
        return
    session.execute(update(InvestigationAssignment).where(
        InvestigationAssignment.id == inv.current_assignment_id,
        InvestigationAssignment.state.in_(ACTIVE_ASSIGNMENT)).values(state=state, ended_at=now)
        .execution_options(synchronize_session="fetch"))


def assign(session: Session, *, principal: Principal, investigation_id: int, partner_id: int | None,
           expected_version: int | None, now: dt.datetime, extra: dict[str, str] | None = None) -> Investigation:
    """Offer an investigation to a firm: the best one (``partner_id`` None) or the one named.

    Naming a firm for an investigation already offered or in progress reassigns it: the
    current offer is withdrawn (kept in the history) and the new firm gets a fresh offer.
    """
    sla = SlaPolicy.from_extra(extra)
    inv = get_investigation(session, principal=principal, investigation_id=investigation_id, lock=True)
    _check_version(inv, expected_version)
    if inv.state not in (InvestigationState.PENDING, InvestigationState.ASSIGNED, InvestigationState.IN_PROGRESS):
        raise InvalidTransitionError(f"a {inv.state.value} investigation is not assigned", field="investigationId")
    current = session.get(InvestigationAssignment, inv.current_assignment_id) if inv.current_assignment_id else None
    if inv.state is not InvestigationState.PENDING:
        if partner_id is None:
            raise ConflictError("the investigation is assigned; name a firm to reassign it", field="partnerId",
                                code="ALREADY_ASSIGNED")
        if current is not None and current.partner_id == partner_id:
            raise ConflictError("the investigation is assigned to this firm already", field="partnerId",
                                code="ALREADY_ASSIGNED")
    if partner_id is None:
        profiles = firms.lock_profiles(session)
        candidates = firms.slots(session, profiles, declined_of=[inv.id])
        chosen = firms.choose(candidates.values(), region=inv.region, investigation_id=inv.id)
        if chosen is None:
            raise DomainError("no approved firm of the region has room", field="investigationId",
                              code="NO_FIRM_AVAILABLE")
        target, how = chosen.partner_id, AssignmentHow.AUTO
    else:
        profiles = firms.lock_profiles(session, [partner_id])
        slot = firms.slots(session, profiles).get(partner_id)
        if slot is None:
            partner = partner_loaders.partners_by_id(session, [partner_id]).get(partner_id)
            if partner is None:
                raise NotFoundError("partner not found", field="partnerId")
        unfit = firms.unfit_reason(slot, inv.region)
        if unfit is not None:
            raise ValidationError(unfit[1], field="partnerId", code=unfit[0])
        target, how = partner_id, AssignmentHow.MANUAL
    previous = inv.state
    if previous is not InvestigationState.PENDING:
        _end_current(session, inv, AssignmentState.WITHDRAWN, now)
    offer(session, inv, target, how=how, principal=principal, now=now, sla=sla)
    if previous is not InvestigationState.PENDING:
        events.publish(session, inv, events.InvestigationStateChanged(
            investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, from_state=previous,
            partner_id=target), actor=_actor(principal))
    return inv


# --- the firm's answer ---------------------------------------------------------------------------


def _own_offer(session: Session, principal: Principal, assignment_id: int) -> InvestigationAssignment:
    firm = acting_firm(principal)
    row = session.get(InvestigationAssignment, assignment_id)
    if row is None or firm is None or row.partner_id != firm:
        raise NotFoundError("offer not found", field="assignmentId")
    return row


def _closed_offer(row: InvestigationAssignment) -> DomainError:
    if row.state in (AssignmentState.ACCEPTED, AssignmentState.DONE):
        return ConflictError("you accepted this offer already", field="assignmentId", code="ALREADY_ACCEPTED")
    return InvalidTransitionError(f"the offer is {row.state.value}", field="assignmentId", code="OFFER_CLOSED")


def accept_offer(session: Session, *, principal: Principal, assignment_id: int, now: dt.datetime,
                 extra: dict[str, str] | None = None) -> Investigation:
    """The firm accepts its offer (once: a second accept is ALREADY_ACCEPTED, even racing)."""
    row = _own_offer(session, principal, assignment_id)
    done = session.execute(update(InvestigationAssignment).where(
        InvestigationAssignment.id == row.id, InvestigationAssignment.state == AssignmentState.OFFERED,
    ).values(state=AssignmentState.ACCEPTED, responded_at=now, responded_by=principal.subject)
        .execution_options(synchronize_session=False))
    session.refresh(row)
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise _closed_offer(row)
    inv = get_investigation(session, principal=SYSTEM, investigation_id=row.investigation_id, lock=True)
    inv.state = InvestigationState.IN_PROGRESS
    inv.visit_due_at = SlaPolicy.from_extra(extra).visit_due(now)
    session.flush()
    events.publish(session, inv, events.InvestigationStateChanged(
        investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, from_state=InvestigationState.ASSIGNED,
        partner_id=row.partner_id), actor=_actor(principal))
    return inv


def decline_offer(session: Session, *, principal: Principal, assignment_id: int, reason: DeclineReason,
                  now: dt.datetime) -> Investigation:
    """The firm declines its offer with a reason code; the investigation waits for another firm."""
    row = _own_offer(session, principal, assignment_id)
    done = session.execute(update(InvestigationAssignment).where(
        InvestigationAssignment.id == row.id, InvestigationAssignment.state == AssignmentState.OFFERED,
    ).values(state=AssignmentState.DECLINED, responded_at=now, responded_by=principal.subject,
             decline_reason=reason, ended_at=now).execution_options(synchronize_session=False))
    session.refresh(row)
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise _closed_offer(row)
    inv = get_investigation(session, principal=SYSTEM, investigation_id=row.investigation_id, lock=True)
    inv.state = InvestigationState.PENDING
    inv.current_assignment_id = None
    inv.accept_due_at = None
    session.flush()
    events.publish(session, inv, events.InvestigationDeclined(
        investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, assignment_id=row.id,
        partner_id=row.partner_id, reason=reason), actor=_actor(principal))
    return inv


# --- the trail and the report --------------------------------------------------------------------


def _current_of_firm(session: Session, principal: Principal, investigation_id: int) -> tuple[
        Investigation, InvestigationAssignment]:
    """The investigation and the caller firm's live offer of it; NOT_ASSIGNED otherwise."""
    firm = acting_firm(principal)
    inv = get_investigation(session, principal=principal, investigation_id=investigation_id, lock=True)
    current = session.get(InvestigationAssignment, inv.current_assignment_id) if inv.current_assignment_id else None
    if firm is None or current is None or current.partner_id != firm:
        raise DomainError("your firm is not assigned to this investigation", field="investigationId",
                          code="NOT_ASSIGNED")
    if inv.state is not InvestigationState.IN_PROGRESS:
        raise InvalidTransitionError(f"the investigation is {inv.state.value}, not in progress",
                                     field="investigationId")
    return inv, current


def record_trail_event(
    session: Session, *, principal: Principal, investigation_id: int, kind: EventKind, occurred_at: dt.datetime,
    note: str | None, finding_code: str | None, firm_code: str, now: dt.datetime,
) -> InvestigationEvent:
    """An investigator's visit, call, document or finding: stored (note sealed) and committed to the ledger.

    The ledger body carries the case reference, the kind, the time, the firm's code, a
    finding's code and the SHA-256 of the note: nothing that names a person.
    """
    text = (note or "").strip()
    code = (finding_code or "").strip() or None
    with collect_errors() as errors:
        with errors.check():
            inv, current = _current_of_firm(session, principal, investigation_id)
        if occurred_at.tzinfo is None:
            errors.add(ValidationError("occurredAt needs a time zone", field="occurredAt"))
        elif occurred_at > now:
            errors.add(ValidationError("occurredAt lies in the future", field="occurredAt", code="DATE_IN_FUTURE"))
        if kind is EventKind.FINDING and code is None:
            errors.add(ValidationError("a finding names its code", field="findingCode", code="FINDING_CODE_REQUIRED"))
        if code is not None and not _FINDING.match(code):
            errors.add(ValidationError("findingCode: 2-40 of A-Z, 0-9, _ starting with a letter",
                                       field="findingCode", code="BAD_FINDING_CODE"))
        if len(text) > _MAX_TEXT:
            errors.add(ValidationError(f"note: at most {_MAX_TEXT} characters", field="note"))
        errors.raise_if_any()
    at = occurred_at.astimezone(dt.UTC)
    body: dict[str, Any] = {"caseRef": reference(inv.id), "event": kind.value, "at": at.isoformat(),
                            "firm": firm_code, "recordedAt": now.isoformat()}
    if code is not None:
        body["finding"] = code
    if text:
        body["noteSha256"] = hashlib.sha256(text.encode()).hexdigest()
    record = ledger.record(session, kind=RecordKind.INVESTIGATION_EVENT, body=body)
    row = InvestigationEvent(investigation_id=inv.id, assignment_id=current.id, kind=kind, occurred_at=at,
                             recorded_at=now, recorded_by=principal.subject, finding_code=code, note=text or None,
                             ledger_record_id=record.id, commitment=record.commitment)
    session.add(row)
    if kind is EventKind.VISIT and (inv.first_visit_at is None or at < inv.first_visit_at):
        inv.first_visit_at = at
    session.flush()
    events.publish(session, inv, events.InvestigationTrailRecorded(
        investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, event_id=row.id, kind=kind,
        partner_id=current.partner_id), actor=_actor(principal))
    return row


def submit_survey_report(session: Session, *, principal: Principal, investigation_id: int, domain: eip712.Domain,
                         typed_data: Any, signature: Any, now: dt.datetime) -> Investigation:
    """The firm's signed SurveyReport closes the trail: verified and anchored by the partners domain.

    Only the firm holding the live offer may submit, and the message must name that offer
    (``investigationId``) and this investigation's case reference (NOT_ASSIGNED otherwise: a
    firm whose offer was withdrawn keeps its registry assignment, not the investigation).
    """
    inv, current = _current_of_firm(session, principal, investigation_id)
    message = typed_data.get("message") if isinstance(typed_data, dict) else None
    named = message.get("investigationId") if isinstance(message, dict) else None
    try:
        named_id = int(str(named), 0) if named is not None else None
    except ValueError:
        named_id = None
    if named_id != signed_id(current.id):
        raise DomainError("the report must name your live offer of this investigation as investigationId",
                          field="typedData.message.investigationId", code="NOT_ASSIGNED")
    record = signed_records.submit_signed_record(session, principal=principal, domain=domain, typed_data=typed_data,
                                                 signature=signature, now=now)
    if record.primary_type != "SurveyReport":
        raise ValidationError("an investigation is closed by a SurveyReport", field="typedData.primaryType",
                              code="MALFORMED")
    inv.survey_record_id = record.id
    inv.reported_at = now
    inv.state = InvestigationState.REPORTED
    current.report_on_time = inv.report_due_at is None or now <= inv.report_due_at
    session.flush()
    events.publish(session, inv, events.InvestigationStateChanged(
        investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, from_state=InvestigationState.IN_PROGRESS,
        partner_id=current.partner_id), actor=_actor(principal))
    return inv


def review_report(session: Session, *, principal: Principal, investigation_id: int, outcome: ReviewOutcome,
                  note: str | None, expected_version: int | None, now: dt.datetime,
                  extra: dict[str, str] | None = None) -> Investigation:
    """The adjuster accepts the report, asks for more, or rejects it; accept and reject resume the claim."""
    inv = get_investigation(session, principal=principal, investigation_id=investigation_id, lock=True)
    _check_version(inv, expected_version)
    text = (note or "").strip()
    if inv.state is not InvestigationState.REPORTED:
        raise InvalidTransitionError(f"a {inv.state.value} investigation has no report to review",
                                     field="investigationId")
    if len(text) > _MAX_TEXT:
        raise ValidationError(f"note: at most {_MAX_TEXT} characters", field="note")
    current = session.get(InvestigationAssignment, inv.current_assignment_id)
    assert current is not None
    inv.review_outcome, inv.reviewed_by, inv.reviewed_at = outcome, principal.subject, now
    inv.review_note = text or None
    if outcome is ReviewOutcome.MORE_REQUESTED:
        inv.state = InvestigationState.IN_PROGRESS
        inv.report_due_at = SlaPolicy.from_extra(extra).more_due(now)
        current.more_requested += 1
        current.report_on_time = None  # judged again on the next report
    else:
        inv.state = (InvestigationState.COMPLETED if outcome is ReviewOutcome.ACCEPTED
                     else InvestigationState.REPORT_REJECTED)
        current.state, current.outcome, current.ended_at = AssignmentState.DONE, outcome, now
        claims.resume_after_investigation(session, principal=principal, claim_id=inv.claim_id,
                                          investigation_reference=reference(inv.id), report_outcome=outcome.value,
                                          now=now)
    session.flush()
    events.publish(session, inv, events.InvestigationReviewed(
        investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, outcome=outcome,
        partner_id=current.partner_id), actor=_actor(principal))
    return inv


def get_trail_event(session: Session, *, principal: Principal, event_id: int) -> InvestigationEvent:
    """A trail event ``principal`` may see (a firm: those under its own offers), else NotFoundError."""
    row = session.get(InvestigationEvent, event_id)
    if row is not None and _internal(principal):
        return row
    firm = acting_firm(principal)
    if row is not None and firm is not None:
        offer = session.get(InvestigationAssignment, row.assignment_id)
        if offer is not None and offer.partner_id == firm:
            return row
    raise NotFoundError("trail event not found", field="id")


def get_escalation(session: Session, *, principal: Principal, escalation_id: int) -> InvestigationEscalation:
    """A missed SLA (staff and auditors), else NotFoundError."""
    row = session.get(InvestigationEscalation, escalation_id)
    if row is None or not _internal(principal):
        raise NotFoundError("escalation not found", field="id")
    return row
