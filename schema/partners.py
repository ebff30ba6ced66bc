"""GraphQL contract of partners: registry and review, signer keys, client credentials,
assignments, EIP-712 signed records, shared risk flags, webhooks.

A partner token (role ``partner``, scoped to its partner) sees only its own partner,
assignments, signed records, keys, endpoints and deliveries; reading another partner's
case is refused with ``FORBIDDEN``. Refused submissions come back as typed payload errors
with the codes of :class:`partners.errors.RejectCode`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.auth import Role
from core.egress import EgressPolicy
from core.errors import DomainError, NotFoundError, ValidationError
from core.roles import STAFF
from ledger import service as ledger_service
from partners import assignments as assignment_service
from partners import credentials, eip712, keys, ledger_seam, review, risk, signed_records, webhooks
from partners import loaders as fetch
from partners import models as m
from partners import service as registry
from partners.errors import RecordRejected, RejectCode
from partners.scoping import is_partner, require_own
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.loaders import BatchLoader
from schema.permissions import PUBLIC, access, allow
from schema.relay import (
    Edge,
    PageInfo,
    decode_global_id,
    encode_global_id,
    keyset_edges,
    page_info,
    page_size,
)

__all__ = ["PartnersMutation", "PartnersQuery"]

PARTNER = frozenset({Role.PARTNER.value})
STAFF_READ = STAFF | {Role.AUDITOR.value}
PARTNER_READERS = STAFF_READ | PARTNER
REGISTRARS = frozenset({Role.AGENT.value, Role.MANAGER.value, Role.ADMIN.value})
REVIEWERS = frozenset({Role.QA.value, Role.MANAGER.value, Role.ADMIN.value})
PARTNER_ADMINS = frozenset({Role.MANAGER.value, Role.ADMIN.value})
KEY_MANAGERS = PARTNER_ADMINS | PARTNER
ASSIGNERS = frozenset({Role.ADJUSTER.value, Role.MANAGER.value, Role.ADMIN.value})
RISK_STAFF = frozenset({Role.ADJUSTER.value, Role.ANALYST.value, Role.QA.value, Role.MANAGER.value, Role.ADMIN.value})
RISK_READERS = RISK_STAFF | PARTNER
WEBHOOK_READERS = PARTNER_ADMINS | PARTNER
MAX_BATCH = 100

PartnerKind = strawberry.enum(m.PartnerKind, name="PartnerKind")
PartnerStatus = strawberry.enum(m.PartnerStatus, name="PartnerStatus", description="Qualification review status.")
AssignmentKind = strawberry.enum(m.AssignmentKind, name="AssignmentKind")
SignerKeyStatus = strawberry.enum(keys.KeyStatus, name="SignerKeyStatus")
WebhookDeliveryStatus = strawberry.enum(m.DeliveryStatus, name="WebhookDeliveryStatus")


def _ctx(info: Info[Context, Any]) -> Context:
    return info.context


def _gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(encode_global_id(type_name, pk))


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationError("timestamps need a time zone (e.g. Z)", field=field)
    return value


def _own_partner_id(ctx: Context, given: strawberry.ID | None) -> int:
    """The partner a mutation acts on: the given id, or a partner caller's own."""
    if given is not None:
        pk = decode_global_id(given, "Partner", field="partnerId")
        require_own(ctx.principal, pk, what="this partner")
        return pk
    if is_partner(ctx.principal) and ctx.principal.partner_id is not None:
        return ctx.principal.partner_id
    raise ValidationError("partnerId is required", field="partnerId")


# --- loaders ------------------------------------------------------------------------------------


