"""Assessor firms' qualification as claims managers review it: state, expiry, figures, decisions.

The partner registry (:mod:`partners`) holds the facts: a firm's status (submitted → reviewing →
approved; suspended; expired) and its licences with their validity. Here they read as one
*qualification state* per firm for claims managers:

* ``PENDING_REVIEW`` — submitted or in review (not yet approved);
* ``APPROVED`` — approved, its licence valid beyond the review window;
* ``DUE_FOR_REVIEW`` — approved, its licence ends within the window (``due_within_days``);
* ``EXPIRED`` — expired in the registry, or approved with no licence valid today (the nightly
  expiry job has not run yet);
* ``SUSPENDED`` / ``REJECTED`` — as the registry has it.

``qualified_until`` is the last day of the longest licence that has started. A review decision
goes through the registry, never around it, so maker-checker, the audit log, the partner events
and the on-chain role sync all apply:

* ``RENEW`` records the new licence (new expiry) and then, by status: an approved firm stays
  approved; a submitted or suspended one is taken into review and approved; one in review is
  approved; an expired one is resubmitted (it waits for a second reviewer: maker-checker).
* ``SUSPEND`` suspends an approved firm with a reason code: it gets no new assignments
  (:func:`resolvers.investigations.firms.unfit_reason`); offers and work in hand stay.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import business_date
from core.errors import InvalidTransitionError, NotFoundError, ValidationError
from core.event_stream import Actor
from partners import loaders as partner_loaders
from partners import review as partner_review
from partners import service as partner_registry
from partners.service import LicenceSpec
from resolvers.investigations import events
from resolvers.investigations.firms import FirmPerformance, firm_performance

__all__ = [
    "DEFAULT_DUE_WITHIN_DAYS",
    "FirmQualification",
    "QualificationDecision",
    "QualificationState",
    "SuspensionReason",
    "firm_qualification",
    "qualifications",
    "review_qualification",
]

DEFAULT_DUE_WITHIN_DAYS = 30
MAX_DUE_WITHIN_DAYS = 366
#: The firm figures shown beside the qualification: offers made in the last year.
PERFORMANCE_DAYS = 365
_ASSESSOR = "assessor_firm"
# The partner registry's statuses (partners.models.PartnerStatus values: its models are its own).
_SUBMITTED, _REVIEWING, _APPROVED = "submitted", "reviewing", "approved"
_SUSPENDED, _REJECTED, _EXPIRED = "suspended", "rejected", "expired"


class QualificationState(enum.StrEnum):
    """An assessor firm's qualification as claims managers see it."""

    APPROVED = "approved"
    DUE_FOR_REVIEW = "due_for_review"
    PENDING_REVIEW = "pending_review"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class QualificationDecision(enum.StrEnum):
    """What a claims manager decides on a firm's qualification."""

    RENEW = "renew"
    SUSPEND = "suspend"


class SuspensionReason(enum.StrEnum):
    """Why a firm is suspended (a code: the registry keeps it as the status reason)."""

    QUALITY_BELOW_STANDARD = "quality_below_standard"
    SLA_BREACHES = "sla_breaches"
    LICENCE_PROBLEM = "licence_problem"
    MISCONDUCT = "misconduct"
    QUALIFICATION_LAPSED = "qualification_lapsed"
    OTHER = "other"


@dataclass(frozen=True)
class FirmQualification:
    """One firm's qualification state, expiry and figures."""

    partner_id: int
    state: QualificationState
    qualified_until: dt.date | None
    days_left: int | None
    registry_version: int
    decided_at: dt.datetime | None
    performance: FirmPerformance | None

    @property
    def id(self) -> int:
        """The firm's partner id (pages are keyed by it)."""
        return self.partner_id


def _qualified_until(licences: Collection[Any], today: dt.date) -> tuple[dt.date | None, bool]:
    started = [lic.valid_until for lic in licences if lic.valid_from <= today]
    valid_now = any(lic.valid_from <= today <= lic.valid_until for lic in licences)
    return (max(started) if started else None), valid_now


def _state(partner: Any, until: dt.date | None, valid_now: bool, today: dt.date,
           due_within_days: int) -> QualificationState:
    status = partner.status.value
    if status in (_SUBMITTED, _REVIEWING):
        return QualificationState.PENDING_REVIEW
    if status == _SUSPENDED:
        return QualificationState.SUSPENDED
    if status == _REJECTED:
        return QualificationState.REJECTED
    if status == _EXPIRED or not valid_now or until is None:
        return QualificationState.EXPIRED
    if (until - today).days <= due_within_days:
        return QualificationState.DUE_FOR_REVIEW
    return QualificationState.APPROVED


def _check_window(due_within_days: int) -> None:
    if not 0 <= due_within_days <= MAX_DUE_WITHIN_DAYS:
        raise ValidationError(f"dueWithinDays: 0-{MAX_DUE_WITHIN_DAYS}", field="dueWithinDays")


