"""GraphQL input types of the partners domain's mutations."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from schema.partners.enums import AssignmentKind, PartnerDocumentKind, PartnerKind, RiskLevel, WebhookEvent

__all__ = [
    "TYPED_DATA_DESCRIPTION",
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

#: How every ``typedData`` input is described (signed records here, direct bills in claims).
TYPED_DATA_DESCRIPTION = (
    "The EIP-712 typed data exactly as signed: {types, primaryType, domain, message}, the object ethers' "
    "signTypedData and eth-account's encode_typed_data(full_message=...) take; free-form by nature: it is "
    "hashed as given, so it travels as the signer's JSON; it is then checked against the published "
    "partnerSigningDomain (types, domain) and refused as MALFORMED, WRONG_DOMAIN, WRONG_CHAIN or WRONG_CONTRACT "
    "when it differs. uint256 values may be JSON numbers, decimal strings or 0x hex strings."
)
_PARTNER_ID = "The Partner's global id."
_OWN_PARTNER = "The Partner's global id; a partner may name only itself (default: the calling partner)."
_INSTANT = "An instant with a time zone (e.g. 2026-06-01T00:00:00Z)"


@strawberry.input(description="A licence the partner holds.")
class LicenceInput:
    number: str = strawberry.field(description="The licence number, 1-64 characters; unique per partner.")
    issuer: str = strawberry.field(description="The issuing authority, 1-200 characters.")
    valid_from: dt.date = strawberry.field(description="First day of validity (YYYY-MM-DD).")
    valid_until: dt.date = strawberry.field(description="Last day of validity (YYYY-MM-DD), not before validFrom.")


@strawberry.input(description="A qualification document, recorded by the SHA-256 of its content.")
class DocumentInput:
    kind: PartnerDocumentKind = strawberry.field(description="What the document is.")  # type: ignore[valid-type]
    name: str = strawberry.field(description="The file name, 1-200 characters.")
    sha256: str = strawberry.field(description="SHA-256 of the document's content, 64 hex characters.")
    size: int = strawberry.field(description="Size in bytes (not negative).")


@strawberry.input(description="Submit a partner for qualification review.")
class RegisterPartnerInput:
    code: str = strawberry.field(description="Unique code: 2-40 of A-Z, 0-9 and '-' (upper-cased).")
    name: str = strawberry.field(description="The institution's name, 1-200 characters.")
    kind: PartnerKind = strawberry.field(description="What it does for Opsure.")  # type: ignore[valid-type]
    licences: list[LicenceInput] = strawberry.field(
        default_factory=list, description="At most 20; approval needs one valid on the day of approval.")
    documents: list[DocumentInput] = strawberry.field(default_factory=list, description="At most 50.")


@strawberry.input(description="Record a new or renewed licence of a partner.")
class AddPartnerLicenceInput:
    partner_id: strawberry.ID = strawberry.field(description=_PARTNER_ID)
    licence: LicenceInput = strawberry.field(description="The licence.")


@strawberry.input(description="Record a qualification document of a partner.")
class AddPartnerDocumentInput:
    partner_id: strawberry.ID | None = strawberry.field(default=None, description=_OWN_PARTNER)
    document: DocumentInput = strawberry.field(description="The document.")


@strawberry.input(description="A review step on a partner.")
class PartnerReviewInput:
    partner_id: strawberry.ID = strawberry.field(description=_PARTNER_ID)
    expected_version: int | None = strawberry.field(
        default=None, description="The Partner.version you read; refused (STALE_VERSION) when it moved on.")
    reason: str | None = strawberry.field(
        default=None, description="Required to reject or suspend; a note when approving or resubmitting. Shown to "
                                  "the partner as its statusReason: write it for them.")


@strawberry.input(description="Register a signer address of a partner.")
class RegisterSignerKeyInput:
    address: str = strawberry.field(description="The EVM address (0x + 40 hex; any case); one partner, once.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description=_OWN_PARTNER)
    valid_from: dt.datetime | None = strawberry.field(default=None, description=f"{_INSTANT}; default: now.")
    valid_until: dt.datetime | None = strawberry.field(default=None,
                                                       description=f"{_INSTANT}; default: open-ended.")


@strawberry.input(description="Rotate: the new key is valid from validFrom, the old one until oldValidUntil.")
class RotateSignerKeyInput:
    key_id: strawberry.ID = strawberry.field(description="The live SignerKey to rotate (global id).")
    new_address: str = strawberry.field(description="The new key's address (0x + 40 hex).")
    valid_from: dt.datetime | None = strawberry.field(default=None, description=f"{_INSTANT}; default: now.")
    old_valid_until: dt.datetime | None = strawberry.field(
        default=None, description=f"{_INSTANT}, not in the past; default: the new key's validFrom.")


@strawberry.input(description="Revoke at once, or from an earlier instant for a compromised key.")
class RevokeSignerKeyInput:
    key_id: strawberry.ID = strawberry.field(description="The SignerKey (global id).")
    reason: str = strawberry.field(description="Why (required); shown to the partner as revokedReason.")
    effective_at: dt.datetime | None = strawberry.field(
        default=None, description=f"{_INSTANT}, not in the future; default: now.")


@strawberry.input(description="Create client credentials for a partner.")
class CreatePartnerClientInput:
    partner_id: strawberry.ID = strawberry.field(description=_PARTNER_ID)
    label: str = strawberry.field(description="What the credentials are for, 1-200 characters.")


@strawberry.input(description="Assign an approved partner to a case.")
class CreateAssignmentInput:
    partner_id: strawberry.ID = strawberry.field(description=_PARTNER_ID + " Its kind must fit the work.")
    kind: AssignmentKind = strawberry.field(description="The work.")  # type: ignore[valid-type]
    case_reference: str = strawberry.field(description="The case: 1-64 of letters, digits and . _ / -.")
    investigation_id: str | None = strawberry.field(
        default=None, description="Surveys only (required there): the investigation, a positive decimal number "
                                  "(signed as uint256).")


@strawberry.input(description="An EIP-712 signed record: the typed data and its signature.")
class SignedRecordInput:
    typed_data: JSON = strawberry.field(description=TYPED_DATA_DESCRIPTION)
    signature: str = strawberry.field(description="0x + 65 bytes hex (r, s, v; v in 27/28 or 0/1), low-s.")


@strawberry.input(description="A risk flag about a blinded person id.")
class PublishRiskFlagInput:
    blinded_id: str = strawberry.field(description="HMAC-SHA256(consortium key, normalised ID number), 64 hex.")
    flag_code: str = strawberry.field(description="2-40 of A-Z, 0-9 and _ (upper-cased), e.g. STAGED_ACCIDENT.")
    level: RiskLevel = strawberry.field(description="How serious.")  # type: ignore[valid-type]
    evidence_commitment: str | None = strawberry.field(
        default=None, description="A commitment to your evidence (0x + 64 hex), kept in the anchored body.")


@strawberry.input(description="A webhook endpoint to add (at most 10 active per partner).")
class RegisterWebhookEndpointInput:
    url: str = strawberry.field(description="https URL on a public host (no credentials, no private address).")
    events: list[WebhookEvent] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="The events to receive; default (empty): every event.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description=_OWN_PARTNER)
