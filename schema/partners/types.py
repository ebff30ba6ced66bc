"""GraphQL object types of the partners domain: registry, keys, assignments, signed records, risk
flags, webhooks, client credentials.

Every addressable object implements ``Node``; ``node(id:)`` fetches it as its own query would
(``schema.partners.queries.NODES``). Free text typed by staff (review reasons, revocation reasons)
is about the partner's own registry entry and is shown to that partner.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.roles import (
    INTERNAL,
    INVESTIGATION_READERS,
    MANAGERS,
    PARTNER_READERS,
    PARTNER_SELF_SERVICE,
    RISK_FLAG_READERS,
    STAFF,
)
from partners import keys
from partners import models as m
from schema.context import Context
from schema.ledger.enums import LedgerRecordKind
from schema.ledger.types import ProofBundle, load_proof_bundle
from schema.loaders import BatchLoader
from schema.partners.arguments import aware, gid
from schema.partners.enums import (
    AssignmentKind,
    PartnerDocumentKind,
    PartnerKind,
    PartnerStatus,
    RiskLevel,
    SignedRecordType,
    SignerKeyStatus,
    WebhookDeliveryStatus,
    WebhookEvent,
    WebhookFailure,
)
from schema.partners.loaders import (
    AssignmentByIdLoader,
    DocumentsByPartnerIdLoader,
    KeysByPartnerIdLoader,
    LicencesByPartnerIdLoader,
    PartnerByIdLoader,
    ReviewEventsByPartnerIdLoader,
)
from schema.partners.messages import (
    Eip712Field,
    Eip712Type,
    SignedRecordMessage,
    message_of,
)
from schema.partners.paging import After, Before, First, Last, loaded_connection
from schema.partners.webhook_events import WebhookEventData, event_data_of
from schema.permissions import access, allow
from schema.relay import PAGING, Connection, Node, decode_global_id, page_request

if TYPE_CHECKING:
    from schema.investigations.types import Investigation

__all__ = [
    "Assignment",
    "DisclosureVerdict",
    "Partner",
    "PartnerClientCredential",
    "PartnerDocument",
    "PartnerLicence",
    "PartnerReviewEvent",
    "RecordDisclosure",
    "RiskFlag",
    "RiskFlagPublisher",
    "SignedRecord",
    "SignerKey",
    "SigningDomain",
    "WebhookDelivery",
    "WebhookEndpoint",
]

_STAFF_TEXT = ("Free text a reviewer typed about this partner's own registry entry, shown to the partner "
               "(reviewers write it for them: no staff names, no notes about others).")


@strawberry.type(description="A licence a partner holds (a registration carries at most 20).")
@access(PARTNER_READERS)
class PartnerLicence:
    number: str = strawberry.field(description="The licence number (1-64 characters), unique per partner.")
    issuer: str = strawberry.field(description="The issuing authority (1-200 characters).")
    valid_from: dt.date = strawberry.field(description="First day of validity (business date).")
    valid_until: dt.date = strawberry.field(description="Last day of validity; approval needs a licence valid "
                                                        "today, and an approved partner expires without one.")

    @classmethod
    def from_row(cls, row: m.PartnerLicence) -> PartnerLicence:
        return cls(number=row.number, issuer=row.issuer, valid_from=row.valid_from, valid_until=row.valid_until)


def _document_kind(stored: str) -> m.PartnerDocumentKind:
    return m.PartnerDocumentKind._value2member_map_.get(stored, m.PartnerDocumentKind.OTHER)  # type: ignore[return-value]


@strawberry.type(description="A qualification document, identified by the SHA-256 of its content "
                             "(the file stays with the uploader's store).")
@access(PARTNER_READERS)
class PartnerDocument:
    kind: PartnerDocumentKind = strawberry.field(description="What the document is.")  # type: ignore[valid-type]
    name: str = strawberry.field(description="The file name given (1-200 characters).")
    sha256: str = strawberry.field(description="SHA-256 of the content, 64 lowercase hex characters.")
    size: int = strawberry.field(description="Size in bytes.")
    uploaded_at: dt.datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_row(cls, row: m.PartnerDocument) -> PartnerDocument:
        return cls(kind=_document_kind(row.kind), name=row.name, sha256=row.sha256, size=row.size,
                   uploaded_at=row.uploaded_at)


@strawberry.type(description="One step of a partner's qualification review.")
@access(PARTNER_READERS)
class PartnerReviewEvent:
    from_status: PartnerStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="The status before (null for the registration).")
    to_status: PartnerStatus = strawberry.field(description="The status after.")  # type: ignore[valid-type]
    reason: str | None = strawberry.field(description=f"Why. {_STAFF_TEXT}")
    at: dt.datetime = strawberry.field(description="When.")
    actor: str = strawberry.field(description="Who took the step (staff and auditors only).",
                                  metadata=allow(INTERNAL))

    @classmethod
    def from_row(cls, row: m.PartnerReviewEvent) -> PartnerReviewEvent:
        return cls(from_status=row.from_status, to_status=row.to_status, reason=row.reason, at=row.at,
                   actor=row.actor)


@strawberry.type(description="An address a partner signs records with; validity window and revocation are "
                             "kept forever, so old records are judged by the key's status when received.")
@access(PARTNER_READERS)
class SignerKey(Node):
    address: str = strawberry.field(description="Lowercase 0x address (an address belongs to one partner, once).")
    valid_from: dt.datetime = strawberry.field(description="Signatures count from this instant.")
    valid_until: dt.datetime | None = strawberry.field(description="Signatures count until this instant "
                                                                   "(null: open-ended).")
    revoked_at: dt.datetime | None = strawberry.field(description="Revoked from this instant on (null: not revoked).")
    revoked_reason: str | None = strawberry.field(
        description="Why it was revoked: free text typed by the partner or a manager who revoked it, about "
                    "this key; shown to the partner.")
    rotated_from: strawberry.ID | None = strawberry.field(description="The SignerKey this one replaced by rotation.")
    row: strawberry.Private[m.SignerKey]

    @classmethod
    def from_row(cls, row: m.SignerKey) -> SignerKey:
        return cls(id=gid("SignerKey", row.id), address=row.address, valid_from=row.valid_from,
                   valid_until=row.valid_until, revoked_at=row.revoked_at, revoked_reason=row.revoked_reason,
                   rotated_from=gid("SignerKey", row.rotated_from_id) if row.rotated_from_id else None, row=row)

    @strawberry.field(description="Status now, or at the given instant.")
    def status(
        self, info: Info[Context, Any],
        at: Annotated[dt.datetime | None, strawberry.argument(
            description="The instant (with a time zone); default: now.")] = None,
    ) -> SignerKeyStatus:  # type: ignore[valid-type]
        return keys.key_status(self.row, aware(at, "at") or info.context.now())


@strawberry.type(description="A partner institution: insurer, assessor firm, hospital or credit bureau, and "
                             "its qualification review.")
@access(PARTNER_READERS)
class Partner(Node):
    code: str = strawberry.field(description="Unique code: 2-40 of A-Z, 0-9 and '-'.")
    name: str = strawberry.field(description="The institution's name (1-200 characters).")
    kind: PartnerKind = strawberry.field(description="What it does for Opsure.")  # type: ignore[valid-type]
    status: PartnerStatus = strawberry.field(description="Where its review stands.")  # type: ignore[valid-type]
    status_reason: str | None = strawberry.field(description=f"Why it has its status. {_STAFF_TEXT}")
    submitted_at: dt.datetime = strawberry.field(description="When it was (last) submitted for review.")
    decided_at: dt.datetime | None = strawberry.field(description="When it was approved or rejected.")
    version: int = strawberry.field(description="Optimistic-locking version; send it back as expectedVersion.")
    submitted_by: str = strawberry.field(description="Who submitted it (staff and auditors only).",
                                         metadata=allow(INTERNAL))
    reviewer: str | None = strawberry.field(description="Who reviewed it (staff and auditors only).",
                                            metadata=allow(INTERNAL))
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Partner) -> Partner:
        return cls(id=gid("Partner", row.id), pk=row.id, code=row.code, name=row.name, kind=row.kind,
                   status=row.status, status_reason=row.status_reason, submitted_at=row.submitted_at,
                   decided_at=row.decided_at, version=row.version, submitted_by=row.submitted_by,
                   reviewer=row.reviewer)

    @strawberry.field(description=f"Licences, oldest first. {PAGING}")
    def licences(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                 before: Before = None) -> Connection[PartnerLicence]:
        return self._related(info, LicencesByPartnerIdLoader, PartnerLicence.from_row,  # type: ignore[no-any-return]
                             first, after, last, before)

    @strawberry.field(description=f"Qualification documents, oldest first. {PAGING}")
    def documents(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                  before: Before = None) -> Connection[PartnerDocument]:
        return self._related(info, DocumentsByPartnerIdLoader, PartnerDocument.from_row,  # type: ignore[no-any-return]
                             first, after, last, before)

    @strawberry.field(description=f"The review trail, oldest first. {PAGING}")
    def review_events(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                      before: Before = None) -> Connection[PartnerReviewEvent]:
        return self._related(info, ReviewEventsByPartnerIdLoader,  # type: ignore[no-any-return]
                             PartnerReviewEvent.from_row, first, after, last, before)

    @strawberry.field(description=f"Signer keys, current and past, oldest first. {PAGING}")
    def signer_keys(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                    before: Before = None) -> Connection[SignerKey]:
        return self._related(info, KeysByPartnerIdLoader, SignerKey.from_row,  # type: ignore[no-any-return]
                             first, after, last, before)

    def _related(self, info: Info[Context, Any], loader: type[BatchLoader[int, Any]], wrap: Callable[[Any], Any],
                 first: int | None, after: str | None, last: int | None, before: str | None) -> Any:
        ctx = info.context
        request = page_request(first, after, last, before, ctx.settings)
        return loaded_connection(ctx.loader(loader).get(self.pk), request, wrap)


def _partner_of(ctx: Context, partner_id: int) -> Any:
    return ctx.loader(PartnerByIdLoader).get_wrapped(partner_id, Partner.from_row)


@strawberry.type(description="A partner assigned by staff to a case; records must come from the assigned partner "
                             "(a survey: for that investigation).")
@access(PARTNER_READERS)
class Assignment(Node):
    kind: AssignmentKind = strawberry.field(  # type: ignore[valid-type]
        description="The work, and the record type that answers it.")
    case_reference: str = strawberry.field(description="The case: a claim or policy number (1-64 characters); "
                                                       "the signed message's caseReference must equal it.")
    investigation_id: str | None = strawberry.field(
        description="Surveys only: the investigation (uint256 as a decimal string, as signed in investigationId).")
    active: bool = strawberry.field(description="Records are accepted only for an active assignment.")
    created_at: dt.datetime = strawberry.field(description="When staff made the assignment.")
    partner_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Assignment) -> Assignment:
        return cls(id=gid("Assignment", row.id), kind=row.kind, case_reference=row.case_reference,
                   investigation_id=None if row.investigation_id is None else str(row.investigation_id),
                   active=row.active, created_at=row.created_at, partner_pk=row.partner_id)

    @strawberry.field(description="The assigned partner.")
    def partner(self, info: Info[Context, Any]) -> Partner:
        return _partner_of(info.context, self.partner_pk)  # type: ignore[no-any-return]


@strawberry.type(description="An accepted EIP-712 signed record: what was signed, by whom, and its ledger proof.")
@access(PARTNER_READERS)
class SignedRecord(Node):
    primary_type: SignedRecordType = strawberry.field(description="The record type signed.")  # type: ignore[valid-type]
    signer: str = strawberry.field(description="The signer key's address (lowercase 0x).")
    nonce: str = strawberry.field(description="The signer's nonce (uint256 as a decimal string).")
    deadline: str = strawberry.field(description="Unix seconds after which it would have been refused "
                                                 "(uint256 as a decimal string).")
    digest: str = strawberry.field(description="The EIP-712 digest that was signed (0x + 64 hex).")
    signature: str = strawberry.field(description="65 bytes r, s, v as 0x hex (v in 27/28), low-s.")
    message: SignedRecordMessage = strawberry.field(description="The message as signed, typed by primaryType.")
    chain_id: str = strawberry.field(description="The signing domain's chainId (uint256 as a decimal string).")
    verifying_contract: str = strawberry.field(description="The signing domain's verifyingContract (0x address).")
    commitment: str = strawberry.field(description="The ledger commitment anchored on chain (0x + 64 hex); the "
                                                   "proof bundle's leaf.")
    received_at: dt.datetime = strawberry.field(description="When Opsure accepted it.")
    assignment_pk: strawberry.Private[int]
    ledger_record_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.SignedRecord) -> SignedRecord:
        return cls(id=gid("SignedRecord", row.id), primary_type=m.SignedRecordType(row.primary_type),
                   signer=row.signer, nonce=row.nonce, deadline=row.deadline, digest=row.digest,
                   signature=row.signature, message=message_of(row.primary_type, json.loads(row.message)),
                   chain_id=str(row.chain_id), verifying_contract=row.verifying_contract, commitment=row.commitment,
                   received_at=row.received_at, assignment_pk=row.assignment_id,
                   ledger_record_pk=row.ledger_record_id)

    @strawberry.field(description="The case this record answers.")
    def assignment(self, info: Info[Context, Any]) -> Assignment:
        loader = info.context.loader(AssignmentByIdLoader)
        return loader.get_wrapped(self.assignment_pk, Assignment.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="The ledger proof bundle (status PENDING until anchored).")
    def proof(self, info: Info[Context, Any]) -> ProofBundle:
        return load_proof_bundle(info.context, self.ledger_record_pk)  # type: ignore[return-value]

    @strawberry.field(description="The investigation a SurveyReport closed (null for other record types).",
                      metadata=allow(INVESTIGATION_READERS))
    def investigation(self, info: Info[Context, Any]) -> Annotated[
            Investigation, strawberry.lazy("schema.investigations.types")] | None:
        from schema.investigations.types import investigation_of_survey  # that contract builds on this one

        return investigation_of_survey(info.context, decode_global_id(self.id, "SignedRecord"))  # type: ignore[no-any-return]


@strawberry.type(description="Who published a risk flag.")
@access(RISK_FLAG_READERS)
class RiskFlagPublisher:
    code: str = strawberry.field(description="The publishing insurer's partner code.")
    name: str = strawberry.field(description="The publishing insurer's name.")


@strawberry.type(description="A risk flag a partner insurer published about a blinded person id, with its ledger "
                             "proof.")
@access(RISK_FLAG_READERS)
class RiskFlag(Node):
    blinded_id: str = strawberry.field(description="HMAC-SHA256(consortium key, normalised ID number), 64 hex.")
    flag_code: str = strawberry.field(
        description="What was flagged: 2-40 of A-Z, 0-9 and _ (e.g. STAGED_ACCIDENT). An open vocabulary the "
                    "consortium's insurers coin, not a closed set of this API.")
    level: RiskLevel = strawberry.field(  # type: ignore[valid-type]
        description="How serious (the same levels as a claim's riskLevel).")
    evidence_commitment: str | None = strawberry.field(
        description="The publisher's commitment to its evidence (0x + 64 hex), if it gave one.")
    commitment: str = strawberry.field(description="The ledger commitment anchored on chain (0x + 64 hex).")
    published_at: dt.datetime = strawberry.field(description="When it was published.")
    publisher_pk: strawberry.Private[int]
    ledger_record_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.RiskFlag) -> RiskFlag:
        return cls(id=gid("RiskFlag", row.id), blinded_id=row.blinded_id, flag_code=row.flag_code,
                   level=RiskLevel(row.level), evidence_commitment=row.evidence_commitment,
                   commitment=row.commitment, published_at=row.published_at, publisher_pk=row.publisher_id,
                   ledger_record_pk=row.ledger_record_id)

    @strawberry.field(description="The publishing insurer.")
    async def publisher(self, info: Info[Context, Any]) -> RiskFlagPublisher:
        row = await info.context.loader(PartnerByIdLoader).load(self.publisher_pk)
        return RiskFlagPublisher(code=row.code, name=row.name)

    @strawberry.field(description="The ledger proof bundle of the flag's commitment.")
    def proof(self, info: Info[Context, Any]) -> ProofBundle:
        return load_proof_bundle(info.context, self.ledger_record_pk)  # type: ignore[return-value]


@strawberry.type(description="A record's body and salt, disclosed by its holder, with its proof.")
@access(RISK_FLAG_READERS)
class RecordDisclosure:
    body: JSON = strawberry.field(description=(
        "The record body exactly as committed: free-form by nature, since the commitment is HMAC-SHA256 over "
        "its canonical JSON (RFC 8785) and the salt, so it must travel unchanged. Hand it, with salt and "
        "commitment, to the partner, who checks it with verifyDisclosure."))
    salt: str = strawberry.field(description="The record's 32-byte salt, 64 hex characters.")
    commitment: str = strawberry.field(description="The anchored commitment (0x + 64 hex).")
    record_pk: strawberry.Private[int]

    @strawberry.field(description="The commitment's ledger proof bundle.")
    def proof(self, info: Info[Context, Any]) -> ProofBundle:
        return load_proof_bundle(info.context, self.record_pk)  # type: ignore[return-value]


@strawberry.type(description="Whether a disclosed body and salt give an anchored commitment.")
@access(RISK_FLAG_READERS)
class DisclosureVerdict:
    matches: bool = strawberry.field(description="Body and salt give the commitment, and Opsure holds it.")
    anchored: bool = strawberry.field(description="It matches and its batch is confirmed on chain.")
    kind: LedgerRecordKind | None = strawberry.field(  # type: ignore[valid-type]
        description="What the record is (when it matches).")
    record_pk: strawberry.Private[int | None]

    @strawberry.field(description="The ledger proof bundle (when it matches).")
    def proof(self, info: Info[Context, Any]) -> ProofBundle | None:
        if self.record_pk is None:
            return None
        return load_proof_bundle(info.context, self.record_pk)  # type: ignore[return-value]


@strawberry.type(description="The EIP-712 domain and record types partners sign with (this deployment's ledger).")
@access(PARTNER_READERS)
class SigningDomain:
    name: str = strawberry.field(description="The domain name (Opsure).")
    version: str = strawberry.field(description="The domain version.")
    chain_id: str = strawberry.field(description="The ledger's chain id (uint256 as a decimal string; ethers and "
                                                 "eth-account take it as is).")
    verifying_contract: str = strawberry.field(description="The AnchorRegistry contract (EIP-55 checksummed 0x).")
    types: list[Eip712Type] = strawberry.field(description="The record types (3), one per SignedRecordType.")
    domain_fields: list[Eip712Field] = strawberry.field(
        description="The EIP712Domain type's fields, for signers that want types.EIP712Domain spelled out "
                    "(eth_signTypedData_v4 wallets); ethers and eth-account derive them from the domain.")


@strawberry.type(description="An endpoint a partner receives webhooks at (HMAC-signed POSTs).")
@access(PARTNER_SELF_SERVICE)
class WebhookEndpoint(Node):
    url: str = strawberry.field(description="The https URL (a public host) deliveries are POSTed to.")
    events: list[WebhookEvent] = strawberry.field(description="The events it receives.")  # type: ignore[valid-type]
    active: bool = strawberry.field(description="False once deactivated: nothing more is delivered.")
    created_at: dt.datetime = strawberry.field(description="When it was registered.")

    @classmethod
    def from_row(cls, row: m.WebhookEndpoint) -> WebhookEndpoint:
        return cls(id=gid("WebhookEndpoint", row.id), url=row.url,
                   events=[m.WebhookEvent(e) for e in row.events or ()], active=row.active,
                   created_at=row.created_at)


@strawberry.type(description="One webhook delivery and its outcome so far (delivered at least once).")
@access(PARTNER_SELF_SERVICE)
class WebhookDelivery(Node):
    delivery_id: int = strawberry.field(description="The Opsure-Delivery header value; receivers deduplicate on it.")
    event: WebhookEvent = strawberry.field(description="What happened.")  # type: ignore[valid-type]
    status: WebhookDeliveryStatus = strawberry.field(description="Where the delivery stands.")  # type: ignore[valid-type]
    attempts: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: dt.datetime = strawberry.field(description="When it is (or was last) due.")
    last_status_code: int | None = strawberry.field(description="The HTTP status the endpoint last answered with.")
    last_error: WebhookFailure | None = strawberry.field(  # type: ignore[valid-type]
        description="Why the last attempt failed (null after success).")
    last_error_detail: str | None = strawberry.field(
        description="What went wrong at the connection level (staff only).", metadata=allow(STAFF))
    created_at: dt.datetime = strawberry.field(description="When the event was queued.")
    delivered_at: dt.datetime | None = strawberry.field(description="When the endpoint answered 2xx.")
    data: WebhookEventData = strawberry.field(description="The event's payload, typed by event (the delivered "
                                                          "body's `data`).")

    @classmethod
    def from_row(cls, row: m.WebhookDelivery) -> WebhookDelivery:
        return cls(id=gid("WebhookDelivery", row.id), delivery_id=row.id, event=m.WebhookEvent(row.event),
                   status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
                   last_status_code=row.last_status_code,
                   last_error=m.WebhookFailure(row.last_error) if row.last_error else None,
                   last_error_detail=row.last_error_detail, created_at=row.created_at,
                   delivered_at=row.delivered_at, data=event_data_of(row.event, json.loads(row.payload)))


@strawberry.type(description="Client credentials of a partner (OAuth2 client_credentials at /oauth/token); the "
                             "secret is shown only when created.")
@access(MANAGERS)
class PartnerClientCredential(Node):
    client_id: str = strawberry.field(description="The OAuth2 client_id (pc_ + 24 hex).")
    label: str = strawberry.field(description="What the credentials are for (1-200 characters).")
    created_at: dt.datetime = strawberry.field(description="When they were created.")
    revoked_at: dt.datetime | None = strawberry.field(description="When they were revoked; tokens stop at once.")
    last_used_at: dt.datetime | None = strawberry.field(description="The last successful login.")

    @classmethod
    def from_row(cls, row: m.PartnerClient) -> PartnerClientCredential:
        return cls(id=gid("PartnerClientCredential", row.id), client_id=row.client_id, label=row.label,
                   created_at=row.created_at, revoked_at=row.revoked_at, last_used_at=row.last_used_at)
