"""Input types of the investigations domain's mutations (each field's description says its limits)."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.investigations.enums import (
    FirmQualificationDecision,
    FirmSuspensionReason,
    InvestigationCheck,
    InvestigationDeclineReason,
    InvestigationEventKind,
    InvestigationReviewOutcome,
)
from schema.partners.inputs import LicenceInput, SignedRecordInput

__all__ = ["AssignInvestigationInput", "DeclineInvestigationOfferInput", "InvestigationFilter",
           "InvestigationOfferActionInput", "RecordInvestigationEventInput", "RequestInvestigationInput",
           "ReviewFirmQualificationInput", "ReviewInvestigationInput", "SetAssessorFirmProfileInput",
           "SubmitSurveyReportInput"]

_VERSION = "The version last read (optional): a newer one refuses with STALE_VERSION."
_INVESTIGATION = "The Investigation's global id."
_TEXT = "Free text, at most 4,000 characters; may name people (sealed at rest, shown to adjusters and the firm)."


@strawberry.input(description="Ask for an investigation of a claim.")
class RequestInvestigationInput:
    claim_id: strawberry.ID = strawberry.field(description="The Claim's global id; the claim moves to INVESTIGATING.")
    checks: list[InvestigationCheck] = strawberry.field(  # type: ignore[valid-type]
        description="What to check (at least one).")
    instructions: str | None = strawberry.field(default=None, description=f"Instructions for the firm. {_TEXT}")
    region: str | None = strawberry.field(default=None, description="Where the work is: a 6-digit GB/T 2260 "
                                                                    "region code (null: any region).")
    report_due_on: dt.date | None = strawberry.field(
        default=None, description="The report's due date (after today; the default is 10 business days on).")


@strawberry.input(description="Offer an investigation to a firm, or reassign it.")
class AssignInvestigationInput:
    investigation_id: strawberry.ID = strawberry.field(description=_INVESTIGATION)
    firm_id: strawberry.ID | None = strawberry.field(
        default=None, description="The firm's Partner global id; null: auto-assignment picks the best approved firm "
                                  "of the region with room. Naming a firm for an assigned investigation reassigns it.")
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)


@strawberry.input(description="Accept an offer (the firm).")
class InvestigationOfferActionInput:
    offer_id: strawberry.ID = strawberry.field(description="The InvestigationOffer's global id.")


@strawberry.input(description="Decline an offer (the firm), with a reason code.")
class DeclineInvestigationOfferInput:
    offer_id: strawberry.ID = strawberry.field(description="The InvestigationOffer's global id.")
    reason: InvestigationDeclineReason = strawberry.field(description="Why.")  # type: ignore[valid-type]


@strawberry.input(description="An investigator's trail event.")
class RecordInvestigationEventInput:
    investigation_id: strawberry.ID = strawberry.field(description=_INVESTIGATION)
    kind: InvestigationEventKind = strawberry.field(description="What it records.")  # type: ignore[valid-type]
    occurred_at: dt.datetime = strawberry.field(description="When it happened (not in the future).")
    note: str | None = strawberry.field(default=None, description=f"The investigator's note. {_TEXT} The ledger "
                                                                  "gets its SHA-256 only.")
    finding: str | None = strawberry.field(default=None, description="A finding's code, required for FINDING: 2-40 of "
                                                                     "A-Z, 0-9 and _, starting with a letter.")


@strawberry.input(description="The firm's signed SurveyReport for its live offer of an investigation.")
class SubmitSurveyReportInput:
    investigation_id: strawberry.ID = strawberry.field(description=_INVESTIGATION)
    record: SignedRecordInput = strawberry.field(description="The EIP-712 SurveyReport and its signature: "
                                                             "investigationId is the live offer's "
                                                             "signedInvestigationId, caseReference the "
                                                             "investigation's reference.")


@strawberry.input(description="The adjuster's review of a survey report.")
class ReviewInvestigationInput:
    investigation_id: strawberry.ID = strawberry.field(description=_INVESTIGATION)
    outcome: InvestigationReviewOutcome = strawberry.field(description="Accept, ask for more, or reject.")  # type: ignore[valid-type]
    note: str | None = strawberry.field(default=None, description=f"A note to the firm. {_TEXT}")
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)


@strawberry.input(description="What auto-assignment knows of an assessor firm.")
class SetAssessorFirmProfileInput:
    firm_id: strawberry.ID = strawberry.field(description="The assessor firm's Partner global id.")
    regions: list[str] = strawberry.field(description="1-100 GB/T 2260 region codes (6 digits) it works in.")
    capacity: int = strawberry.field(description="Most investigations it holds at once: 1-10,000.")
    quality_score: float = strawberry.field(description="0-100.")


@strawberry.input(description="A claims manager's decision on an assessor firm's qualification.")
class ReviewFirmQualificationInput:
    firm_id: strawberry.ID = strawberry.field(description="The assessor firm's Partner global id.")
    decision: FirmQualificationDecision = strawberry.field(description="Renew or suspend.")  # type: ignore[valid-type]
    licence: LicenceInput | None = strawberry.field(
        default=None, description="RENEW: the renewed licence, its validUntil the new expiry (after today). Needed "
        "for an approved or expired firm; optional for one pending review or suspended that holds a valid licence.")
    suspension_reason: FirmSuspensionReason | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="SUSPEND: why (required).")
    expected_version: int | None = strawberry.field(
        default=None, description="The Partner's version last read (optional): a newer one refuses with "
        "STALE_VERSION.")


@strawberry.input(description="Which investigations to list.")
class InvestigationFilter:
    states: list[InvestigationState] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only these states (all when null).")
    claim_id: strawberry.ID | None = strawberry.field(default=None, description="Only this Claim's.")
    firm_id: strawberry.ID | None = strawberry.field(default=None, description="Only those whose live offer is this "
                                                                               "firm's (Partner global id).")
    escalated: bool | None = strawberry.field(default=None, description="true: only open ones that missed an SLA.")


from schema.investigations.enums import InvestigationState  # noqa: E402