def qualifications(session: Session, *, now: dt.datetime, due_within_days: int = DEFAULT_DUE_WITHIN_DAYS,
                   states: Collection[QualificationState] | None = None,
                   partner_ids: Collection[int] | None = None) -> list[FirmQualification]:
    """Every assessor firm's qualification (those in ``states`` when given), by firm id (three queries)."""
    _check_window(due_within_days)
    today = business_date(now)
    firms = partner_loaders.partners_of_kind(session, _ASSESSOR)
    if partner_ids is not None:
        wanted = set(partner_ids)
        firms = [p for p in firms if p.id in wanted]
    if not firms:
        return []
    ids = [p.id for p in firms]
    licences = partner_loaders.licences_by_partner(session, ids)
    figures = {f.partner_id: f for f in firm_performance(
        session, start=now - dt.timedelta(days=PERFORMANCE_DAYS), end=now, partner_ids=ids)}
    out: list[FirmQualification] = []
    for p in firms:
        until, valid_now = _qualified_until(licences.get(p.id, []), today)
        state = _state(p, until, valid_now, today, due_within_days)
        if states and state not in states:
            continue
        out.append(FirmQualification(p.id, state, until, None if until is None else (until - today).days,
                                     p.version, p.decided_at, figures.get(p.id)))
    return out


def firm_qualification(session: Session, *, partner_id: int, now: dt.datetime,
                       due_within_days: int = DEFAULT_DUE_WITHIN_DAYS) -> FirmQualification:
    """One assessor firm's qualification; NotFoundError when the partner is no assessor firm."""
    found = qualifications(session, now=now, due_within_days=due_within_days, partner_ids=[partner_id])
    if not found:
        raise NotFoundError("no assessor firm with this id", field="firmId")
    return found[0]


def review_qualification(
    session: Session, *, principal: Principal, partner_id: int, decision: QualificationDecision,
    licence: LicenceSpec | None = None, suspension_reason: SuspensionReason | None = None,
    expected_version: int | None = None, now: dt.datetime,
) -> FirmQualification:
    """Record a claims manager's decision on a firm's qualification through the partner registry.

    Typed refusals: not an assessor firm (FIRM_NOT_QUALIFIED), a licence missing or ending
    before tomorrow (LICENCE_REQUIRED, BAD_PERIOD), a suspension without its reason code
    (REASON_REQUIRED), a move the registry does not allow (INVALID_TRANSITION), the submitter
    deciding (MAKER_CHECKER), no licence valid today (NO_VALID_LICENCE), STALE_VERSION.
    """
    partner = partner_loaders.partners_by_id(session, [partner_id]).get(partner_id)
    if partner is None:
        raise NotFoundError("partner not found", field="firmId")
    if partner.kind.value != _ASSESSOR:
        raise ValidationError("only an assessor firm's qualification is reviewed here", field="firmId",
                              code="FIRM_NOT_QUALIFIED")
    partner_registry.check_version(partner, expected_version, what="partner")
    before = firm_qualification(session, partner_id=partner_id, now=now).state
    if decision is QualificationDecision.SUSPEND:
        if suspension_reason is None:
            raise ValidationError("give the suspension's reason code", field="suspensionReason",
                                  code="REASON_REQUIRED")
        partner_review.suspend(session, principal=principal, partner_id=partner_id, reason=suspension_reason.value,
                               now=now)
    else:
        _renew(session, principal, partner, licence, now)
    after = firm_qualification(session, partner_id=partner_id, now=now)
    events.publish_firm(session, events.FirmQualificationReviewed(
        partner_id=partner_id, decision=decision, from_state=before, state=after.state,
        qualified_until=after.qualified_until, suspension_reason=suspension_reason), version=partner.version,
        actor=Actor(principal.subject, principal.role.value if principal.role else None))
    return after


def _renew(session: Session, principal: Principal, partner: Any, licence: LicenceSpec | None,
           now: dt.datetime) -> None:
    status = partner.status.value
    if status == _REJECTED:
        raise InvalidTransitionError("a rejected firm is resubmitted by onboarding, not renewed", field="firmId")
    if licence is None and status in (_APPROVED, _EXPIRED):
        raise ValidationError("a renewal records the licence with its new expiry", field="licence",
                              code="LICENCE_REQUIRED")
    if licence is not None:
        if licence.valid_until <= business_date(now):
            raise ValidationError("the renewed licence must run beyond today", field="licence.validUntil",
                                  code="BAD_PERIOD")
        partner_registry.add_licence(session, principal=principal, partner_id=partner.id, licence=licence, now=now)
    pid = partner.id
    if status in (_SUBMITTED, _SUSPENDED):
        partner_review.start_review(session, principal=principal, partner_id=pid, now=now)
        partner_review.approve(session, principal=principal, partner_id=pid, note="qualification renewed", now=now)
    elif status == _REVIEWING:
        partner_review.approve(session, principal=principal, partner_id=pid, note="qualification renewed", now=now)
    elif status == _EXPIRED:
        partner_review.resubmit(session, principal=principal, partner_id=pid, note="licence renewed", now=now)
