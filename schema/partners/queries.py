"""Root query fields of the partners domain, and how its types are fetched by global id (``NODES``).

A partner token sees only its own partner, assignments, signed records, keys, endpoints and
deliveries; reading another partner's case is refused with ``FORBIDDEN``
(``partners.scoping``).
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.errors import NotFoundError, ValidationError
from core.roles import (
    INTERNAL,
    MANAGERS,
    PARTNER_READERS,
    PARTNER_SELF_SERVICE,
    PARTNERS,
    RISK_FLAG_READERS,
    RISK_FLAG_STAFF,
)
from partners import assignments as assignment_service
from partners import credentials, eip712, ledger_seam, risk, signed_records, webhooks
from partners import loaders as fetch
from partners import service as registry
from partners.scoping import forbid_other_partner
from schema.context import Context
from schema.node import NodeFetcher
from schema.partners.arguments import acting_partner
from schema.partners.enums import AssignmentKind, PartnerKind, PartnerStatus, WebhookDeliveryStatus
from schema.partners.types import (
    Assignment,
    AssignmentConnection,
    DisclosureVerdict,
    Partner,
    PartnerClientCredential,
    PartnerConnection,
    RecordDisclosure,
    RiskFlag,
    SignedRecord,
    SignedRecordConnection,
    SigningDomain,
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookEndpoint,
)
from schema.permissions import allow
from schema.relay import decode_global_id, keyset_edges, page_info, page_size

__all__ = ["NODES", "PartnersQuery"]

#: How ``node(id:)`` fetches this domain's types (``schema.node``): none of them yet, as before.
NODES: dict[str, NodeFetcher] = {}


@strawberry.type
class PartnersQuery:
    @strawberry.field(description="Partners, oldest first; first: 0..100 (default 20).", metadata=allow(INTERNAL))
    def partners(
        self,
        info: Info[Context, Any],
        first: int | None = None,
        after: str | None = None,
        status: PartnerStatus | None = None,  # type: ignore[valid-type]
        kind: PartnerKind | None = None,  # type: ignore[valid-type]
    ) -> PartnerConnection:
        ctx = info.context
        page = registry.list_partners(ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings),
                                      after=after, status=status, kind=kind)
        return PartnerConnection(edges=keyset_edges(page, Partner.from_row), page_info=page_info(page))

    @strawberry.field(description="A partner by global id (a partner: only itself, else FORBIDDEN).",
                      metadata=allow(PARTNER_READERS))
    def partner(self, info: Info[Context, Any], id: strawberry.ID) -> Partner | None:
        ctx = info.context
        pk = decode_global_id(id, "Partner")
        forbid_other_partner(ctx.principal, pk)
        row = fetch.partners_by_id(ctx.session, [pk]).get(pk)
        return Partner.from_row(row) if row else None

    @strawberry.field(description="The calling partner.", metadata=allow(PARTNERS))
    def my_partner(self, info: Info[Context, Any]) -> Partner | None:
        ctx = info.context
        pid = ctx.principal.partner_id
        row = fetch.partners_by_id(ctx.session, [pid]).get(pid) if pid is not None else None
        return Partner.from_row(row) if row else None

    @strawberry.field(description="Assignments the caller may see (a partner: its own); first: 0..100.",
                      metadata=allow(PARTNER_READERS))
    def assignments(
        self, info: Info[Context, Any], first: int | None = None, after: str | None = None,
        kind: AssignmentKind | None = None,  # type: ignore[valid-type]
    ) -> AssignmentConnection:
        ctx = info.context
        page = assignment_service.list_assignments(ctx.session, principal=ctx.principal,
                                                   first=page_size(first, ctx.settings), after=after, kind=kind)
        return AssignmentConnection(edges=keyset_edges(page, Assignment.from_row), page_info=page_info(page))

    @strawberry.field(description="An assignment by global id; another partner's is FORBIDDEN.",
                      metadata=allow(PARTNER_READERS))
    def assignment(self, info: Info[Context, Any], id: strawberry.ID) -> Assignment | None:
        ctx = info.context
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
        ctx = info.context
        aid = decode_global_id(assignment_id, "Assignment", field="assignmentId") if assignment_id else None
        page = signed_records.list_signed_records(ctx.session, principal=ctx.principal,
                                                  first=page_size(first, ctx.settings), after=after,
                                                  assignment_id=aid)
        return SignedRecordConnection(edges=keyset_edges(page, SignedRecord.from_row), page_info=page_info(page))

    @strawberry.field(description="A signed record by global id; another partner's is FORBIDDEN.",
                      metadata=allow(PARTNER_READERS))
    def signed_record(self, info: Info[Context, Any], id: strawberry.ID) -> SignedRecord | None:
        ctx = info.context
        try:
            row = signed_records.get_signed_record(ctx.session, principal=ctx.principal,
                                                   record_id=decode_global_id(id, "SignedRecord"))
        except NotFoundError:
            return None
        return SignedRecord.from_row(row)

    @strawberry.field(description="The EIP-712 domain (the AnchorRegistry's chain and address) and types.",
                      metadata=allow(PARTNER_READERS))
    def partner_signing_domain(self, info: Info[Context, Any]) -> SigningDomain:
        ctx = info.context
        d = ledger_seam.signing_domain(ctx.session, ctx.settings)
        types = {name: [{"name": n, "type": t} for n, t in fields] for name, fields in eip712.RECORD_TYPES.items()}
        return SigningDomain(name=d.name, version=d.version, chain_id=str(d.chain_id),
                             verifying_contract=d.verifying_contract, types=JSON(types))

    @strawberry.field(description="Risk flags on a blinded id (HMAC-SHA256 under the consortium key), "
                      "newest first, at most 100. Partner insurers and claims staff.",
                      metadata=allow(RISK_FLAG_READERS))
    def risk_flags(self, info: Info[Context, Any], blinded_id: str) -> list[RiskFlag]:
        ctx = info.context
        return [RiskFlag.from_row(r) for r in risk.find_flags(ctx.session, principal=ctx.principal,
                                                                blinded_id=blinded_id)]

    @strawberry.field(description="Risk flags on a person, blinded here with the consortium key (staff).",
                      metadata=allow(RISK_FLAG_STAFF))
    def risk_flags_for_id_number(self, info: Info[Context, Any], id_number: str) -> list[RiskFlag]:
        ctx = info.context
        blinded = risk.consortium_key(ctx.settings.keys_dir).blind(id_number)
        return [RiskFlag.from_row(r) for r in risk.find_flags(ctx.session, principal=ctx.principal,
                                                                blinded_id=blinded)]

    @strawberry.field(description="Disclose one of your flags: body and salt to hand to a partner.",
                      metadata=allow(RISK_FLAG_READERS))
    def risk_flag_disclosure(self, info: Info[Context, Any], risk_flag_id: strawberry.ID) -> RecordDisclosure:
        ctx = info.context
        d = risk.disclose_flag(ctx.session, principal=ctx.principal,
                               risk_flag_id=decode_global_id(risk_flag_id, "RiskFlag", field="riskFlagId"))
        return RecordDisclosure(body=JSON(d.body), salt=d.salt, commitment=d.commitment, proof=JSON(d.bundle))

    @strawberry.field(description="Check a disclosed record body and salt against its anchored commitment.",
                      metadata=allow(RISK_FLAG_READERS))
    def verify_disclosure(self, info: Info[Context, Any], commitment: str, body: JSON, salt: str) -> DisclosureVerdict:
        ctx = info.context
        if not isinstance(body, dict):
            raise ValidationError("body must be a JSON object", field="body")
        v = risk.verify_disclosure(ctx.session, commitment=commitment, body=body, salt=salt)
        return DisclosureVerdict(matches=v.matches, anchored=v.anchored, kind=v.kind,
                                 proof=JSON(v.bundle) if v.bundle is not None else None)

    @strawberry.field(description="Webhook deliveries (a partner: its own), oldest first; first: 0..100.",
                      metadata=allow(PARTNER_SELF_SERVICE))
    def webhook_deliveries(
        self, info: Info[Context, Any], first: int | None = None, after: str | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
        event: str | None = None,
    ) -> WebhookDeliveryConnection:
        ctx = info.context
        page = webhooks.list_deliveries(ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings),
                                        after=after, status=status, event=event)
        return WebhookDeliveryConnection(edges=keyset_edges(page, WebhookDelivery.from_row), page_info=page_info(page))

    @strawberry.field(description="A partner's webhook endpoints (a partner: its own).", metadata=allow(PARTNER_SELF_SERVICE))
    def webhook_endpoints(self, info: Info[Context, Any], partner_id: strawberry.ID | None = None) -> list[WebhookEndpoint]:
        ctx = info.context
        pid = acting_partner(ctx, partner_id)
        return [WebhookEndpoint.from_row(r) for r in webhooks.list_endpoints(ctx.session, principal=ctx.principal,
                                                                             partner_id=pid)]

    @strawberry.field(description="A partner's client credentials (no secrets).", metadata=allow(MANAGERS))
    def partner_clients(self, info: Info[Context, Any], partner_id: strawberry.ID) -> list[PartnerClientCredential]:
        ctx = info.context
        pid = decode_global_id(partner_id, "Partner", field="partnerId")
        return [PartnerClientCredential.from_row(r)
                for r in credentials.clients_of(ctx.session, principal=ctx.principal, partner_id=pid)]
