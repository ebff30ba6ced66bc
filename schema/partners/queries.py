"""Root query fields of the partners domain, and how its types are fetched by global id (``NODES``).

A partner token sees only its own partner, assignments, signed records, keys, endpoints and
deliveries; reading another partner's case by id is refused with ``FORBIDDEN``
(``partners.scoping``), and ``node(id:)`` answers null for it.
"""

from __future__ import annotations

from typing import Annotated, Any

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
from partners import credentials, keys, ledger_seam, risk, signed_records, webhooks
from partners import loaders as fetch
from partners import service as registry
from partners.scoping import forbid_other_partner
from schema.context import Context
from schema.node import NodeFetcher
from schema.partners.arguments import acting_partner
from schema.partners.enums import (
    AssignmentKind,
    PartnerKind,
    PartnerStatus,
    WebhookDeliveryStatus,
    WebhookEvent,
)
from schema.partners.messages import domain_fields, record_types
from schema.partners.paging import After, Before, First, Last
from schema.partners.types import (
    Assignment,
    DisclosureVerdict,
    Partner,
    PartnerClientCredential,
    RecordDisclosure,
    RiskFlag,
    SignedRecord,
    SignerKey,
    SigningDomain,
    WebhookDelivery,
    WebhookEndpoint,
)
from schema.permissions import allow
from schema.relay import PAGING, Connection, connection, decode_global_id, page_request

__all__ = ["NODES", "PartnersQuery"]

_BLINDED_ID = Annotated[str, strawberry.argument(
    description="HMAC-SHA256(consortium key, normalised ID number), 64 hex characters.")]
_OWN_PARTNER = Annotated[strawberry.ID | None, strawberry.argument(
    description="The Partner's global id; a partner may name only itself (default: the calling partner).")]


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


