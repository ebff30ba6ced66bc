"""GraphQL object types of the investigations domain: investigations, offers to firms, the trail,
escalations, firm profiles and performance.

Links run both ways: an investigation names its claim (``Claim``), its offers (each naming its
firm, a ``Partner``, and the partners registry's ``Assignment``), its trail (each event with its
ledger ``ProofBundle``) and its survey report (the partners' ``SignedRecord``). A firm reads only
what was offered to it: its own offers and its own trail events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from core.auth import Role
from core.errors import DomainError
from core.roles import (
    FIRM_PERFORMANCE_READERS,
    FIRM_QUALIFICATION_REVIEWERS,
    INTERNAL,
    INVESTIGATION_NOTE_READERS,
    INVESTIGATION_READERS,
)
from partners import signed_records
from resolvers.claims import service as claims
from resolvers.investigations import models as m
from resolvers.investigations import service
from resolvers.investigations.firms import FirmPerformance as FirmFigures
from resolvers.investigations.qualification import FirmQualification as QualificationRow
from resolvers.investigations.scoping import acting_firm
from schema.claims.types import Claim
from schema.context import Context
from schema.investigations.enums import (
    FirmQualificationState,
    InvestigationCheck,
    InvestigationDeclineReason,
    InvestigationEventKind,
    InvestigationOfferHow,
    InvestigationOfferState,
    InvestigationReviewOutcome,
    InvestigationSla,
    InvestigationState,
    InvestigationTrigger,
)
from schema.investigations.loaders import (
    EscalationsByInvestigationIdLoader,
    InvestigationBySurveyRecordIdLoader,
    InvestigationsByClaimIdLoader,
    OffersByInvestigationIdLoader,
    TrailEventsByInvestigationIdLoader,
)
from schema.ledger.types import ProofBundle, load_proof_bundle
from schema.partners.arguments import gid
from schema.partners.loaders import AssignmentByIdLoader, PartnerByIdLoader
from schema.partners.paging import After, Before, First, Last, loaded_connection
from schema.partners.types import Assignment, Partner, SignedRecord
from schema.permissions import access, allow
from schema.relay import PAGING, Connection, Node, page_request
from schema.scalars import Rate

__all__ = ["AssessorFirmProfile", "FirmPerformance", "Investigation", "InvestigationEscalation",
           "InvestigationOffer", "InvestigationTrailEvent", "investigation_of_survey", "investigations_of_claim"]

_FREE_TEXT = "May name people: adjusters and the firm only."


def _own(ctx: Context, rows: Any, partner_of: Any) -> Any:
    """A firm sees only its own rows of a list; staff see all."""
    firm = acting_firm(ctx.principal)
    if ctx.principal.role is not Role.PARTNER:
        return rows
    return [r for r in rows if partner_of(r) == firm]


@strawberry.type(description="One offer of an investigation to an assessor firm; offers are never deleted, so "
                             "reassignments keep their history.")
@access(INVESTIGATION_READERS)
class InvestigationOffer(Node):
    how: InvestigationOfferHow = strawberry.field(description="How the firm was chosen.")  # type: ignore[valid-type]
    state: InvestigationOfferState = strawberry.field(description="Where the offer stands.")  # type: ignore[valid-type]
    offered_at: dt.datetime = strawberry.field(description="When it was offered.")
    accept_due_at: dt.datetime = strawberry.field(description="By when the firm must accept (acceptance SLA, in "
                                                              "business hours).")
    responded_at: dt.datetime | None = strawberry.field(description="When the firm accepted or declined.")
    decline_reason: InvestigationDeclineReason | None = strawberry.field(  # type: ignore[valid-type]
        description="Why the firm declined (null unless DECLINED).")
    ended_at: dt.datetime | None = strawberry.field(description="When it stopped being live.")
    outcome: InvestigationReviewOutcome | None = strawberry.field(  # type: ignore[valid-type]
        description="The final review of the firm's report (null until DONE).")
    report_on_time: bool | None = strawberry.field(description="Whether the firm's last report came in by the "
                                                               "report due time (null before a report).")
    more_requested: int = strawberry.field(description="How often the adjuster asked the firm for more.")
    signed_investigation_id: str = strawberry.field(
        description="The number the firm signs as the SurveyReport's investigationId (a decimal string, "
                    "10^12 + the offer's number): this offer's, so a report always names the offer it answers.")
    case_reference: str = strawberry.field(description="The SurveyReport's caseReference (the investigation's "
                                                       "reference, e.g. INV-00000042).")
    assigned_by: str = strawberry.field(description="Who made the offer (staff and auditors only).",
                                        metadata=allow(INTERNAL))
    pk: strawberry.Private[int]
    investigation_pk: strawberry.Private[int]
    partner_pk: strawberry.Private[int]
    registry_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: m.InvestigationAssignment) -> InvestigationOffer:
        return cls(id=gid("InvestigationOffer", row.id), pk=row.id, investigation_pk=row.investigation_id,
                   partner_pk=row.partner_id, registry_pk=row.partner_assignment_id, how=row.how, state=row.state,
                   offered_at=row.offered_at, accept_due_at=row.accept_due_at, responded_at=row.responded_at,
                   decline_reason=row.decline_reason, ended_at=row.ended_at, outcome=row.outcome,
                   report_on_time=row.report_on_time, more_requested=row.more_requested,
                   signed_investigation_id=str(service.signed_id(row.id)), case_reference=service.reference(row.investigation_id),
                   assigned_by=row.assigned_by)

    @strawberry.field(description="The firm it was offered to.")
    def firm(self, info: Info[Context, Any]) -> Partner:
        return info.context.loader(PartnerByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.partner_pk, Partner.from_row)

    @strawberry.field(description="The partners registry's survey assignment behind the offer (the firm's "
                                  "signed records answer it).")
    def assignment(self, info: Info[Context, Any]) -> Assignment | None:
        if self.registry_pk is None:
            return None
        return info.context.loader(AssignmentByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.registry_pk, Assignment.from_row)


@strawberry.type(description="A trail event an investigator recorded: committed to the ledger (kind "
                             "INVESTIGATION_EVENT) with a body of codes, times and the note's SHA-256, nothing personal.")
@access(INVESTIGATION_READERS)
class InvestigationTrailEvent(Node):
    kind: InvestigationEventKind = strawberry.field(description="What it records.")  # type: ignore[valid-type]
    occurred_at: dt.datetime = strawberry.field(description="When it happened.")
    recorded_at: dt.datetime = strawberry.field(description="When it was recorded.")
    finding: str | None = strawberry.field(description="A finding's code (FINDING events; 2-40 of A-Z, 0-9, _), "
                                                       "the firm's own vocabulary.")
    note: str | None = strawberry.field(description=f"The investigator's note. {_FREE_TEXT}",
                                        metadata=allow(INVESTIGATION_NOTE_READERS))
    recorded_by: str = strawberry.field(description="The firm's user who recorded it (staff and auditors only).",
                                        metadata=allow(INTERNAL))
    commitment: str = strawberry.field(description="The ledger commitment anchored on chain (0x + 64 hex).")
    ledger_record_pk: strawberry.Private[int]
    offer_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.InvestigationEvent) -> InvestigationTrailEvent:
        return cls(id=gid("InvestigationTrailEvent", row.id), kind=row.kind, occurred_at=row.occurred_at,
                   recorded_at=row.recorded_at, finding=row.finding_code, note=row.note,
                   recorded_by=row.recorded_by, commitment=row.commitment, ledger_record_pk=row.ledger_record_id,
                   offer_pk=row.assignment_id)

    @strawberry.field(description="The ledger proof bundle (status PENDING until anchored).")
    def proof(self, info: Info[Context, Any]) -> ProofBundle:
        return load_proof_bundle(info.context, self.ledger_record_pk)  # type: ignore[return-value]


@strawberry.type(description="An SLA an investigation missed, and the escalation level it raised.")
@access(INTERNAL)
class InvestigationEscalation(Node):
    sla: InvestigationSla = strawberry.field(description="Which deadline was missed.")  # type: ignore[valid-type]
    due_at: dt.datetime = strawberry.field(description="The deadline.")
    escalated_at: dt.datetime = strawberry.field(description="When the SLA check found it missed.")
    level: int = strawberry.field(description="The investigation's escalation level after it (1, 2, ...).")

    @classmethod
    def from_row(cls, row: m.InvestigationEscalation) -> InvestigationEscalation:
        return cls(id=gid("InvestigationEscalation", row.id), sla=row.sla, due_at=row.due_at, escalated_at=row.at,
                   level=row.level)


@strawberry.type(description="An investigation of a claim by an assessor firm: what to check, the offers, the "
                             "trail, the signed survey report and its review, and the SLA deadlines (business "
                             "days and hours in Beijing, Chinese public holidays off).")
@access(INVESTIGATION_READERS)
class Investigation(Node):
    reference: str = strawberry.field(description="The case reference firms sign (INV- and 8 digits).")
    state: InvestigationState = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    checks: list[InvestigationCheck] = strawberry.field(  # type: ignore[valid-type]
        description="What the firm is asked to check.")
    region: str | None = strawberry.field(description="The GB/T 2260 region code of the work (null: any).")
    instructions: str | None = strawberry.field(description=f"Instructions for the firm. {_FREE_TEXT}",
                                                metadata=allow(INVESTIGATION_NOTE_READERS))
    trigger: InvestigationTrigger = strawberry.field(  # type: ignore[valid-type]
        description="Who asked for it (staff and auditors only).", metadata=allow(INTERNAL))
    rules: list[str] = strawberry.field(description="The risk rules that sent the claim here (RISK_RULE; staff and "
                                                    "auditors only).", metadata=allow(INTERNAL))
    requested_by: str = strawberry.field(description="Who asked (staff and auditors only).", metadata=allow(INTERNAL))
    requested_at: dt.datetime = strawberry.field(description="When it was asked for.")
    report_due_on: dt.date | None = strawberry.field(description="The report due date the adjuster named, if any.")
    accept_due_at: dt.datetime | None = strawberry.field(description="By when the live offer must be accepted.")
    visit_due_at: dt.datetime | None = strawberry.field(description="By when the first visit is due (after "
                                                                    "acceptance).")
    report_due_at: dt.datetime | None = strawberry.field(description="By when the signed report is due.")
    first_visit_at: dt.datetime | None = strawberry.field(description="When the first VISIT happened.")
    reported_at: dt.datetime | None = strawberry.field(description="When the (last) survey report came in.")
    review_outcome: InvestigationReviewOutcome | None = strawberry.field(  # type: ignore[valid-type]
        description="The adjuster's last review of the report.")
    review_note: str | None = strawberry.field(description=f"The adjuster's note to the firm. {_FREE_TEXT}",
                                               metadata=allow(INVESTIGATION_NOTE_READERS))
    reviewed_at: dt.datetime | None = strawberry.field(description="When the report was last reviewed.")
    escalation_level: int = strawberry.field(description="How many SLAs it missed so far (0: none).")
    version: int = strawberry.field(description="Optimistic-locking version; send it back as expectedVersion.")
    pk: strawberry.Private[int]
    claim_pk: strawberry.Private[int]
    current_offer_pk: strawberry.Private[int | None]
    survey_record_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: m.Investigation) -> Investigation:
        return cls(id=gid("Investigation", row.id), pk=row.id, claim_pk=row.claim_id,
                   current_offer_pk=row.current_assignment_id, survey_record_pk=row.survey_record_id,
                   reference=service.reference(row.id), state=row.state, checks=list(map(m.InvestigationCheck,
                                                                                         row.checks)),
                   region=row.region, instructions=row.instructions, trigger=row.trigger, rules=list(row.rules or ()),
                   requested_by=row.requested_by, requested_at=row.requested_at, report_due_on=row.report_due_on,
                   accept_due_at=row.accept_due_at, visit_due_at=row.visit_due_at, report_due_at=row.report_due_at,
                   first_visit_at=row.first_visit_at, reported_at=row.reported_at, review_outcome=row.review_outcome,
                   review_note=row.review_note, reviewed_at=row.reviewed_at, escalation_level=row.escalation_level,
                   version=row.version)

    @strawberry.field(description="The claim investigated (staff and auditors; null when not visible).",
                      metadata=allow(INTERNAL))
    def claim(self, info: Info[Context, Any]) -> Claim | None:
        ctx = info.context
        try:
            return Claim.from_row(claims.get_claim(ctx.session, principal=ctx.principal, claim_id=self.claim_pk))
        except DomainError:
            return None

    @strawberry.field(description="The live offer (null while PENDING and after the review).")
    def current_offer(self, info: Info[Context, Any]) -> InvestigationOffer | None:
        if self.current_offer_pk is None:
            return None

        def pick(rows: Any) -> Any:
            found = [r for r in _own(info.context, rows, lambda r: r.partner_id) if r.id == self.current_offer_pk]
            return InvestigationOffer.from_row(found[0]) if found else None

        value = info.context.loader(OffersByInvestigationIdLoader).get(self.pk)
        if hasattr(value, "__await__"):
            async def later() -> Any:
                return pick(await value)

            return later()  # type: ignore[return-value]
        return pick(value)  # type: ignore[no-any-return]

    @strawberry.field(description=f"Every offer, oldest first (a firm: its own). {PAGING}")
    def offers(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
               before: Before = None) -> Connection[InvestigationOffer]:
        return self._related(  # type: ignore[no-any-return]
            info, OffersByInvestigationIdLoader, InvestigationOffer.from_row, first, after, last, before, lambda r: r.partner_id)

    @strawberry.field(description=f"The trail, in the order recorded (a firm: its own events). {PAGING}")
    def trail(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
              before: Before = None) -> Connection[InvestigationTrailEvent]:
        return self._related(  # type: ignore[no-any-return]
            info, TrailEventsByInvestigationIdLoader, InvestigationTrailEvent.from_row, first, after, last, before, None)

    @strawberry.field(description=f"Missed SLAs, oldest first (staff and auditors). {PAGING}", metadata=allow(INTERNAL))
    def escalations(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                    before: Before = None) -> Connection[InvestigationEscalation]:
        return self._related(  # type: ignore[no-any-return]
            info, EscalationsByInvestigationIdLoader, InvestigationEscalation.from_row, first, after, last, before, None)

    @strawberry.field(description="The (last) signed SurveyReport that closed the trail (null before; a firm sees "
                                  "only its own).")
    def survey_report(self, info: Info[Context, Any]) -> SignedRecord | None:
        if self.survey_record_pk is None:
            return None
        ctx = info.context
        try:
            row = signed_records.get_signed_record(ctx.session, principal=ctx.principal, record_id=self.survey_record_pk)
        except DomainError:
            return None
        return SignedRecord.from_row(row)

    def _related(self, info: Info[Context, Any], loader: Any, wrap: Any, first: int | None, after: str | None,
                 last: int | None, before: str | None, partner_of: Any) -> Any:
        ctx = info.context
        request = page_request(first, after, last, before, ctx.settings)
        value = ctx.loader(loader).get(self.pk)
        firm = acting_firm(ctx.principal)

        def scoped(rows: Any) -> Any:
            if firm is None:
                return rows
            if partner_of is None:  # trail events: those recorded under the firm's own offers
                offers = ctx.loader(OffersByInvestigationIdLoader).peek(self.pk)
                mine = {o.id for o in offers if o.partner_id == firm} if isinstance(offers, list | tuple) else set()
                return [r for r in rows if getattr(r, "assignment_id", None) in mine]
            return [r for r in rows if partner_of(r) == firm]

        if hasattr(value, "__await__"):
            async def later() -> Any:
                rows = await value
                if firm is not None:
                    ctx.loader(OffersByInvestigationIdLoader).fetch_and_prime([self.pk])
                return loaded_connection(scoped(rows), request, wrap)

            return later()
        if firm is not None:
            ctx.loader(OffersByInvestigationIdLoader).fetch_and_prime([self.pk])
        return loaded_connection(scoped(value), request, wrap)


@strawberry.type(description="What auto-assignment knows of an assessor firm (its registry status is the "
                             "Partner's: only APPROVED firms get work).")
@access(FIRM_PERFORMANCE_READERS)
class AssessorFirmProfile(Node):
    regions: list[str] = strawberry.field(description="GB/T 2260 region codes the firm works in.")
    capacity: int = strawberry.field(description="Most investigations it holds at once (offered or accepted).")
    quality_score: float = strawberry.field(description="0-100, set by claims managers; auto-assignment weighs it.")
    updated_at: dt.datetime = strawberry.field(description="When the profile last changed.")
    version: int = strawberry.field(description="Optimistic-locking version.")
    partner_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.AssessorFirmProfile) -> AssessorFirmProfile:
        return cls(id=gid("AssessorFirmProfile", row.partner_id), regions=list(row.regions), capacity=row.capacity,
                   quality_score=float(row.quality_score), updated_at=row.updated_at, version=row.version,
                   partner_pk=row.partner_id)

    @strawberry.field(description="The firm.")
    def firm(self, info: Info[Context, Any]) -> Partner:
        return info.context.loader(PartnerByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.partner_pk, Partner.from_row)


@strawberry.type(description="A firm's figures over the offers made to it in a period.")
@access(FIRM_PERFORMANCE_READERS)
class FirmPerformance:
    offers: int = strawberry.field(description="Offers made in the period.")
    accepted: int = strawberry.field(description="Of them, accepted.")
    declined: int = strawberry.field(description="Of them, declined.")
    expired: int = strawberry.field(description="Of them, not accepted in time.")
    reports: int = strawberry.field(description="Reports the firm delivered on them.")
    reports_on_time: int = strawberry.field(description="Of the reports, in by the report due time.")
    reviewed_accepted: int = strawberry.field(description="Final reviews that accepted the report.")
    reviewed_rejected: int = strawberry.field(description="Final reviews that rejected the report.")
    more_requested: int = strawberry.field(description="Times the adjuster asked the firm for more.")
    acceptance_rate: Rate | None = strawberry.field(description="accepted / (accepted + declined + expired); null "
                                                                "without any.")
    on_time_rate: Rate | None = strawberry.field(description="reportsOnTime / reports; null without any.")
    review_acceptance_rate: Rate | None = strawberry.field(
        description="reviewedAccepted / (reviewedAccepted + reviewedRejected); null without any.")
    partner_pk: strawberry.Private[int]

    @classmethod
    def from_figures(cls, f: FirmFigures) -> FirmPerformance:
        return cls(offers=f.offers, accepted=f.accepted, declined=f.declined, expired=f.expired, reports=f.reports,
                   reports_on_time=f.reports_on_time, reviewed_accepted=f.reviewed_accepted,
                   reviewed_rejected=f.reviewed_rejected, more_requested=f.more_requested,
                   acceptance_rate=f.acceptance_rate, on_time_rate=f.on_time_rate,  # type: ignore[arg-type]
                   review_acceptance_rate=f.review_acceptance_rate, partner_pk=f.partner_id)  # type: ignore[arg-type]

    @strawberry.field(description="The firm.")
    def firm(self, info: Info[Context, Any]) -> Partner:
        return info.context.loader(PartnerByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.partner_pk, Partner.from_row)


@strawberry.type(description="An assessor firm's qualification for claims managers: its state in the partner "
                             "registry, when its licence ends, and its figures over the last 365 days.")
@access(FIRM_QUALIFICATION_REVIEWERS)
class AssessorFirmQualification(Node):
    state: FirmQualificationState = strawberry.field(  # type: ignore[valid-type]
        description="Approved, due for review, pending review, expired, suspended or rejected.")
    qualified_until: dt.date | None = strawberry.field(
        description="Last day of its longest licence that has started (null without any): the qualification's "
                    "expiry, or when it lapsed.")
    days_left: int | None = strawberry.field(
        description="Days from today (business date, Asia/Shanghai) to qualifiedUntil; negative once lapsed.")
    decided_at: dt.datetime | None = strawberry.field(description="When the registry last approved or rejected it.")
    version: int = strawberry.field(description="The Partner's version (expectedVersion of reviewFirmQualification).")
    partner_pk: strawberry.Private[int]
    figures: strawberry.Private[FirmFigures | None]

    @classmethod
    def from_row(cls, row: QualificationRow) -> AssessorFirmQualification:
        return cls(id=gid("AssessorFirmQualification", row.partner_id), state=row.state,
                   qualified_until=row.qualified_until, days_left=row.days_left, decided_at=row.decided_at,
                   version=row.registry_version, partner_pk=row.partner_id, figures=row.performance)

    @strawberry.field(description="The firm.")
    def firm(self, info: Info[Context, Any]) -> Partner:
        return info.context.loader(PartnerByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.partner_pk, Partner.from_row)

    @strawberry.field(description="Its on-time, acceptance and review-outcome figures over the offers made to it in "
                      "the last 365 days (null when it had none).")
    def performance(self) -> FirmPerformance | None:
        return FirmPerformance.from_figures(self.figures) if self.figures is not None else None


def investigations_of_claim(ctx: Context, claim_pk: int, first: int | None, after: str | None, last: int | None,
                            before: str | None) -> Any:
    """``Claim.investigations``: a claim's investigations through their one loader, paged in memory (staff)."""
    return loaded_connection(ctx.loader(InvestigationsByClaimIdLoader).get(claim_pk),
                             page_request(first, after, last, before, ctx.settings), Investigation.from_row)


def investigation_of_survey(ctx: Context, signed_record_pk: int) -> Any:
    """``SignedRecord.investigation``: the investigation a SurveyReport closed (the record's readers are scoped)."""
    return ctx.loader(InvestigationBySurveyRecordIdLoader).get_wrapped(signed_record_pk, Investigation.from_row)