class PartnerByIdLoader(BatchLoader[int, m.Partner | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.partners_by_id(self.context.session, keys)


class AssignmentByIdLoader(BatchLoader[int, m.Assignment | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.assignments_by_id(self.context.session, keys)


class LicencesByPartnerIdLoader(BatchLoader[int, list[m.PartnerLicence]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.licences_by_partner(self.context.session, keys)


class DocumentsByPartnerIdLoader(BatchLoader[int, list[m.PartnerDocument]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.documents_by_partner(self.context.session, keys)


class ReviewEventsByPartnerIdLoader(BatchLoader[int, list[m.PartnerReviewEvent]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.review_events_by_partner(self.context.session, keys)


class KeysByPartnerIdLoader(BatchLoader[int, list[m.SignerKey]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.keys_by_partner(self.context.session, keys)


# --- types --------------------------------------------------------------------------------------


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
    actor: str = strawberry.field(metadata=allow(STAFF_READ))

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
        return cls(id=_gid("SignerKey", row.id), address=row.address, valid_from=row.valid_from,
                   valid_until=row.valid_until, revoked_at=row.revoked_at, revoked_reason=row.revoked_reason,
                   rotated_from=_gid("SignerKey", row.rotated_from_id) if row.rotated_from_id else None, row=row)

    @strawberry.field(description="Status now, or at the given instant.")
    def status(self, info: Info[Context, Any], at: dt.datetime | None = None) -> SignerKeyStatus:  # type: ignore[valid-type]
        return keys.key_status(self.row, _aware(at, "at") or _ctx(info).now())


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
    submitted_by: str = strawberry.field(metadata=allow(STAFF_READ))
    reviewer: str | None = strawberry.field(metadata=allow(STAFF_READ))
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Partner) -> Partner:
        return cls(id=_gid("Partner", row.id), pk=row.id, code=row.code, name=row.name, kind=row.kind,
                   status=row.status, status_reason=row.status_reason, submitted_at=row.submitted_at,
                   decided_at=row.decided_at, version=row.version, submitted_by=row.submitted_by,
                   reviewer=row.reviewer)

    @strawberry.field(description="Licences, oldest first.")
    def licences(self, info: Info[Context, Any]) -> list[PartnerLicence]:
        return _ctx(info).loader(LicencesByPartnerIdLoader).get_wrapped(self.pk, PartnerLicence.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="Qualification documents, oldest first.")
    def documents(self, info: Info[Context, Any]) -> list[PartnerDocument]:
        return _ctx(info).loader(DocumentsByPartnerIdLoader).get_wrapped(self.pk, PartnerDocument.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="The review trail, oldest first.")
    def review_events(self, info: Info[Context, Any]) -> list[PartnerReviewEvent]:
        return _ctx(info).loader(ReviewEventsByPartnerIdLoader).get_wrapped(self.pk, PartnerReviewEvent.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="Signer keys, current and past, oldest first.")
    def signer_keys(self, info: Info[Context, Any]) -> list[SignerKey]:
        return _ctx(info).loader(KeysByPartnerIdLoader).get_wrapped(self.pk, SignerKey.from_row)  # type: ignore[no-any-return]


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
        return cls(id=_gid("Assignment", row.id), kind=row.kind, case_reference=row.case_reference,
                   investigation_id=None if row.investigation_id is None else str(row.investigation_id),
                   active=row.active, created_at=row.created_at, partner_pk=row.partner_id)

    @strawberry.field(description="The assigned partner.")
    def partner(self, info: Info[Context, Any]) -> Partner:
        return _partner_of(_ctx(info), self.partner_pk)  # type: ignore[no-any-return]


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
        return cls(id=_gid("SignedRecord", row.id), primary_type=row.primary_type, signer=row.signer,
                   nonce=row.nonce, deadline=row.deadline, digest=row.digest, signature=row.signature,
                   message=JSON(json.loads(row.message)), chain_id=str(row.chain_id),
                   verifying_contract=row.verifying_contract, commitment=row.commitment,
                   received_at=row.received_at, assignment_pk=row.assignment_id,
                   ledger_record_pk=row.ledger_record_id)

    @strawberry.field(description="The case this record answers.")
    def assignment(self, info: Info[Context, Any]) -> Assignment:
        return _ctx(info).loader(AssignmentByIdLoader).get_wrapped(self.assignment_pk, Assignment.from_row)  # type: ignore[no-any-return]

    @strawberry.field(description="The ledger proof bundle (status pending until anchored).")
    def proof(self, info: Info[Context, Any]) -> JSON:
        return JSON(ledger_service.proof_bundle(_ctx(info).session, record_id=self.ledger_record_pk))


@strawberry.type(description="Who published a risk flag.")
@access(RISK_READERS)
class RiskFlagPublisher:
    code: str
    name: str


@strawberry.type(description="A risk flag about a blinded person id, with its publisher and ledger proof.")
@access(RISK_READERS)
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
        return cls(id=_gid("RiskFlag", row.id), blinded_id=row.blinded_id, flag_code=row.flag_code,
                   level=row.level, evidence_commitment=row.evidence_commitment, commitment=row.commitment,
                   published_at=row.published_at, publisher_pk=row.publisher_id,
                   ledger_record_pk=row.ledger_record_id)

    @strawberry.field(description="The publishing insurer.")
    async def publisher(self, info: Info[Context, Any]) -> RiskFlagPublisher:
        row = await _ctx(info).loader(PartnerByIdLoader).load(self.publisher_pk)
        return RiskFlagPublisher(code=row.code, name=row.name)

    @strawberry.field(description="The ledger proof bundle of the flag's commitment.")
    def proof(self, info: Info[Context, Any]) -> JSON:
        return JSON(ledger_service.proof_bundle(_ctx(info).session, record_id=self.ledger_record_pk))


@strawberry.type(description="A record's body and salt, disclosed by its holder, with its proof.")
@access(RISK_READERS)
class RecordDisclosure:
    body: JSON
    salt: str
    commitment: str
    proof: JSON


@strawberry.type(description="Whether a disclosed body and salt give an anchored commitment.")
@access(RISK_READERS)
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
@access(WEBHOOK_READERS)
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    events: list[str]
    active: bool
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: m.WebhookEndpoint) -> WebhookEndpoint:
        return cls(id=_gid("WebhookEndpoint", row.id), url=row.url, events=list(row.events or ()),
                   active=row.active, created_at=row.created_at)


@strawberry.type(description="One webhook delivery and its outcome so far.")
@access(WEBHOOK_READERS)
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
        return cls(id=_gid("WebhookDelivery", row.id), delivery_id=row.id, event=row.event, status=row.status,
                   attempts=row.attempts, next_attempt_at=row.next_attempt_at,
                   last_status_code=row.last_status_code, last_error=row.last_error,
                   last_error_detail=row.last_error_detail, created_at=row.created_at,
                   delivered_at=row.delivered_at, data=JSON(json.loads(row.payload)))


@strawberry.type(description="Client credentials of a partner (the secret is shown only on creation).")
@access(PARTNER_ADMINS)
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
@access(STAFF_READ)
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
@access(WEBHOOK_READERS)
class WebhookDeliveryConnection:
    edges: list[Edge[WebhookDelivery]]
    page_info: PageInfo


def _forbid_other_partner(ctx: Context, partner_pk: int) -> None:
    if is_partner(ctx.principal) and ctx.principal.partner_id != partner_pk:
        raise RecordRejected(RejectCode.FORBIDDEN, "this belongs to another partner", field="id")


# --- queries ------------------------------------------------------------------------------------


@strawberry.type
class PartnersQuery:
    @strawberry.field(description="Partners, oldest first; first: 0..100 (default 20).", metadata=allow(STAFF_READ))
    def partners(
        self,
        info: Info[Context, Any],
        first: int | None = None,
        after: str | None = None,
        status: PartnerStatus | None = None,  # type: ignore[valid-type]
        kind: PartnerKind | None = None,  # type: ignore[valid-type]
    ) -> PartnerConnection:
        ctx = _ctx(info)
        page = registry.list_partners(ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings),
                                      after=after, status=status, kind=kind)
        return PartnerConnection(edges=keyset_edges(page, Partner.from_row), page_info=page_info(page))

    @strawberry.field(description="A partner by global id (a partner: only itself, else FORBIDDEN).",
                      metadata=allow(PARTNER_READERS))
    def partner(self, info: Info[Context, Any], id: strawberry.ID) -> Partner | None:
        ctx = _ctx(info)
        pk = decode_global_id(id, "Partner")
        _forbid_other_partner(ctx, pk)
        row = fetch.partners_by_id(ctx.session, [pk]).get(pk)
        return Partner.from_row(row) if row else None

    @strawberry.field(description="The calling partner.", metadata=allow(PARTNER))
    def my_partner(self, info: Info[Context, Any]) -> Partner | None:
        ctx = _ctx(info)
        pid = ctx.principal.partner_id
        row = fetch.partners_by_id(ctx.session, [pid]).get(pid) if pid is not None else None
        return Partner.from_row(row) if row else None

    @strawberry.field(description="Assignments the caller may see (a partner: its own); first: 0..100.",
                      metadata=allow(PARTNER_READERS))
    def assignments(
        self, info: Info[Context, Any], first: int | None = None, after: str | None = None,
        kind: AssignmentKind | None = None,  # type: ignore[valid-type]
    ) -> AssignmentConnection:
        ctx = _ctx(info)
        page = assignment_service.list_assignments(ctx.session, principal=ctx.principal,
                                                   first=page_size(first, ctx.settings), after=after, kind=kind)
        return AssignmentConnection(edges=keyset_edges(page, Assignment.from_row), page_info=page_info(page))

    @strawberry.field(description="An assignment by global id; another partner's is FORBIDDEN.",
                      metadata=allow(PARTNER_READERS))
    def assignment(self, info: Info[Context, Any], id: strawberry.ID) -> Assignment | None:
        ctx = _ctx(info)
        try:
            row = assignment_service.get_assignment(ctx.session, principal=ctx.principal,
                                                    assignment_id=decode_global_id(id, "Assignment"))
        except NotFoundError:
            return None
        return Assignment.from_row(row)

    @strawberry.field(description="Signed records the caller may see (a partner: its own); first: 0..100.",
                      metadata=allow(PARTNER_READERS))
    def signed_records(
        self, info: Info[Context, Any], first: int | None = None, after: str | None = None,
        assignment_id: strawberry.ID | None = None,
    ) -> SignedRecordConnection:
        ctx = _ctx(info)
        aid = decode_global_id(assignment_id, "Assignment", field="assignmentId") if assignment_id else None
        page = signed_records.list_signed_records(ctx.session, principal=ctx.principal,
                                                  first=page_size(first, ctx.settings), after=after,
                                                  assignment_id=aid)
        return SignedRecordConnection(edges=keyset_edges(page, SignedRecord.from_row), page_info=page_info(page))

    @strawberry.field(description="A signed record by global id; another partner's is FORBIDDEN.",
                      metadata=allow(PARTNER_READERS))
    def signed_record(self, info: Info[Context, Any], id: strawberry.ID) -> SignedRecord | None:
        ctx = _ctx(info)
        try:
            row = signed_records.get_signed_record(ctx.session, principal=ctx.principal,
                                                   record_id=decode_global_id(id, "SignedRecord"))
        except NotFoundError:
            return None
        return SignedRecord.from_row(row)

    @strawberry.field(description="The EIP-712 domain (the AnchorRegistry's chain and address) and types.",
                      metadata=allow(PARTNER_READERS))
    def partner_signing_domain(self, info: Info[Context, Any]) -> SigningDomain:
        ctx = _ctx(info)
        d = ledger_seam.signing_domain(ctx.session, ctx.settings)
        types = {name: [{"name": n, "type": t} for n, t in fields] for name, fields in eip712.RECORD_TYPES.items()}
        return SigningDomain(name=d.name, version=d.version, chain_id=str(d.chain_id),
                             verifying_contract=d.verifying_contract, types=JSON(types))

    @strawberry.field(description="Risk flags on a blinded id (HMAC-SHA256 under the consortium key), "
                      "newest first, at most 100. Partner insurers and claims staff.",
                      metadata=allow(RISK_READERS))
    def risk_flags(self, info: Info[Context, Any], blinded_id: str) -> list[RiskFlag]:
        ctx = _ctx(info)
        return [RiskFlag.from_row(r) for r in risk.find_flags(ctx.session, principal=ctx.principal,
                                                                blinded_id=blinded_id)]

    @strawberry.field(description="Risk flags on a person, blinded here with the consortium key (staff).",
                      metadata=allow(RISK_STAFF))
    def risk_flags_for_id_number(self, info: Info[Context, Any], id_number: str) -> list[RiskFlag]:
        ctx = _ctx(info)
        blinded = risk.consortium_key(ctx.settings.keys_dir).blind(id_number)
        return [RiskFlag.from_row(r) for r in risk.find_flags(ctx.session, principal=ctx.principal,
                                                                blinded_id=blinded)]

    @strawberry.field(description="Disclose one of your flags: body and salt to hand to a partner.",
                      metadata=allow(RISK_READERS))
    def risk_flag_disclosure(self, info: Info[Context, Any], risk_flag_id: strawberry.ID) -> RecordDisclosure:
        ctx = _ctx(info)
        d = risk.disclose_flag(ctx.session, principal=ctx.principal,
                               risk_flag_id=decode_global_id(risk_flag_id, "RiskFlag", field="riskFlagId"))
        return RecordDisclosure(body=JSON(d.body), salt=d.salt, commitment=d.commitment, proof=JSON(d.bundle))

    @strawberry.field(description="Check a disclosed record body and salt against its anchored commitment.",
                      metadata=allow(RISK_READERS))
    def verify_disclosure(self, info: Info[Context, Any], commitment: str, body: JSON, salt: str) -> DisclosureVerdict:
        ctx = _ctx(info)
        if not isinstance(body, dict):
            raise ValidationError("body must be a JSON object", field="body")
        v = risk.verify_disclosure(ctx.session, commitment=commitment, body=body, salt=salt)
        return DisclosureVerdict(matches=v.matches, anchored=v.anchored, kind=v.kind,
                                 proof=JSON(v.bundle) if v.bundle is not None else None)

    @strawberry.field(description="Webhook deliveries (a partner: its own), oldest first; first: 0..100.",
                      metadata=allow(WEBHOOK_READERS))
    def webhook_deliveries(
        self, info: Info[Context, Any], first: int | None = None, after: str | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
        event: str | None = None,
    ) -> WebhookDeliveryConnection:
        ctx = _ctx(info)
        page = webhooks.list_deliveries(ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings),
                                        after=after, status=status, event=event)
        return WebhookDeliveryConnection(edges=keyset_edges(page, WebhookDelivery.from_row), page_info=page_info(page))

    @strawberry.field(description="A partner's webhook endpoints (a partner: its own).", metadata=allow(WEBHOOK_READERS))
    def webhook_endpoints(self, info: Info[Context, Any], partner_id: strawberry.ID | None = None) -> list[WebhookEndpoint]:
        ctx = _ctx(info)
        pid = _own_partner_id(ctx, partner_id)
        return [WebhookEndpoint.from_row(r) for r in webhooks.list_endpoints(ctx.session, principal=ctx.principal,
                                                                             partner_id=pid)]

    @strawberry.field(description="A partner's client credentials (no secrets).", metadata=allow(PARTNER_ADMINS))
    def partner_clients(self, info: Info[Context, Any], partner_id: strawberry.ID) -> list[PartnerClientCredential]:
        ctx = _ctx(info)
        pid = decode_global_id(partner_id, "Partner", field="partnerId")
        return [PartnerClientCredential.from_row(r)
                for r in credentials.clients_of(ctx.session, principal=ctx.principal, partner_id=pid)]


# --- inputs and payloads ------------------------------------------------------------------------


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


@strawberry.type
@access(PUBLIC)
class PartnerPayload:
    partner: Partner | None
    errors: list[UserError]


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


@strawberry.type
@access(PUBLIC)
class SignerKeyPayload:
    key: SignerKey | None
    errors: list[UserError]


@strawberry.input
class CreatePartnerClientInput:
    partner_id: strawberry.ID
    label: str


@strawberry.type
@access(PUBLIC)
class PartnerClientPayload:
    client: PartnerClientCredential | None
    client_secret: str | None = strawberry.field(description="Shown once; store it now.")
    errors: list[UserError]


@strawberry.input
class CreateAssignmentInput:
    partner_id: strawberry.ID
    kind: AssignmentKind  # type: ignore[valid-type]
    case_reference: str
    investigation_id: str | None = strawberry.field(default=None, description="Decimal; surveys only.")


@strawberry.type
@access(PUBLIC)
class AssignmentPayload:
    assignment: Assignment | None
    errors: list[UserError]


@strawberry.input(description="An EIP-712 signed record: {types, primaryType, domain, message} and its signature.")
class SignedRecordInput:
    typed_data: JSON
    signature: str = strawberry.field(description="0x + 65 bytes hex (r, s, v), low-s.")


@strawberry.type
@access(PUBLIC)
class SignedRecordPayload:
    record: SignedRecord | None
    errors: list[UserError]


@strawberry.type(description="The outcome of one record of a batch.")
@access(PUBLIC)
class SignedRecordResult:
    index: int
    record: SignedRecord | None
    errors: list[UserError]


@strawberry.type
@access(PUBLIC)
class SubmitSignedRecordsPayload:
    results: list[SignedRecordResult]
    accepted: int
    errors: list[UserError]


@strawberry.input
class PublishRiskFlagInput:
    blinded_id: str = strawberry.field(description="HMAC-SHA256(consortium key, normalised ID number), hex.")
    flag_code: str
    level: str = strawberry.field(description="low, medium or high.")
    evidence_commitment: str | None = None


@strawberry.type
@access(PUBLIC)
class RiskFlagPayload:
    risk_flag: RiskFlag | None
    errors: list[UserError]


@strawberry.input
class RegisterWebhookEndpointInput:
    url: str
    events: list[str] = strawberry.field(default_factory=list, description="Default: every event.")
    partner_id: strawberry.ID | None = None


@strawberry.type
@access(PUBLIC)
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(description="The signing secret, shown once.")
    errors: list[UserError]


def _partner_target(p: m.Partner | None) -> str | None:
    return None if p is None else encode_global_id("Partner", p.id)


def _partner_payload(info: Info[Context, Any], action: str, data: Any, work: Callable[[Any], m.Partner]) -> PartnerPayload:
    row, errors = run_mutation(info, action, data, work, target=_partner_target)
    return PartnerPayload(partner=Partner.from_row(row) if row else None, errors=errors)


def _key_payload(info: Info[Context, Any], action: str, data: Any, work: Callable[[Any], m.SignerKey]) -> SignerKeyPayload:
    row, errors = run_mutation(info, action, data, work,
                               target=lambda k: None if k is None else encode_global_id("SignerKey", k.id))
    return SignerKeyPayload(key=SignerKey.from_row(row) if row else None, errors=errors)


def _errors(exc: DomainError) -> list[UserError]:
    return [UserError(field=exc.field, code=exc.code, message=exc.message)]


def _insecure_webhooks(ctx: Context) -> bool:
    return ctx.settings.extra.get("partners.webhooks_allow_insecure", "") in {"1", "true", "yes"}


@strawberry.type
class PartnersMutation:
    @strawberry.mutation(description="Submit a partner for qualification review.", metadata=allow(REGISTRARS))
    def register_partner(self, info: Info[Context, Any], input: RegisterPartnerInput) -> PartnerPayload:
        ctx = _ctx(info)
        return _partner_payload(info, "registerPartner", input, lambda s: registry.register_partner(
            s, principal=ctx.principal, code=input.code, name=input.name, kind=input.kind, now=ctx.now(),
            licences=[registry.LicenceSpec(x.number, x.issuer, x.valid_from, x.valid_until) for x in input.licences],
            documents=[registry.DocumentSpec(d.kind, d.name, d.sha256, d.size) for d in input.documents]))

    @strawberry.mutation(description="Record a new or renewed licence.", metadata=allow(REGISTRARS))
    def add_partner_licence(self, info: Info[Context, Any], input: AddPartnerLicenceInput) -> PartnerPayload:
        ctx = _ctx(info)
        pid = decode_global_id(input.partner_id, "Partner", field="partnerId")
        x = input.licence

        def work(s: Any) -> m.Partner:
            registry.add_licence(s, principal=ctx.principal, partner_id=pid, now=ctx.now(),
                                 licence=registry.LicenceSpec(x.number, x.issuer, x.valid_from, x.valid_until))
            return registry.get_partner(s, principal=ctx.principal, partner_id=pid)

        return _partner_payload(info, "addPartnerLicence", input, work)

    @strawberry.mutation(description="Record a qualification document (by content digest).",
                         metadata=allow(REGISTRARS | PARTNER))
    def add_partner_document(self, info: Info[Context, Any], input: AddPartnerDocumentInput) -> PartnerPayload:
        ctx = _ctx(info)
        d = input.document

        def work(s: Any) -> m.Partner:
            pid = _own_partner_id(ctx, input.partner_id)
            registry.add_document(s, principal=ctx.principal, partner_id=pid, now=ctx.now(),
                                  document=registry.DocumentSpec(d.kind, d.name, d.sha256, d.size))
            return registry.get_partner(s, principal=ctx.principal, partner_id=pid)

        return _partner_payload(info, "addPartnerDocument", input, work)

    @strawberry.mutation(description="Start reviewing a submitted (or suspended) partner; not by its submitter.",
                         metadata=allow(REVIEWERS))
    def start_partner_review(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = _ctx(info)
        return _partner_payload(info, "startPartnerReview", input, lambda s: review.start_review(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, now=ctx.now()))

    @strawberry.mutation(description="Approve a partner under review (needs a licence valid today); "
                         "its signer keys get PARTNER_ROLE on chain.", metadata=allow(REVIEWERS))
    def approve_partner(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = _ctx(info)
        return _partner_payload(info, "approvePartner", input, lambda s: review.approve(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, note=input.reason, now=ctx.now()))

    @strawberry.mutation(description="Reject a partner under review, with a reason.", metadata=allow(REVIEWERS))
    def reject_partner(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = _ctx(info)
        return _partner_payload(info, "rejectPartner", input, lambda s: review.reject(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, reason=input.reason or "", now=ctx.now()))

    @strawberry.mutation(description="Suspend an approved partner at once; its keys lose PARTNER_ROLE on chain.",
                         metadata=allow(PARTNER_ADMINS))
    def suspend_partner(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = _ctx(info)
        return _partner_payload(info, "suspendPartner", input, lambda s: review.suspend(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, reason=input.reason or "", now=ctx.now()))

    @strawberry.mutation(description="Submit a rejected or expired partner again.", metadata=allow(REGISTRARS))
    def resubmit_partner(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = _ctx(info)
        return _partner_payload(info, "resubmitPartner", input, lambda s: review.resubmit(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, note=input.reason, now=ctx.now()))

    @strawberry.mutation(description="Register a signer address (a partner: its own).", metadata=allow(KEY_MANAGERS))
    def register_signer_key(self, info: Info[Context, Any], input: RegisterSignerKeyInput) -> SignerKeyPayload:
        ctx = _ctx(info)
        return _key_payload(info, "registerSignerKey", input, lambda s: keys.register_key(
            s, principal=ctx.principal, partner_id=_own_partner_id(ctx, input.partner_id), address=input.address,
            valid_from=_aware(input.valid_from, "validFrom"), valid_until=_aware(input.valid_until, "validUntil"),
            now=ctx.now()))

    @strawberry.mutation(description="Rotate a key; returns the new key.", metadata=allow(KEY_MANAGERS))
    def rotate_signer_key(self, info: Info[Context, Any], input: RotateSignerKeyInput) -> SignerKeyPayload:
        ctx = _ctx(info)
        return _key_payload(info, "rotateSignerKey", input, lambda s: keys.rotate_key(
            s, principal=ctx.principal, key_id=decode_global_id(input.key_id, "SignerKey", field="keyId"),
            new_address=input.new_address, valid_from=_aware(input.valid_from, "validFrom"),
            old_valid_until=_aware(input.old_valid_until, "oldValidUntil"), now=ctx.now()))

    @strawberry.mutation(description="Revoke a key with immediate effect.", metadata=allow(KEY_MANAGERS))
    def revoke_signer_key(self, info: Info[Context, Any], input: RevokeSignerKeyInput) -> SignerKeyPayload:
        ctx = _ctx(info)
        return _key_payload(info, "revokeSignerKey", input, lambda s: keys.revoke_key(
            s, principal=ctx.principal, key_id=decode_global_id(input.key_id, "SignerKey", field="keyId"),
            reason=input.reason, effective_at=_aware(input.effective_at, "effectiveAt"), now=ctx.now()))

    @strawberry.mutation(description="Create client credentials for a partner (secret shown once).",
                         metadata=allow(PARTNER_ADMINS))
    def create_partner_client(self, info: Info[Context, Any], input: CreatePartnerClientInput) -> PartnerClientPayload:
        ctx = _ctx(info)
        made, errors = run_mutation(info, "createPartnerClient", input, lambda s: credentials.create_client(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            label=input.label, now=ctx.now()), target=lambda r: None if r is None else r[0].client_id)
        if made is None:
            return PartnerClientPayload(client=None, client_secret=None, errors=errors)
        return PartnerClientPayload(client=PartnerClientCredential.from_row(made[0]), client_secret=made[1],
                                    errors=errors)

    @strawberry.mutation(description="Revoke client credentials; tokens issued to them stop working at once.",
                         metadata=allow(PARTNER_ADMINS))
    def revoke_partner_client(self, info: Info[Context, Any], client_id: str) -> PartnerClientPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "revokePartnerClient", {"clientId": client_id},
                                   lambda s: credentials.revoke_client(s, principal=ctx.principal,
                                                                       client_id=client_id, now=ctx.now()),
                                   target=lambda r: None if r is None else r.client_id)
        return PartnerClientPayload(client=PartnerClientCredential.from_row(row) if row else None,
                                    client_secret=None, errors=errors)

    @strawberry.mutation(description="Assign an approved partner to a case; it hears of it by webhook.",
                         metadata=allow(ASSIGNERS))
    def create_assignment(self, info: Info[Context, Any], input: CreateAssignmentInput) -> AssignmentPayload:
        ctx = _ctx(info)

        def work(s: Any) -> m.Assignment:
            inv = None
            if input.investigation_id is not None:
                if not input.investigation_id.isdigit():
                    raise ValidationError("investigation id must be a decimal number", field="investigationId")
                inv = int(input.investigation_id)
            return assignment_service.create_assignment(
                s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
                kind=input.kind, case_reference=input.case_reference, investigation_id=inv, now=ctx.now())

        row, errors = run_mutation(info, "createAssignment", input, work,
                                   target=lambda a: None if a is None else encode_global_id("Assignment", a.id))
        return AssignmentPayload(assignment=Assignment.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Submit an EIP-712 signed record (SurveyReport, HospitalBill, CreditReport). "
                         "Refusals: MALFORMED, WRONG_DOMAIN, WRONG_CHAIN, WRONG_CONTRACT, HIGH_S, "
                         "DEADLINE_PASSED, NOT_ASSIGNED, WRONG_SIGNER, KEY_REVOKED, KEY_NOT_YET_VALID, "
                         "KEY_EXPIRED, NONCE_REUSED, PARTNER_NOT_APPROVED.", metadata=allow(PARTNER))
    def submit_signed_record(self, info: Info[Context, Any], input: SignedRecordInput) -> SignedRecordPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "submitSignedRecord", input, lambda s: signed_records.submit_signed_record(
            s, principal=ctx.principal, domain=ledger_seam.signing_domain(s, ctx.settings),
            typed_data=input.typed_data, signature=input.signature, now=ctx.now()),
            target=lambda r: None if r is None else encode_global_id("SignedRecord", r.id))
        return SignedRecordPayload(record=SignedRecord.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description=f"Submit up to {MAX_BATCH} signed records; each is accepted or refused alone.",
                         metadata=allow(PARTNER))
    def submit_signed_records(self, info: Info[Context, Any], inputs: list[SignedRecordInput]) -> SubmitSignedRecordsPayload:
        ctx = _ctx(info)
        if len(inputs) > MAX_BATCH:
            err = ValidationError(f"at most {MAX_BATCH} records per call", field="inputs", code="TOO_MANY")
            return SubmitSignedRecordsPayload(results=[], accepted=0, errors=_errors(err))

        def work(s: Any) -> list[tuple[signed_records.Outcome, m.SignedRecord | None]]:
            outcomes = signed_records.verify_and_store(
                s, principal=ctx.principal, domain=ledger_seam.signing_domain(s, ctx.settings), now=ctx.now(),
                submissions=[signed_records.Submission(i.typed_data, i.signature) for i in inputs])
            return [(o, s.get(m.SignedRecord, o.record_id) if o.record_id else None) for o in outcomes]

        done, errors = run_mutation(info, "submitSignedRecords", {"count": len(inputs), "inputs": inputs}, work)
        results = [
            SignedRecordResult(index=i, record=SignedRecord.from_row(row) if row else None,
                               errors=_errors(o.error) if o.error else [])
            for i, (o, row) in enumerate(done or [])
        ]
        return SubmitSignedRecordsPayload(results=results, accepted=sum(1 for r in results if r.record), errors=errors)

    @strawberry.mutation(description="Publish a risk flag about a blinded person id (partner insurers).",
                         metadata=allow(PARTNER))
    def publish_risk_flag(self, info: Info[Context, Any], input: PublishRiskFlagInput) -> RiskFlagPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "publishRiskFlag", input, lambda s: risk.publish_flag(
            s, principal=ctx.principal, blinded_id=input.blinded_id, flag_code=input.flag_code, level=input.level,
            evidence_commitment=input.evidence_commitment, now=ctx.now()),
            target=lambda r: None if r is None else encode_global_id("RiskFlag", r.id))
        return RiskFlagPayload(risk_flag=RiskFlag.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Add a webhook endpoint (https, a public host); the signing secret is "
                                     "shown once.",
                         metadata=allow(WEBHOOK_READERS))
    def register_webhook_endpoint(
        self, info: Info[Context, Any], input: RegisterWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        ctx = _ctx(info)
        made, errors = run_mutation(info, "registerWebhookEndpoint", input, lambda s: webhooks.register_endpoint(
            s, principal=ctx.principal, partner_id=_own_partner_id(ctx, input.partner_id), url=input.url,
            events=input.events, policy=EgressPolicy.from_settings(ctx.settings),
            allow_insecure=_insecure_webhooks(ctx), now=ctx.now()),
            target=lambda r: None if r is None else encode_global_id("WebhookEndpoint", r[0].id))
        if made is None:
            return WebhookEndpointPayload(endpoint=None, secret=None, errors=errors)
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(made[0]), secret=made[1], errors=errors)

    @strawberry.mutation(description="Stop delivering to a webhook endpoint.", metadata=allow(WEBHOOK_READERS))
    def deactivate_webhook_endpoint(self, info: Info[Context, Any], endpoint_id: strawberry.ID) -> WebhookEndpointPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "deactivateWebhookEndpoint", {"endpointId": endpoint_id},
                                   lambda s: webhooks.deactivate_endpoint(
                                       s, principal=ctx.principal,
                                       endpoint_id=decode_global_id(endpoint_id, "WebhookEndpoint",
                                                                    field="endpointId")))
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row) if row else None, secret=None,
                                      errors=errors)