@strawberry.type
class PartnersQuery:
    @strawberry.field(description=f"Partners, oldest first (staff and auditors). {PAGING}", metadata=allow(INTERNAL))
    def partners(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        status: Annotated[PartnerStatus | None, _arg("Only partners in this status.")] = None,  # type: ignore[valid-type]
        kind: Annotated[PartnerKind | None, _arg("Only partners of this kind.")] = None,  # type: ignore[valid-type]
    ) -> Connection[Partner]:
        ctx = info.context
        page = registry.list_partners(ctx.session, principal=ctx.principal, status=status, kind=kind,
                                      page=page_request(first, after, last, before, ctx.settings))
        return connection(page, Partner.from_row, count=lambda: registry.count_partners(
            ctx.session, principal=ctx.principal, status=status, kind=kind))

    @strawberry.field(description="A partner by global id (a partner: only itself, else FORBIDDEN).",
                      metadata=allow(PARTNER_READERS))
    def partner(self, info: Info[Context, Any], id: Annotated[strawberry.ID, _arg("The Partner's global id.")]
                ) -> Partner | None:
        ctx = info.context
        pk = decode_global_id(id, "Partner")
        forbid_other_partner(ctx.principal, pk)
        row = fetch.partners_by_id(ctx.session, [pk]).get(pk)
        return Partner.from_row(row) if row else None

    @strawberry.field(description="The calling partner (partner tokens; null for anyone else).",
                      metadata=allow(PARTNERS))
    def my_partner(self, info: Info[Context, Any]) -> Partner | None:
        ctx = info.context
        pid = ctx.principal.partner_id
        row = fetch.partners_by_id(ctx.session, [pid]).get(pid) if pid is not None else None
        return Partner.from_row(row) if row else None

    @strawberry.field(description=f"Assignments the caller may see (a partner: its own), oldest first. {PAGING}",
                      metadata=allow(PARTNER_READERS))
    def assignments(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        kind: Annotated[AssignmentKind | None, _arg("Only assignments of this kind.")] = None,  # type: ignore[valid-type]
    ) -> Connection[Assignment]:
        ctx = info.context
        page = assignment_service.list_assignments(ctx.session, principal=ctx.principal, kind=kind,
                                                   page=page_request(first, after, last, before, ctx.settings))
        return connection(page, Assignment.from_row, count=lambda: assignment_service.count_assignments(
            ctx.session, principal=ctx.principal, kind=kind))

    @strawberry.field(description="An assignment by global id; another partner's is FORBIDDEN.",
                      metadata=allow(PARTNER_READERS))
    def assignment(self, info: Info[Context, Any],
                   id: Annotated[strawberry.ID, _arg("The Assignment's global id.")]) -> Assignment | None:
        ctx = info.context
        try:
            row = assignment_service.get_assignment(ctx.session, principal=ctx.principal,
                                                    assignment_id=decode_global_id(id, "Assignment"))
        except NotFoundError:
            return None
        return Assignment.from_row(row)

    @strawberry.field(description=f"Signed records the caller may see (a partner: its own), oldest first. {PAGING}",
                      metadata=allow(PARTNER_READERS))
    def signed_records(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        assignment_id: Annotated[strawberry.ID | None, _arg("Only the records answering this Assignment.")] = None,
    ) -> Connection[SignedRecord]:
        ctx = info.context
        aid = decode_global_id(assignment_id, "Assignment", field="assignmentId") if assignment_id else None
        page = signed_records.list_signed_records(ctx.session, principal=ctx.principal, assignment_id=aid,
                                                  page=page_request(first, after, last, before, ctx.settings))
        return connection(page, SignedRecord.from_row, count=lambda: signed_records.count_signed_records(
            ctx.session, principal=ctx.principal, assignment_id=aid))

    @strawberry.field(description="A signed record by global id; another partner's is FORBIDDEN.",
                      metadata=allow(PARTNER_READERS))
    def signed_record(self, info: Info[Context, Any],
                      id: Annotated[strawberry.ID, _arg("The SignedRecord's global id.")]) -> SignedRecord | None:
        ctx = info.context
        try:
            row = signed_records.get_signed_record(ctx.session, principal=ctx.principal,
                                                   record_id=decode_global_id(id, "SignedRecord"))
        except NotFoundError:
            return None
        return SignedRecord.from_row(row)

    @strawberry.field(description="The EIP-712 domain (the AnchorRegistry's chain and address) and record types to "
                      "sign with: read it, never hard-code it (it changes with the ledger network).",
                      metadata=allow(PARTNER_READERS))
    def partner_signing_domain(self, info: Info[Context, Any]) -> SigningDomain:
        ctx = info.context
        d = ledger_seam.signing_domain(ctx.session, ctx.settings)
        return SigningDomain(name=d.name, version=d.version, chain_id=str(d.chain_id),
                             verifying_contract=d.verifying_contract, types=record_types(),
                             domain_fields=domain_fields())

    @strawberry.field(description=f"Risk flags on a blinded person id, newest first: partner insurers (approved) "
                      f"and risk staff. {PAGING}", metadata=allow(RISK_FLAG_READERS))
    def risk_flags(
        self, info: Info[Context, Any], blinded_id: _BLINDED_ID, first: First = None, after: After = None,
        last: Last = None, before: Before = None,
    ) -> Connection[RiskFlag]:
        ctx = info.context
        return _flags(ctx, blinded_id, page_request(first, after, last, before, ctx.settings))

    @strawberry.field(description=f"Risk flags on a person, blinded here with the consortium key (risk staff), "
                      f"newest first. {PAGING}", metadata=allow(RISK_FLAG_STAFF))
    def risk_flags_for_id_number(
        self, info: Info[Context, Any],
        id_number: Annotated[str, _arg("The person's ID number (5-32 letters and digits; spaces and hyphens "
                                         "are ignored).")],
        first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[RiskFlag]:
        ctx = info.context
        blinded = risk.consortium_key(ctx.settings.keys_dir).blind(id_number)
        return _flags(ctx, blinded, page_request(first, after, last, before, ctx.settings))

    @strawberry.field(description="Disclose one of your flags (its publisher, or risk staff): body and salt to hand "
                      "to a partner, who checks them with verifyDisclosure.", metadata=allow(RISK_FLAG_READERS))
    def risk_flag_disclosure(
        self, info: Info[Context, Any],
        risk_flag_id: Annotated[strawberry.ID, _arg("The RiskFlag's global id.")],
    ) -> RecordDisclosure:
        ctx = info.context
        d = risk.disclose_flag(ctx.session, principal=ctx.principal,
                               risk_flag_id=decode_global_id(risk_flag_id, "RiskFlag", field="riskFlagId"))
        return RecordDisclosure(body=JSON(d.body), salt=d.salt, commitment=d.commitment, record_pk=d.record_id)

    @strawberry.field(description="Check a disclosed record body and salt against its anchored commitment.",
                      metadata=allow(RISK_FLAG_READERS))
    def verify_disclosure(
        self, info: Info[Context, Any],
        commitment: Annotated[str, _arg("The commitment disclosed (0x + 64 hex).")],
        body: Annotated[JSON, _arg("The disclosed body exactly as received (a JSON object); free-form by nature: "
                                     "it is hashed as given.")],
        salt: Annotated[str, _arg("The disclosed salt (64 hex characters).")],
    ) -> DisclosureVerdict:
        ctx = info.context
        if not isinstance(body, dict):
            raise ValidationError("body must be a JSON object", field="body")
        v = risk.verify_disclosure(ctx.session, commitment=commitment, body=body, salt=salt)
        return DisclosureVerdict(matches=v.matches, anchored=v.anchored, kind=v.kind, record_pk=v.record_id)

    @strawberry.field(description=f"Webhook deliveries (a partner: its own), oldest first. {PAGING}",
                      metadata=allow(PARTNER_SELF_SERVICE))
    def webhook_deliveries(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        status: Annotated[WebhookDeliveryStatus | None,  # type: ignore[valid-type]
                          _arg("Only deliveries in this status.")] = None,
        event: Annotated[WebhookEvent | None, _arg("Only deliveries of this event.")] = None,  # type: ignore[valid-type]
    ) -> Connection[WebhookDelivery]:
        ctx = info.context
        page = webhooks.list_deliveries(ctx.session, principal=ctx.principal, status=status, event=event,
                                        page=page_request(first, after, last, before, ctx.settings))
        return connection(page, WebhookDelivery.from_row, count=lambda: webhooks.count_deliveries(
            ctx.session, principal=ctx.principal, status=status, event=event))

    @strawberry.field(description=f"A partner's webhook endpoints, active and deactivated, oldest first (a partner: "
                      f"its own; managers name the partner). {PAGING}", metadata=allow(PARTNER_SELF_SERVICE))
    def webhook_endpoints(
        self, info: Info[Context, Any], partner_id: _OWN_PARTNER = None, first: First = None, after: After = None,
        last: Last = None, before: Before = None,
    ) -> Connection[WebhookEndpoint]:
        ctx = info.context
        pid = acting_partner(ctx, partner_id)
        page = webhooks.list_endpoints(ctx.session, principal=ctx.principal, partner_id=pid,
                                       page=page_request(first, after, last, before, ctx.settings))
        return connection(page, WebhookEndpoint.from_row, count=lambda: webhooks.count_endpoints(
            ctx.session, principal=ctx.principal, partner_id=pid))

    @strawberry.field(description=f"A partner's client credentials, revoked ones included, oldest first (no "
                      f"secrets; managers). {PAGING}", metadata=allow(MANAGERS))
    def partner_clients(
        self, info: Info[Context, Any], partner_id: Annotated[strawberry.ID, _arg("The Partner's global id.")],
        first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[PartnerClientCredential]:
        ctx = info.context
        pid = decode_global_id(partner_id, "Partner", field="partnerId")
        page = credentials.list_clients(ctx.session, principal=ctx.principal, partner_id=pid,
                                        page=page_request(first, after, last, before, ctx.settings))
        return connection(page, PartnerClientCredential.from_row, count=lambda: credentials.count_clients(
            ctx.session, principal=ctx.principal, partner_id=pid))


def _flags(ctx: Context, blinded_id: str, request: Any) -> Connection[RiskFlag]:
    page = risk.list_flags(ctx.session, principal=ctx.principal, blinded_id=blinded_id, page=request)
    return connection(page, RiskFlag.from_row, count=lambda: risk.count_flags(
        ctx.session, principal=ctx.principal, blinded_id=blinded_id))


def _only(roles: frozenset[str], fetch: NodeFetcher) -> NodeFetcher:
    """``fetch`` for the roles that may run the type's own query; null for everyone else."""

    def fetch_if_allowed(ctx: Context, pk: int) -> Any:
        return fetch(ctx, pk) if ctx.principal.role in roles else None

    return fetch_if_allowed


#: How ``node(id:)`` fetches this domain's types (``schema.node``), each scoped as its own query: a
#: partner sees only its own rows (a risk flag: those it published), staff per the query's roles.
NODES: dict[str, NodeFetcher] = {
    "Partner": _only(PARTNER_READERS, lambda ctx, pk: Partner.from_row(
        registry.get_partner(ctx.session, principal=ctx.principal, partner_id=pk))),
    "Assignment": _only(PARTNER_READERS, lambda ctx, pk: Assignment.from_row(
        assignment_service.get_assignment(ctx.session, principal=ctx.principal, assignment_id=pk))),
    "SignedRecord": _only(PARTNER_READERS, lambda ctx, pk: SignedRecord.from_row(
        signed_records.get_signed_record(ctx.session, principal=ctx.principal, record_id=pk))),
    "SignerKey": _only(PARTNER_READERS, lambda ctx, pk: SignerKey.from_row(
        keys.get_key(ctx.session, principal=ctx.principal, key_id=pk))),
    "RiskFlag": _only(RISK_FLAG_READERS, lambda ctx, pk: RiskFlag.from_row(
        risk.get_flag(ctx.session, principal=ctx.principal, risk_flag_id=pk))),
    "WebhookEndpoint": _only(PARTNER_SELF_SERVICE, lambda ctx, pk: WebhookEndpoint.from_row(
        webhooks.get_endpoint(ctx.session, principal=ctx.principal, endpoint_id=pk))),
    "WebhookDelivery": _only(PARTNER_SELF_SERVICE, lambda ctx, pk: WebhookDelivery.from_row(
        webhooks.get_delivery(ctx.session, principal=ctx.principal, delivery_id=pk))),
    "PartnerClientCredential": _only(MANAGERS, lambda ctx, pk: PartnerClientCredential.from_row(
        credentials.get_client(ctx.session, principal=ctx.principal, client_pk=pk))),
}
