"""Assignments: staff assign an approved partner to a case; its signed records answer it.

A survey assignment names one investigation (unique); a hospital bill or credit report
assignment names the case. The kind must fit the partner: surveys go to assessor firms,
bills to hospitals, credit reports to credit providers. Until claims and investigations
live in their own domain, the case reference and investigation id are opaque here.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ConflictError, NotFoundError, ValidationError
from partners import events
from partners.errors import RecordRejected, RejectCode
from partners.models import Assignment, AssignmentKind, Partner, PartnerKind, PartnerStatus
from partners.scoping import owned_by_caller, require_own
from partners.service import Page, PageRequest, count_of, keyset_page

# AssignmentKind is part of this service's API (is_assigned takes one): other domains import it from here.
__all__ = ["PARTNER_KIND_FOR", "AssignmentKind", "count_assignments", "create_assignment", "get_assignment",
           "is_assigned", "list_assignments"]

PARTNER_KIND_FOR: dict[AssignmentKind, PartnerKind] = {
    AssignmentKind.SURVEY: PartnerKind.ASSESSOR_FIRM,
    AssignmentKind.HOSPITAL_BILL: PartnerKind.HOSPITAL,
    AssignmentKind.CREDIT_REPORT: PartnerKind.CREDIT_PROVIDER,
}
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_MAX_INVESTIGATION = 2**63 - 1


def create_assignment(
    session: Session,
    *,
    principal: Principal,
    partner_id: int,
    kind: AssignmentKind,
    case_reference: str,
    investigation_id: int | None = None,
    now: dt.datetime,
) -> Assignment:
    """Assign a partner to a case (staff); the partner hears of it by webhook."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFoundError("partner not found", field="partnerId")
    if partner.status is not PartnerStatus.APPROVED:
        raise RecordRejected(RejectCode.PARTNER_NOT_APPROVED, f"partner is {partner.status.value}", field="partnerId")
    if partner.kind is not PARTNER_KIND_FOR[kind]:
        raise ValidationError(f"a {kind.value} assignment needs a {PARTNER_KIND_FOR[kind].value} partner",
                              field="partnerId", code="WRONG_PARTNER_KIND")
    ref = case_reference.strip()
    if not _REF.match(ref):
        raise ValidationError("case reference: 1-64 of letters, digits and . _ / -", field="caseReference")
    if kind is AssignmentKind.SURVEY:
        if investigation_id is None or not 0 < investigation_id <= _MAX_INVESTIGATION:
            raise ValidationError("a survey assignment needs a positive investigation id", field="investigationId")
        if session.scalar(select(Assignment.id).where(Assignment.investigation_id == investigation_id)):
            raise ConflictError("this investigation is assigned already", field="investigationId", code="DUPLICATE")
    elif investigation_id is not None:
        raise ValidationError("only survey assignments name an investigation", field="investigationId")
    row = Assignment(partner_id=partner.id, kind=kind, case_reference=ref, investigation_id=investigation_id,
                     active=True, created_by=principal.subject)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("this investigation is assigned already", field="investigationId",
                            code="DUPLICATE") from exc
    events.publish(session, events.AssignmentCreated(  # the webhook consumer tells the partner
        partner_id=partner.id, assignment_id=row.id, kind=kind, case_reference=ref, investigation_id=investigation_id),
        actor=principal)
    return row


def get_assignment(session: Session, *, principal: Principal, assignment_id: int) -> Assignment:
    """An assignment; FORBIDDEN when it is another partner's, NotFoundError when absent."""
    row = session.get(Assignment, assignment_id)
    if row is None:
        raise NotFoundError("assignment not found", field="id")
    require_own(principal, row.partner_id, what="this case")
    return row


def _assignments(principal: Principal, kind: AssignmentKind | None) -> Select[Assignment]:
    stmt = select(Assignment).where(owned_by_caller(principal, Assignment.partner_id))
    if kind is not None:
        stmt = stmt.where(Assignment.kind == kind)
    return stmt


def list_assignments(
    session: Session, *, principal: Principal, page: PageRequest, kind: AssignmentKind | None = None
) -> Page[Assignment]:
    """A page of the assignments the caller may see (a partner: only its own), oldest first."""
    return keyset_page(session, _assignments(principal, kind), Assignment.id, request=page)


def count_assignments(session: Session, *, principal: Principal, kind: AssignmentKind | None = None) -> int:
    """How many assignments the caller may see (with the filter of :func:`list_assignments`)."""
    return count_of(session, _assignments(principal, kind))


def is_assigned(session: Session, *, partner_id: int, kind: AssignmentKind, case_reference: str) -> bool:
    """Whether ``partner_id`` holds an active ``kind`` assignment for ``case_reference`` (one query)."""
    return session.scalar(select(Assignment.id).where(
        Assignment.partner_id == partner_id, Assignment.kind == kind, Assignment.case_reference == case_reference,
        Assignment.active.is_(True)).limit(1)) is not None
