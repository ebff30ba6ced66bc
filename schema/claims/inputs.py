"""GraphQL input types of the claims domain: queue filters and mutation inputs."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from resolvers.claims import models as m
from schema.claims.enums import ClaimChannel, ClaimState, DocumentKind, RiskLevel
from schema.partners.inputs import TYPED_DATA_DESCRIPTION
from schema.scalars import Money

__all__ = [
    "ClaimActionInput",
    "ClaimQueueFilter",
    "DirectBillInput",
    "LineItemInput",
    "OriginalReceivedInput",
    "PayClaimInput",
    "ReportClaimInput",
    "RequestDocumentInput",
    "SetLineItemsInput",
    "TransitionClaimInput",
]

_CLAIM_ID = "The claim's global id."
_EXPECTED_VERSION = ("The claim's version as last read (Claim.version): refused as STALE_VERSION when the claim "
                     "moved on since; null: no check.")


@strawberry.input(description="Queue filters (all optional, combined with AND).")
class ClaimQueueFilter:
    states: list[ClaimState] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only claims in one of these states.")
    risk_levels: list[RiskLevel] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only claims rated at one of these levels (staff and auditors; claims not yet "
        "rated never match).")
    min_amount: Money | None = strawberry.field(default=None, description="Only claims of at least this claimed "
                                                "amount.")
    max_amount: Money | None = strawberry.field(default=None, description="Only claims of at most this claimed "
                                                "amount.")
    sla_breached: bool = strawberry.field(default=False, description="Only claims past their SLA due time.")
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="Only claims of this customer "
                                                         "(a Customer's global id).")
    min_age_days: int | None = strawberry.field(default=None, description="Only claims reported at least this many "
                                                "days ago (0-3650).")
    max_age_days: int | None = strawberry.field(default=None, description="Only claims reported at most this many "
                                                "days ago (0-3650).")
    assigned_to: str | None = strawberry.field(default=None, description="Only claims assigned to this staff member "
                                               "(their subject; staff and auditors).")
    assigned_to_me: bool = strawberry.field(default=False, description="Only claims assigned to the caller (staff).")
    unassigned: bool = strawberry.field(default=False, description="Only claims assigned to nobody (staff and "
                                        "auditors).")


@strawberry.input(description="One structured invoice line.")
class LineItemInput:
    item_code: str = strawberry.field(description="The hospital's item code: 1-40 letters, digits, '.', '_' or '-'.")
    category: str = strawberry.field(description="The coverage category billed (see ClaimLineItem.category): 1-40 "
                                     "letters, digits, '.', '_' or '-', stored lower case.")
    amount: Money = strawberry.field(description="Line total, more than 0 and at most 10,000,000.")
    quantity: int = strawberry.field(default=1, description="Units billed, 1-10000.")
    description: str = strawberry.field(default="", description="The hospital's wording (cut at 200 characters).")


@strawberry.input(description="First notice of loss. Line items are optional here (at most 200; then they must "
                  "add up to claimedAmount); enter them later with setClaimLineItems.")
class ReportClaimInput:
    policy_id: strawberry.ID = strawberry.field(description="The Policy's global id (customers: one of their own).")
    event_date: dt.date = strawberry.field(description="When the illness or accident happened: within the last 3 "
                                           "years, not after discharge, not in the future.")
    admission_date: dt.date = strawberry.field(description="Hospital admission date, not after discharge.")
    discharge_date: dt.date = strawberry.field(description="Hospital discharge date, not in the future.")
    hospital: str = strawberry.field(description="The hospital's name, 2-200 characters.")
    diagnosis_code: str = strawberry.field(description="ICD-10 code, checked against the WHO list.")
    claimed_amount: Money = strawberry.field(description="Amount claimed, more than 0 and at most 10,000,000.")
    channel: ClaimChannel = strawberry.field(  # type: ignore[valid-type]
        default=m.ClaimChannel.APP, description="Where the claim is reported (DIRECT_BILLING only through "
        "submitDirectBill).")
    items: list[LineItemInput] | None = strawberry.field(default=None, description="The invoice lines, if known "
                                                         "(customer app and hospitals only).")


@strawberry.input(description="Which claim a step applies to.")
class ClaimActionInput:
    claim_id: strawberry.ID = strawberry.field(description=_CLAIM_ID)
    expected_version: int | None = strawberry.field(default=None, description=_EXPECTED_VERSION)
    note: str = strawberry.field(default="", description="adjudicateClaim: the adjuster's note, for staff only "
                                 "(cut at 500 characters); ignored by submitClaim.")


@strawberry.input(description="A claim's structured invoice lines.")
class SetLineItemsInput:
    claim_id: strawberry.ID = strawberry.field(description=_CLAIM_ID)
    items: list[LineItemInput] = strawberry.field(description="1-200 lines adding up to the claimed amount.")
    expected_version: int | None = strawberry.field(default=None, description=_EXPECTED_VERSION)


@strawberry.input(description="A staff move of a claim.")
class TransitionClaimInput:
    claim_id: strawberry.ID = strawberry.field(description=_CLAIM_ID)
    to: ClaimState = strawberry.field(description="The target state: a legal move from the current one, not "  # type: ignore[valid-type]
                                      "APPROVED, PARTIALLY_APPROVED, PAID or SUBMITTED.")
    reason: str = strawberry.field(description="Why, for staff only (required; cut at 2,000 characters).")
    expected_version: int | None = strawberry.field(default=None, description=_EXPECTED_VERSION)


@strawberry.input(description="Which claim to pay, and the key that makes retries safe.")
class PayClaimInput:
    claim_id: strawberry.ID = strawberry.field(description=_CLAIM_ID)
    idempotency_key: str = strawberry.field(description="8-80 of letters, digits and . _ : -; a retry with the "
                                            "same key is a no-op.")


@strawberry.input(description="A request for a supplementary document.")
class RequestDocumentInput:
    claim_id: strawberry.ID = strawberry.field(description=_CLAIM_ID)
    kind: DocumentKind = strawberry.field(description="The kind of document asked for.")  # type: ignore[valid-type]
    due_on: dt.date = strawberry.field(description="Due date: after today, within 90 days.")
    note: str = strawberry.field(default="", description="What is asked for, shown to the claimant (cut at 500 "
                                 "characters).")


@strawberry.input(description="A document's paper original, received by post.")
class OriginalReceivedInput:
    document_id: strawberry.ID = strawberry.field(description="The ClaimDocument's global id.")
    received_on: dt.date = strawberry.field(description="When it arrived (not in the future).")
    tracking_number: str | None = strawberry.field(default=None, description="The post's tracking number (cut at "
                                                   "64 characters).")


@strawberry.input(description="A hospital's EIP-712 signed HospitalBill plus its line items (direct billing).")
class DirectBillInput:
    typed_data: JSON = strawberry.field(description=TYPED_DATA_DESCRIPTION + " Here primaryType is HospitalBill; "
                                        "its caseReference is the policy number the hospital is assigned to.")
    signature: str = strawberry.field(description="The 65-byte signature, 0x + 130 hex digits (low-s).")
    admission_date: dt.date = strawberry.field(description="Hospital admission date (the claim's event date), not "
                                               "after discharge.")
    discharge_date: dt.date = strawberry.field(description="Hospital discharge date, not in the future.")
    diagnosis_code: str = strawberry.field(description="ICD-10 code, checked against the WHO list.")
    items: list[LineItemInput] = strawberry.field(description="1-200 lines; they must hash to the bill's "
                                                  "itemsCommitment and add up to its amountFen.")
    hospital_name: str | None = strawberry.field(
        default=None, deprecation_reason="Ignored: the claim carries the hospital's registered name.",
        description="Ignored (the claim carries the hospital's registered name).")
