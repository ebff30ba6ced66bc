"""GraphQL object types of the partners domain: registry, keys, assignments, signed records, risk
flags, webhooks, client credentials."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.roles import INTERNAL, MANAGERS, PARTNER_READERS, PARTNER_SELF_SERVICE, RISK_FLAG_READERS, STAFF
from ledger import service as ledger_service
from partners import keys
from partners import models as m
from schema.context import Context
from schema.partners.arguments import aware, gid
from schema.partners.enums import (
    AssignmentKind,
    PartnerKind,
    PartnerStatus,
    SignerKeyStatus,
    WebhookDeliveryStatus,
)
from schema.partners.loaders import (
    AssignmentByIdLoader,
    DocumentsByPartnerIdLoader,
    KeysByPartnerIdLoader,
    LicencesByPartnerIdLoader,
    PartnerByIdLoader,
    ReviewEventsByPartnerIdLoader,
)
from schema.permissions import access, allow
from schema.relay import Edge, PageInfo

__all__ = [
    "Assignment",
    "AssignmentConnection",
    "DisclosureVerdict",
    "Partner",
    "PartnerClientCredential",
    "PartnerConnection",
    "PartnerDocument",
    "PartnerLicence",
    "PartnerReviewEvent",
    "RecordDisclosure",
    "RiskFlag",
    "RiskFlagPublisher",
    "SignedRecord",
    "SignedRecordConnection",
    "SignerKey",
    "SigningDomain",
    "WebhookDelivery",
    "WebhookDeliveryConnection",
    "WebhookEndpoint",
]


@strawberry.type(description="A licence a partner holds.")
@access(PARTNER_READERS)
class PartnerLicence:
    number: str
    issuer: str
    valid_from: dt.date
    valid_until: dt.date

    @classmethod
    def from_row(cls, row: m.PartnerLicence) -> PartnerLicence:
        return cls(number=row.number, issuer=row.issuer, valid_from=row.valid_from, valid_until=row.valid_until)


@strawberry.type(description="A qualification document, identified by the SHA-256 of its content.")
@access(PARTNER_READERS)
class PartnerDocument:
    kind: str
    name: str
    sha256: str
    size: int
    uploaded_at: dt.datetime

    @classmethod
    def from_row(cls, row: m.PartnerDocument) -> PartnerDocument:
        return cls(kind=row.kind, name=row.name, sha256=row.sha256, size=row.size, uploaded_at=row.uploaded_at)


@strawberry.type(description="One step of a partner's qualification review.")
@access(PARTNER_READERS)
class PartnerReviewEvent:
    from_status: PartnerStatus | None  # type: ignore[valid-type]
    to_status: PartnerStatus  # type: ignore[valid-type]
    reason: str | None
    at: dt.datetime
    actor: str = strawberry.field(metadata=allow(INTERNAL))

    @classmethod
    def from_row(cls, row: m.PartnerReviewEvent) -> PartnerReviewEvent:
        return cls(from_status=row.from_status, to_status=row.to_status, reason=row.reason, at=row.at,
                   actor=row.actor)


@strawberry.type(description="An address a partner signs records with; history is kept.")
@access(PARTNER_READERS)
class SignerKey:
    id: strawberry.ID
    address: str = strawberry.field(description="Lowercase 0x address.")
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_reason: str | None
    rotated_from: strawberry.ID | None
    row: strawberry.Private[m.SignerKey]

    @classmethod
    def from_row(cls, row: m.SignerKey) -> SignerKey:
        return cls(id=gid("SignerKey", row.id), address=row.address, valid_from=row.valid_from,
                   valid_until=row.valid_until, revoked_at=row.revoked_at, revoked_reason=row.revoked_reason,
                   rotated_from=gid("SignerKey", row.rotated_from_id) if row.rotated_from_id else None, row=row)

    @strawberry.field(description="Status now, or at the given instant.")
    def status(self, info: Info[Context, Any], at: dt.datetime | None = None) -> SignerKeyStatus:  # type: ignore[valid-type]
        return keys.key_status(self.row, aware(at, "at") or info.context.now())


@strawberry.type(description="A partner institution: insurer, assessor firm, hospital or credit provider.")
@access(PARTNER_READERS)
class Partner:
    id: strawberry.ID
    code: str
    name: str
    kind: PartnerKind  # type: ignore[valid-type]
    status: PartnerStatus  # type: ignore[valid-type]
    status_reason: str | None
    submitted_at: dt.datetime
    decided_at: dt.datetime | None
    version: int = strawberry.field(description="Optimistic-locking version; send it back as expectedVersion.")
    submitted_by: str = strawberry.field(metadata=allow(INTERNAL))
    reviewer: str | None = strawberry.field(metadata=allow(INTERNAL))
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Partner) -> Partner:
        return cls(id=gid("Partner", row.id), pk=row.id, code=row.code, name=row.name, kind=row.kind,
                   status=row.status, status_reason=row.status_reason, submitted_at=row.submitted_at,
                   decided_at=row.decided_at, version=row.version, submitted_by=row.submitted_by,
                   reviewer=row.reviewer)

    @strawberry.field(description="Licences, oldest first.")
    def licences(self, info: Info[Context, Any]) -> list[PartnerLicence]:
        return info.context.loader(LicencesByPartnerIdLoader).get_wrapped(self.pk, PartnerLicence.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="Qualification documents, oldest first.")
    def documents(self, info: Info[Context, Any]) -> list[PartnerDocument]:
        return info.context.loader(DocumentsByPartnerIdLoader).get_wrapped(self.pk, PartnerDocument.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="The review trail, oldest first.")
    def review_events(self, info: Info[Context, Any]) -> list[PartnerReviewEvent]:
        return info.context.loader(ReviewEventsByPartnerIdLoader).get_wrapped(self.pk, PartnerReviewEvent.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="Signer keys, current and past, oldest first.")
    def signer_keys(self, info: Info[Context, Any]) -> list[SignerKey]:
        return info.context.loader(KeysByPartnerIdLoader).get_wrapped(self.pk, SignerKey.from_row)  # type: ignore[no-any-return]


def _partner_of(ctx: Context, partner_id: int) -> Any:
    return ctx.loader(PartnerByIdLoader).get_wrapped(partner_id, Partner.from_row)


@strawberry.type(description="A partner assigned to a case (a survey: to one investigation).")
@access(PARTNER_READERS)
class Assignment:
    id: strawberry.ID
    kind: AssignmentKind  # type: ignore[valid-type]
    case_reference: str
    investigation_id: str | None = strawberry.field(description="Decimal uint (signed as uint256).")
    active: bool
    created_at: dt.datetime
    partner_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Assignment) -> Assignment:
        return cls(id=gid("Assignment", row.id), kind=row.kind, case_reference=row.case_reference,
                   investigation_id=None if row.investigation_id is None else str(row.investigation_id),
                   active=row.active, created_at=row.created_at, partner_pk=row.partner_id)

    @strawberry.field(description="The assigned partner.")
    def partner(self, info: Info[Context, Any]) -> Partner:
        return _partner_of(info.context, self.partner_pk)  # type: ignore[no-any-return]


@strawberry.type(description="An accepted EIP-712 signed record, its signature and its ledger proof.")
@access(PARTNER_READERS)
class SignedRecord:
    id: strawberry.ID
    primary_type: str = strawberry.field(description="SurveyReport, HospitalBill or CreditReport.")
    signer: str
    nonce: str
    deadline: str
    digest: str = strawberry.field(description="The EIP-712 digest that was signed.")
    signature: str = strawberry.field(description="65 bytes r, s, v (v in 27/28), low-s.")
    message: JSON = strawberry.field(description="The typed message (uint256 as decimal strings).")
    chain_id: str
    verifying_contract: str
    commitment: str = strawberry.field(description="The ledger commitment anchored on chain.")
    received_at: dt.datetime
    assignment_pk: strawberry.Private[int]
    ledger_record_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.SignedRecord) -> SignedRecord:
        return cls(id=gid("SignedRecord", row.id), primary_type=row.primary_type, signer=row.signer,
                   nonce=row.nonce, deadline=row.deadline, digest=row.digest, signature=row.signature,
                   message=JSON(json.loads(row.message)), chain_id=str(row.chain_id),
                   verifying_contract=row.verifying_contract, commitment=row.commitment,
                   received_at=row.received_at, assignment_pk=row.assignment_id,
                   ledger_record_pk=row.ledger_record_id)

    @strawberry.field(description="The case this record answers.")
    def assignment(self, info: Info[Context, Any]) -> Assignment:
        return info.context.loader(AssignmentByIdLoader).get_wrapped(self.assignment_pk, Assignment.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="The ledger proof bundle (status pending until anchored).")
    def proof(self, info: Info[Context, Any]) -> JSON:
        return JSON(ledger_service.proof_bundle(info.context.session, record_id=self.ledger_record_pk))


@strawberry.type(description="Who published a risk flag.")
@access(RISK_FLAG_READERS)
class RiskFlagPublisher:
    code: str
    name: str


@strawberry.type(description="A risk flag about a blinded person id, with its publisher and ledger proof.")
@access(RISK_FLAG_READERS)
class RiskFlag:
    id: strawberry.ID
    blinded_id: str
    flag_code: str
    level: str
    evidence_commitment: str | None
    commitment: str
    published_at: dt.datetime
    publisher_pk: strawberry.Private[int]
    ledger_record_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.RiskFlag) -> RiskFlag:
        return cls(id=gid("RiskFlag", row.id), blinded_id=row.blinded_id, flag_code=row.flag_code,
                   level=row.level, evidence_commitment=row.evidence_commitment, commitment=row.commitment,
                   published_at=row.published_at, publisher_pk=row.publisher_id,
                   ledger_record_pk=row.ledger_record_id)

    @strawberry.field(description="The publishing insurer.")
    async def publisher(self, info: Info[Context, Any]) -> RiskFlagPublisher:
        row = await info.context.loader(PartnerByIdLoader).load(self.publisher_pk)
        return RiskFlagPublisher(code=row.code, name=row.name)

    @strawberry.field(description="The ledger proof bundle of the flag's commitment.")
    def proof(self, info: Info[Context, Any]) -> JSON:
        return JSON(ledger_service.proof_bundle(info.context.session, record_id=self.ledger_record_pk))


@strawberry.type(description="A record's body and salt, disclosed by its holder, with its proof.")
@access(RISK_FLAG_READERS)
class RecordDisclosure:
    body: JSON
    salt: str
    commitment: str
    proof: JSON


@strawberry.type(description="Whether a disclosed body and salt give an anchored commitment.")
@access(RISK_FLAG_READERS)
class DisclosureVerdict:
    matches: bool
    anchored: bool
    kind: str | None
    proof: JSON | None


@strawberry.type(description="The EIP-712 domain and types partners sign records with.")
@access(PARTNER_READERS)
class SigningDomain:
    name: str
    version: str
    chain_id: str = strawberry.field(description="Decimal (uint256).")
    verifying_contract: str
    types: JSON = strawberry.field(description="The record types, as ethers' signTypedData takes them.")


@strawberry.type(description="An endpoint a partner receives webhooks at.")
@access(PARTNER_SELF_SERVICE)
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    events: list[str]
    active: bool
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: m.WebhookEndpoint) -> WebhookEndpoint:
        return cls(id=gid("WebhookEndpoint", row.id), url=row.url, events=list(row.events or ()),
                   active=row.active, created_at=row.created_at)


@strawberry.type(description="One webhook delivery and its outcome so far.")
@access(PARTNER_SELF_SERVICE)
class WebhookDelivery:
    id: strawberry.ID
    delivery_id: int = strawberry.field(description="The Opsure-Delivery header value.")
    event: str
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None = strawberry.field(description="The HTTP status the endpoint answered with.")
    last_error: str | None = strawberry.field(
        description="HTTP_STATUS (see lastStatusCode), DELIVERY_FAILED (no answer) or ENDPOINT_DEACTIVATED.")
    last_error_detail: str | None = strawberry.field(
        description="What went wrong at the connection level (staff only).", metadata=allow(STAFF))
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    data: JSON

    @classmethod
    def from_row(cls, row: m.WebhookDelivery) -> WebhookDelivery:
        return cls(id=gid("WebhookDelivery", row.id), delivery_id=row.id, event=row.event, status=row.status,
                   attempts=row.attempts, next_attempt_at=row.next_attempt_at,
                   last_status_code=row.last_status_code, last_error=row.last_error,
                   last_error_detail=row.last_error_detail, created_at=row.created_at,
                   delivered_at=row.delivered_at, data=JSON(json.loads(row.payload)))


@strawberry.type(description="Client credentials of a partner (the secret is shown only on creation).")
@access(MANAGERS)
class PartnerClientCredential:
    client_id: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: m.PartnerClient) -> PartnerClientCredential:
        return cls(client_id=row.client_id, label=row.label, created_at=row.created_at,
                   revoked_at=row.revoked_at, last_used_at=row.last_used_at)


@strawberry.type(description="A page of partners.")
@access(INTERNAL)
class PartnerConnection:
    edges: list[Edge[Partner]]
    page_info: PageInfo


@strawberry.type(description="A page of assignments.")
@access(PARTNER_READERS)
class AssignmentConnection:
    edges: list[Edge[Assignment]]
    page_info: PageInfo


@strawberry.type(description="A page of signed records.")
@access(PARTNER_READERS)
class SignedRecordConnection:
    edges: list[Edge[SignedRecord]]
    page_info: PageInfo


@strawberry.type(description="A page of webhook deliveries.")
@access(PARTNER_SELF_SERVICE)
class WebhookDeliveryConnection:
    edges: list[Edge[WebhookDelivery]]
    page_info: PageInfo
