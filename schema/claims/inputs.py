"""GraphQL input types of the claims domain: queue filters and mutation inputs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from resolvers.claims import models as m
from schema.claims.enums import ClaimChannel, ClaimState, DocumentKind, RiskLevel

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


@strawberry.input(description="Queue filters (all optional, combined with AND).")
class ClaimQueueFilter:
    states: list[ClaimState] | None = None  # type: ignore[valid-type]
    risk_levels: list[RiskLevel] | None = None  # type: ignore[valid-type]
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    sla_breached: bool = strawberry.field(default=False, description="Only claims past their SLA due time.")


@strawberry.input(description="One structured invoice line.")
class LineItemInput:
    item_code: str
    category: str = strawberry.field(description="A coverage category of the product, e.g. inpatient.")
    amount: Decimal = strawberry.field(description="Line total (two decimals).")
    quantity: int = 1
    description: str = ""


@strawberry.input(description="First notice of loss. Line items optional here (max 200); they must add up.")
class ReportClaimInput:
    policy_id: strawberry.ID
    event_date: dt.date
    admission_date: dt.date
    discharge_date: dt.date
    hospital: str
    diagnosis_code: str = strawberry.field(description="ICD-10 code, checked against the WHO list.")
    claimed_amount: Decimal
    channel: ClaimChannel = m.ClaimChannel.APP  # type: ignore[valid-type]
    items: list[LineItemInput] | None = None


@strawberry.input
class ClaimActionInput:
    claim_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description="Refused when the claim moved on.")
    note: str = ""


@strawberry.input
class SetLineItemsInput:
    claim_id: strawberry.ID
    items: list[LineItemInput]
    expected_version: int | None = None


@strawberry.input
class TransitionClaimInput:
    claim_id: strawberry.ID
    to: ClaimState  # type: ignore[valid-type]
    reason: str
    expected_version: int | None = None


@strawberry.input
class PayClaimInput:
    claim_id: strawberry.ID
    idempotency_key: str = strawberry.field(description="8-80 characters; a retry with the same key is a no-op.")


@strawberry.input
class RequestDocumentInput:
    claim_id: strawberry.ID
    kind: DocumentKind  # type: ignore[valid-type]
    due_on: dt.date
    note: str = ""


@strawberry.input
class OriginalReceivedInput:
    document_id: strawberry.ID
    received_on: dt.date
    tracking_number: str | None = None


@strawberry.input(description="A hospital's EIP-712 signed HospitalBill plus its line items (direct billing).")
class DirectBillInput:
    typed_data: JSON
    signature: str
    admission_date: dt.date
    discharge_date: dt.date
    diagnosis_code: str
    items: list[LineItemInput] = strawberry.field(description="Must hash to the bill's itemsCommitment.")
    hospital_name: str | None = strawberry.field(
        default=None, deprecation_reason="Ignored: the claim carries the hospital's registered name.")
