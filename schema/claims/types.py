"""GraphQL object types of the claims domain: claims, line items, documents, timeline, payments.

Each field with a resolver calls one body function of (source, context); the same function
is the field's fast twin (``schema.fastexec``). Reasons are worded per reader: the caller's
role and the request's Accept-Language (``resolvers.claims.reasons``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.roles import CLAIM_READERS, DOCUMENT_READERS, POLICY_READERS, RISK_READERS, STAFF
from resolvers.claims import models as m
from resolvers.claims.queue import QueueFilter, count_queue
from resolvers.claims.reasons import Locale, ReasonCode, eob_summary, negotiate_locale, render_reason
from schema.claims.enums import (
    ClaimChannel,
    ClaimReasonCode,
    ClaimState,
    DocumentKind,
    LineItemSource,
    PayeeKind,
    RiskLevel,
)
from schema.claims.loaders import (
    DocumentsByClaimIdLoader,
    EventsByClaimIdLoader,
    LineItemsByClaimIdLoader,
    PaymentsByClaimIdLoader,
    RequestsByClaimIdLoader,
)
from schema.context import Context
from schema.fastexec import fast
from schema.lookahead import prefetch_by
from schema.permissions import access, allow
from schema.policies.loaders import CustomerByIdLoader, PolicyByIdLoader
from schema.policies.types import Customer, Policy
from schema.relay import Edge, Node, PageInfo, encode_global_id

__all__ = [
    "Claim",
    "ClaimConnection",
    "ClaimDocument",
    "ClaimEvent",
    "ClaimLineItem",
    "ClaimPayment",
    "DocumentRequest",
    "RiskHint",
]


def _reader(ctx: Context) -> tuple[str | None, Locale]:
    """Who reads (role) and in which language (the request's Accept-Language)."""
    headers = getattr(ctx.request, "headers", None)
    return (ctx.principal.role.value if ctx.principal.role else None,
            negotiate_locale(headers.get("accept-language") if headers is not None else None))


# --- resolver bodies ------------------------------------------------------------------------------


def _policy(c: Claim, ctx: Context) -> Any:
    return ctx.loader(PolicyByIdLoader).get_wrapped(c.policy_pk, Policy.from_row)


def _customer(c: Claim, ctx: Context) -> Any:
    return ctx.loader(CustomerByIdLoader).get_wrapped(c.customer_pk, Customer.from_row)


def _line_items(c: Claim, ctx: Context) -> Any:
    return ctx.loader(LineItemsByClaimIdLoader).get_wrapped(c.pk, ClaimLineItem.from_row)


def _documents(c: Claim, ctx: Context) -> Any:
    return ctx.loader(DocumentsByClaimIdLoader).get_wrapped(c.pk, ClaimDocument.from_row)


def _timeline(c: Claim, ctx: Context) -> Any:
    return ctx.loader(EventsByClaimIdLoader).get_wrapped(c.pk, ClaimEvent.from_row)


def _payments(c: Claim, ctx: Context) -> Any:
    return ctx.loader(PaymentsByClaimIdLoader).get_wrapped(c.pk, ClaimPayment.from_row)


def _requests(c: Claim, ctx: Context) -> Any:
    return ctx.loader(RequestsByClaimIdLoader).get_wrapped(c.pk, DocumentRequest.from_row)


# --- types ---------------------------------------------------------------------------------------


@strawberry.type(description="One structured invoice line and its benefit decision.")
@access(CLAIM_READERS)
class ClaimLineItem:
    item_code: str
    category: str
    description: str
    quantity: int
    amount: Decimal
    source: LineItemSource  # type: ignore[valid-type]
    approved_amount: Decimal | None
    reason_code: str | None = strawberry.field(description="Rejection or reduction code (see EOB summary).")

    @classmethod
    def from_row(cls, r: m.ClaimLineItem) -> ClaimLineItem:
        return cls(item_code=r.item_code, category=r.category, description=r.description, quantity=r.quantity,
                   amount=r.amount, source=r.source, approved_amount=r.approved_amount, reason_code=r.reason_code)


@strawberry.type(description="An uploaded claim document (bytes in storage, digest here).")
@access(CLAIM_READERS)
class ClaimDocument(Node):
    kind: DocumentKind  # type: ignore[valid-type]
    filename: str
    content_type: str
    size: int
    sha256: str
    anchored_record: bool = strawberry.field(description="Whether it was committed to the ledger (medical).")
    original_received_on: dt.date | None
    uploaded_at: dt.datetime
    download_url: str = strawberry.field(
        metadata=allow(DOCUMENT_READERS),
        description="Path of the download route (GET with the same bearer token; ETag and ranges).")

    @classmethod
    def from_row(cls, r: m.ClaimDocument) -> ClaimDocument:
        doc_id = encode_global_id("ClaimDocument", r.id)
        return cls(id=strawberry.ID(doc_id), kind=r.kind, filename=r.filename,
                   content_type=r.content_type, size=r.size, sha256=r.sha256,
                   anchored_record=r.ledger_record_id is not None, original_received_on=r.original_received_on,
                   uploaded_at=r.created_at,
                   download_url=f"/claims/{encode_global_id('Claim', r.claim_id)}/documents/{doc_id}")


@strawberry.type(description="A request for a supplementary document.")
@access(CLAIM_READERS)
class DocumentRequest:
    kind: DocumentKind  # type: ignore[valid-type]
    due_on: dt.date
    note: str
    fulfilled: bool

    @classmethod
    def from_row(cls, r: m.DocumentRequest) -> DocumentRequest:
        return cls(kind=r.kind, due_on=r.due_on, note=r.note, fulfilled=r.fulfilled_by_id is not None)


def _event_reason(e: ClaimEvent, ctx: Context) -> str:
    role, locale = _reader(ctx)
    return render_reason(e.reason_code, e.params, role=role, locale=locale)


@strawberry.type(description="One entry of a claim's timeline.")
@access(CLAIM_READERS)
class ClaimEvent:
    at: dt.datetime
    kind: str
    from_state: str | None
    to_state: str | None
    reason_code: ClaimReasonCode  # type: ignore[valid-type]
    actor: str = strawberry.field(metadata=allow(RISK_READERS))
    params: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_row(cls, r: m.ClaimEvent) -> ClaimEvent:
        return cls(at=r.at, kind=r.kind, from_state=r.from_state, to_state=r.to_state,
                   reason_code=_code(r.reason_code), params=r.reason_params or {}, actor=r.actor)

    @strawberry.field(description="Why, in the reader's words: staff and auditors get the detail, customers "
                      "and hospitals a customer-facing sentence (zh-CN or en by Accept-Language) without any "
                      "parameter their role may not read.", metadata=fast(_event_reason))
    def reason(self, info: Info[Context, Any]) -> str:
        return _event_reason(self, info.context)


@strawberry.type(description="A payment instruction (settled once per claim and key).")
@access(CLAIM_READERS)
class ClaimPayment:
    seq: int
    amount: Decimal
    payee_kind: PayeeKind  # type: ignore[valid-type]
    status: str
    idempotency_key: str = strawberry.field(metadata=allow(STAFF))
    created_at: dt.datetime

    @classmethod
    def from_row(cls, r: m.Payment) -> ClaimPayment:
        return cls(seq=r.seq, amount=r.amount, payee_kind=r.payee_kind, status=r.status,
                   idempotency_key=r.idempotency_key, created_at=r.created_at)


@strawberry.type(description="Why risk control flagged a claim: the rule or model feature that fired.")
@access(RISK_READERS)
class RiskHint:
    source: str = strawberry.field(description="rule or model")
    code: str
    level: str
    score: float
    message: str


def _code(value: str) -> ReasonCode:
    try:
        return ReasonCode(value)
    except ValueError:
        return ReasonCode.OTHER


def _decision_reason(c: Claim, ctx: Context) -> str | None:
    if c.decision_reason_code is None:
        return None
    role, locale = _reader(ctx)
    return render_reason(c.decision_reason_code, c.decision_params, role=role, locale=locale)


def _eob(c: Claim, ctx: Context) -> JSON | None:
    if c.eob is None:
        return None
    role, locale = _reader(ctx)
    return JSON({**c.eob, "summary": eob_summary(c.eob, locale="en" if role in RISK_READERS else locale)})


@strawberry.type(description="A health insurance claim.")
@access(CLAIM_READERS)
class Claim(Node):
    number: str
    state: ClaimState  # type: ignore[valid-type]
    channel: ClaimChannel  # type: ignore[valid-type]
    event_date: dt.date
    admission_date: dt.date
    discharge_date: dt.date
    hospital: str
    diagnosis_code: str = strawberry.field(description="ICD-10 code.")
    claimed_amount: Decimal
    approved_amount: Decimal | None
    paid_amount: Decimal
    fast_track: bool = strawberry.field(description="Decided and paid automatically by fast-claim.")
    decision_reason_code: ClaimReasonCode | None  # type: ignore[valid-type]
    duplicate_suspected: bool
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    sla_due_at: dt.datetime | None = strawberry.field(metadata=allow(RISK_READERS))
    reported_at: dt.datetime
    risk_score: float | None = strawberry.field(metadata=allow(RISK_READERS),
                                                description="Model probability of an irregular claim (0..1).")
    risk_level: RiskLevel | None = strawberry.field(metadata=allow(RISK_READERS))  # type: ignore[valid-type]
    risk_hints: list[RiskHint] = strawberry.field(metadata=allow(RISK_READERS))
    rules_version: str | None = strawberry.field(metadata=allow(RISK_READERS))
    version: int = strawberry.field(description="Optimistic-locking version; send it back as expectedVersion.")
    pk: strawberry.Private[int]
    policy_pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]
    decision_params: strawberry.Private[dict[str, Any]]
    eob: strawberry.Private[dict[str, Any] | None]

    @classmethod
    def from_row(cls, r: m.Claim) -> Claim:
        return cls(
            id=strawberry.ID(encode_global_id("Claim", r.id)), pk=r.id, policy_pk=r.policy_id,
            customer_pk=r.customer_id, number=r.number, state=r.state, channel=r.channel, event_date=r.event_date,
            admission_date=r.admission_date, discharge_date=r.discharge_date, hospital=r.hospital,
            diagnosis_code=r.diagnosis_code, claimed_amount=r.claimed_amount, approved_amount=r.approved_amount,
            paid_amount=r.paid_amount, fast_track=r.fast_track,
            decision_reason_code=_code(r.decision_reason_code) if r.decision_reason_code else None,
            decision_params=r.decision_reason_params or {}, eob=r.eob,
            duplicate_suspected=r.duplicate_of_id is not None, submitted_at=r.submitted_at,
            decided_at=r.decided_at, sla_due_at=r.sla_due_at, reported_at=r.created_at, risk_score=r.risk_score,
            risk_level=r.risk_level,
            risk_hints=[RiskHint(source=str(h.get("source", "")), code=str(h.get("code", "")),
                                 level=str(h.get("level", "")), score=float(h.get("score", 0)),
                                 message=str(h.get("message", ""))) for h in (r.risk_hints or [])],
            rules_version=r.rules_version, version=r.version,
        )

    @strawberry.field(description="Why the claim was decided, in the reader's words (see ClaimEvent.reason).",
                      metadata=fast(_decision_reason))
    def decision_reason(self, info: Info[Context, Any]) -> str | None:
        return _decision_reason(self, info.context)

    @strawberry.field(description="Line-by-line benefits, deductible, co-pay and reason codes; 'summary' says "
                      "them in plain language (zh-CN or en by Accept-Language; staff: en).", metadata=fast(_eob))
    def explanation_of_benefits(self, info: Info[Context, Any]) -> JSON | None:
        return _eob(self, info.context)

    @strawberry.field(description="The policy claimed against.", metadata=fast(
        _policy, prefetch=prefetch_by(PolicyByIdLoader, "policy_pk"), **allow(POLICY_READERS)))
    def policy(self, info: Info[Context, Any]) -> Policy:
        return _policy(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="The insured person.", metadata=fast(
        _customer, prefetch=prefetch_by(CustomerByIdLoader, "customer_pk"), **allow(POLICY_READERS)))
    def customer(self, info: Info[Context, Any]) -> Customer:
        return _customer(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Structured invoice lines.",
                      metadata=fast(_line_items, prefetch=prefetch_by(LineItemsByClaimIdLoader, "pk")))
    def line_items(self, info: Info[Context, Any]) -> list[ClaimLineItem]:
        return _line_items(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Uploaded documents.",
                      metadata=fast(_documents, prefetch=prefetch_by(DocumentsByClaimIdLoader, "pk")))
    def documents(self, info: Info[Context, Any]) -> list[ClaimDocument]:
        return _documents(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Requested supplementary documents.",
                      metadata=fast(_requests, prefetch=prefetch_by(RequestsByClaimIdLoader, "pk")))
    def document_requests(self, info: Info[Context, Any]) -> list[DocumentRequest]:
        return _requests(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Every event, oldest first.",
                      metadata=fast(_timeline, prefetch=prefetch_by(EventsByClaimIdLoader, "pk")))
    def timeline(self, info: Info[Context, Any]) -> list[ClaimEvent]:
        return _timeline(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Payments made.",
                      metadata=fast(_payments, prefetch=prefetch_by(PaymentsByClaimIdLoader, "pk")))
    def payments(self, info: Info[Context, Any]) -> list[ClaimPayment]:
        return _payments(self, info.context)  # type: ignore[no-any-return]


def _queue_total(conn: ClaimConnection, ctx: Context) -> int:
    return count_queue(ctx.session, principal=ctx.principal, filter=conn.filter)


@strawberry.type(description="A page of claims.")
@access(CLAIM_READERS)
class ClaimConnection:
    edges: list[Edge[Claim]]
    page_info: PageInfo
    filter: strawberry.Private[QueueFilter]

    @strawberry.field(description="Claims matching the filter (one COUNT query).", metadata=fast(_queue_total))
    def total_count(self, info: Info[Context, Any]) -> int:
        return _queue_total(self, info.context)
