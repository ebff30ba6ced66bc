"""GraphQL input types of the partners domain's mutations."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from schema.partners.enums import AssignmentKind, PartnerKind

__all__ = [
    "AddPartnerDocumentInput",
    "AddPartnerLicenceInput",
    "CreateAssignmentInput",
    "CreatePartnerClientInput",
    "DocumentInput",
    "LicenceInput",
    "PartnerReviewInput",
    "PublishRiskFlagInput",
    "RegisterPartnerInput",
    "RegisterSignerKeyInput",
    "RegisterWebhookEndpointInput",
    "RevokeSignerKeyInput",
    "RotateSignerKeyInput",
    "SignedRecordInput",
]


@strawberry.input
class LicenceInput:
    number: str
    issuer: str
    valid_from: dt.date
    valid_until: dt.date


@strawberry.input
class DocumentInput:
    kind: str
    name: str
    sha256: str = strawberry.field(description="SHA-256 of the document's content, hex.")
    size: int


@strawberry.input(description="Submit a partner for qualification review.")
class RegisterPartnerInput:
    code: str = strawberry.field(description="2-40 of A-Z, 0-9 and '-'.")
    name: str
    kind: PartnerKind  # type: ignore[valid-type]
    licences: list[LicenceInput] = strawberry.field(default_factory=list, description="At most 20.")
    documents: list[DocumentInput] = strawberry.field(default_factory=list, description="At most 50.")


@strawberry.input
class AddPartnerLicenceInput:
    partner_id: strawberry.ID
    licence: LicenceInput


@strawberry.input
class AddPartnerDocumentInput:
    partner_id: strawberry.ID | None = None
    document: DocumentInput


@strawberry.input(description="A review step on a partner.")
class PartnerReviewInput:
    partner_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description="Refused when the partner moved on.")
    reason: str | None = strawberry.field(default=None, description="Required to reject or suspend.")


@strawberry.input
class RegisterSignerKeyInput:
    address: str
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="Default: the calling partner.")
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None


@strawberry.input(description="Rotate: the new key is valid from validFrom, the old one until oldValidUntil.")
class RotateSignerKeyInput:
    key_id: strawberry.ID
    new_address: str
    valid_from: dt.datetime | None = None
    old_valid_until: dt.datetime | None = None


@strawberry.input(description="Revoke at once, or from an earlier instant for a compromised key.")
class RevokeSignerKeyInput:
    key_id: strawberry.ID
    reason: str
    effective_at: dt.datetime | None = None


@strawberry.input
class CreatePartnerClientInput:
    partner_id: strawberry.ID
    label: str


@strawberry.input
class CreateAssignmentInput:
    partner_id: strawberry.ID
    kind: AssignmentKind  # type: ignore[valid-type]
    case_reference: str
    investigation_id: str | None = strawberry.field(default=None, description="Decimal; surveys only.")


@strawberry.input(description="An EIP-712 signed record: {types, primaryType, domain, message} and its signature.")
class SignedRecordInput:
    typed_data: JSON
    signature: str = strawberry.field(description="0x + 65 bytes hex (r, s, v), low-s.")


@strawberry.input
class PublishRiskFlagInput:
    blinded_id: str = strawberry.field(description="HMAC-SHA256(consortium key, normalised ID number), hex.")
    flag_code: str
    level: str = strawberry.field(description="low, medium or high.")
    evidence_commitment: str | None = None


@strawberry.input
class RegisterWebhookEndpointInput:
    url: str
    events: list[str] = strawberry.field(default_factory=list, description="Default: every event.")
    partner_id: strawberry.ID | None = None
