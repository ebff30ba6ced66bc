"""Root query fields of the investigations domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import DomainError, ValidationError
from core.roles import FIRM_PERFORMANCE_READERS, FIRM_QUALIFICATION_REVIEWERS, INVESTIGATION_READERS
from resolvers.investigations import firms, qualification, service
from resolvers.investigations import loaders as fetch
from resolvers.investigations import models as m
from schema.context import Context
from schema.investigations.enums import FirmQualificationState
from schema.investigations.inputs import InvestigationFilter
from schema.investigations.types import (
    AssessorFirmProfile,
    AssessorFirmQualification,
    FirmPerformance,
    Investigation,
    InvestigationEscalation,
    InvestigationOffer,
    InvestigationTrailEvent,
)
from schema.node import NodeFetcher
from schema.partners.paging import After, Before, First, Last, loaded_connection
from schema.permissions import allow
from schema.relay import PAGING, Connection, decode_global_id, keyset_connection, page_request

__all__ = ["NODES", "InvestigationsQuery"]


def _investigation(ctx: Context, pk: int) -> Investigation | None:
    return Investigation.from_row(service.get_investigation(ctx.session, principal=ctx.principal, investigation_id=pk))


def _offer(ctx: Context, pk: int) -> InvestigationOffer | None:
    return InvestigationOffer.from_row(service.get_assignment(ctx.session, principal=ctx.principal, assignment_id=pk))


def _trail_event(ctx: Context, pk: int) -> InvestigationTrailEvent | None:
    row = service.get_trail_event(ctx.session, principal=ctx.principal, event_id=pk)
    return InvestigationTrailEvent.from_row(row)


def _escalation(ctx: Context, pk: int) -> InvestigationEscalation | None:
    row = service.get_escalation(ctx.session, principal=ctx.principal, escalation_id=pk)
    return InvestigationEscalation.from_row(row)


def _profile(ctx: Context, pk: int) -> AssessorFirmProfile | None:
    if ctx.principal.role not in FIRM_PERFORMANCE_READERS:
        return None
    row = fetch.profiles_by_partner(ctx.session, [pk]).get(pk)
    return AssessorFirmProfile.from_row(row) if row is not None else None


def _qualification(ctx: Context, pk: int) -> AssessorFirmQualification | None:
    if ctx.principal.role not in FIRM_QUALIFICATION_REVIEWERS:
        return None
    found = qualification.qualifications(ctx.session, now=ctx.now(), partner_ids=[pk])
    return AssessorFirmQualification.from_row(found[0]) if found else None


#: How ``node(id:)`` fetches this domain's types, scoped as their own reads (a firm: what was offered to it).
NODES: dict[str, NodeFetcher] = {
    "Investigation": _investigation,
    "InvestigationOffer": _offer,
    "InvestigationTrailEvent": _trail_event,
    "InvestigationEscalation": _escalation,
    "AssessorFirmProfile": _profile,
    "AssessorFirmQualification": _qualification,
}


@strawberry.type
class InvestigationsQuery:
    @strawberry.field(description="An investigation by global id (null when absent or not visible: a firm sees the "
                      "investigations offered to it, staff and auditors every one).",
                      metadata=allow(INVESTIGATION_READERS))
    def investigation(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
            description="The investigation's global id.")]) -> Investigation | None:
        ctx = info.context
        try:
            return _investigation(ctx, decode_global_id(id, "Investigation"))
        except DomainError:
            return None

    @strawberry.field(description="Investigations the caller may see, oldest first, filtered. " + PAGING,
                      metadata=allow(INVESTIGATION_READERS))
    def investigations(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                       before: Before = None, filter: Annotated[InvestigationFilter | None, strawberry.argument(
                           description="Which investigations (all when absent).")] = None,
                       ) -> Connection[Investigation]:
        ctx = info.context
        f = filter or InvestigationFilter()
        stmt = service.investigations_query(
            ctx.principal, states=tuple(f.states or ()),
            claim_id=decode_global_id(f.claim_id, "Claim", field="filter.claimId") if f.claim_id else None,
            partner_id=decode_global_id(f.firm_id, "Partner", field="filter.firmId") if f.firm_id else None,
            overdue_at=ctx.now() if f.escalated else None)
        return keyset_connection(ctx.session, stmt, wrap=Investigation.from_row, settings=ctx.settings, first=first,
                                 after=after, last=last, before=before)

    @strawberry.field(description="Assessor firms' investigation profiles (regions, capacity, quality), by firm. "
                      + PAGING, metadata=allow(FIRM_PERFORMANCE_READERS))
    def assessor_firm_profiles(self, info: Info[Context, Any], first: First = None, after: After = None,
                               last: Last = None, before: Before = None) -> Connection[AssessorFirmProfile]:
        ctx = info.context
        return keyset_connection(ctx.session, firms.profiles_query(), wrap=AssessorFirmProfile.from_row,
                                 settings=ctx.settings, first=first, after=after, last=last, before=before,
                                 key_columns=[m.AssessorFirmProfile.partner_id])

    @strawberry.field(description="Each firm's on-time, acceptance and review-outcome figures over the offers made "
                      "to it in [from, to) (at most 366 days), by firm. " + PAGING,
                      metadata=allow(FIRM_PERFORMANCE_READERS))
    def assessor_firm_performance(
        self, info: Info[Context, Any],
        from_: Annotated[dt.datetime, strawberry.argument(name="from", description="Start of the period.")],
        to: Annotated[dt.datetime, strawberry.argument(description="End of the period (exclusive).")],
        first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[FirmPerformance]:
        ctx = info.context
        if not dt.timedelta() < to - from_ <= dt.timedelta(days=366):
            raise ValidationError("the period runs forward, at most 366 days", field="to", code="BAD_PERIOD")
        figures = firms.firm_performance(ctx.session, start=from_, end=to)
        return loaded_connection(figures, page_request(first, after, last, before, ctx.settings),  # type: ignore[return-value]
                                 FirmPerformance.from_figures)

    @strawberry.field(description="Assessor firms' qualification for claims managers: state, licence expiry and "
                      "figures, by firm. states [DUE_FOR_REVIEW, EXPIRED] lists the firms whose qualification is "
                      "due for review or lapsed. " + PAGING, metadata=allow(FIRM_QUALIFICATION_REVIEWERS))
    def assessor_firm_qualifications(
        self, info: Info[Context, Any],
        states: Annotated[list[FirmQualificationState] | None, strawberry.argument(  # type: ignore[valid-type]
            description="Only firms in these states (all when null).")] = None,
        due_within_days: Annotated[int, strawberry.argument(
            description="The review window: an approved firm whose licence ends within this many days (0-366) is "
                        "DUE_FOR_REVIEW.")] = qualification.DEFAULT_DUE_WITHIN_DAYS,
        first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[AssessorFirmQualification]:
        ctx = info.context
        rows = qualification.qualifications(ctx.session, now=ctx.now(), due_within_days=due_within_days,
                                            states=set(states) if states else None)
        return loaded_connection(rows, page_request(first, after, last, before, ctx.settings),  # type: ignore[return-value]
                                 AssessorFirmQualification.from_row)
