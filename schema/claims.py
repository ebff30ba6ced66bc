"""GraphQL contract of claims: reporting, invoice data, documents, adjudication, payments, queue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.auth import Role
from core.errors import NotFoundError
from partners import ledger_seam, signed_records
from partners import risk as shared_risk
from resolvers.claims import documents as doc_service
from resolvers.claims import loaders as fetch
from resolvers.claims import models as m
from resolvers.claims import payments, service
from resolvers.claims.queue import QueueFilter, QueueSort, count_queue, cursor_of, list_queue
from resolvers.claims.readers import ADJUSTERS, CLAIM_READERS, DATA_HOLDERS, REPORTERS, RISK_READERS
from resolvers.claims.reasons import Locale, ReasonCode, eob_summary, negotiate_locale, render_reason
from resolvers.policies import models as pm
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.fastexec import fast
from schema.loaders import BatchLoader
from schema.permissions import DOCUMENT_READERS, PUBLIC, STAFF, access, allow
from schema.policies import Customer, CustomerByIdLoader, Node, Policy
from schema.relay import Edge, PageInfo, decode_global_id, encode_global_id, page_info, page_size

__all__ = ["ADJUSTERS", "CLAIM_READERS", "DATA_HOLDERS", "REPORTERS", "RISK_READERS", "ClaimsMutation",
           "ClaimsQuery"]

ClaimState = strawberry.enum(m.ClaimState, name="ClaimState")
ClaimChannel = strawberry.enum(m.ClaimChannel, name="ClaimChannel")
RiskLevel = strawberry.enum(m.RiskLevel, name="RiskLevel")
DocumentKind = strawberry.enum(m.DocumentKind, name="DocumentKind")
LineItemSource = strawberry.enum(m.LineItemSource, name="LineItemSource")
PayeeKind = strawberry.enum(m.PayeeKind, name="PayeeKind")
ClaimReasonCode = strawberry.enum(ReasonCode, name="ClaimReasonCode",
                                  description="Why a claim event or decision happened (the reason's text is "
                                  "rendered per reader).")
ClaimQueueSort = strawberry.enum(QueueSort, name="ClaimQueueSort")


def _ctx(info: Info[Context, Any]) -> Context:
    return info.context


def _reader(ctx: Context) -> tuple[str | None, Locale]:
    """Who reads (role) and in which language (the request's Accept-Language)."""
    headers = getattr(ctx.request, "headers", None)
    return (ctx.principal.role.value if ctx.principal.role else None,
            negotiate_locale(headers.get("accept-language") if headers is not None else None))


# --- loaders -------------------------------------------------------------------------------------


class PolicyByIdLoader(BatchLoader[int, pm.Policy | None]):
    """Claims' policies as read-only rows (personal columns decrypted only when read)."""

    def fetch(self, keys: Any) -> Any:
        return fetch.policies_by_id(self.context.session, keys)


class ClaimCustomerByIdLoader(BatchLoader[int, pm.Customer | None]):
    """Claims' insured customers as read-only rows (personal columns decrypted only when read)."""

    def fetch(self, keys: Any) -> Any:
        return fetch.customers_by_id(self.context.session, keys)


class LineItemsByClaimIdLoader(BatchLoader[int, list[m.ClaimLineItem]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.line_items_by_claim(self.context.session, keys)


class DocumentsByClaimIdLoader(BatchLoader[int, list[m.ClaimDocument]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.documents_by_claim(self.context.session, keys)


class EventsByClaimIdLoader(BatchLoader[int, list[m.ClaimEvent]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.events_by_claim(self.context.session, keys)


class PaymentsByClaimIdLoader(BatchLoader[int, list[m.Payment]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.payments_by_claim(self.context.session, keys)


class RequestsByClaimIdLoader(BatchLoader[int, list[m.DocumentRequest]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.requests_by_claim(self.context.session, keys)


def _prefetch(loader: type[BatchLoader[Any, Any]], key: str) -> Any:
    def prefetch(ctx: Context, sources: list[Any]) -> None:
        ctx.loader(loader).fetch_and_prime([getattr(s, key) for s in sources])

    return prefetch


def _policy(c: Claim, ctx: Context) -> Any:
    return ctx.loader(PolicyByIdLoader).get_wrapped(c.policy_pk, Policy.from_row)


def _customer(c: Claim, ctx: Context) -> Any:
    return ctx.loader(ClaimCustomerByIdLoader).get_wrapped(c.customer_pk, Customer.from_row)


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
        return _event_reason(self, _ctx(info))


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
        return _decision_reason(self, _ctx(info))

    @strawberry.field(description="Line-by-line benefits, deductible, co-pay and reason codes; 'summary' says "
                      "them in plain language (zh-CN or en by Accept-Language; staff: en).", metadata=fast(_eob))
    def explanation_of_benefits(self, info: Info[Context, Any]) -> JSON | None:
        return _eob(self, _ctx(info))

    @strawberry.field(description="The policy claimed against.", metadata=fast(
        _policy, prefetch=_prefetch(PolicyByIdLoader, "policy_pk"), **allow(STAFF | {"customer"})))
    def policy(self, info: Info[Context, Any]) -> Policy:
        return _policy(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="The insured person.", metadata=fast(
        _customer, prefetch=_prefetch(ClaimCustomerByIdLoader, "customer_pk"), **allow(STAFF | {"customer"})))
    def customer(self, info: Info[Context, Any]) -> Customer:
        return _customer(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="Structured invoice lines.",
                      metadata=fast(_line_items, prefetch=_prefetch(LineItemsByClaimIdLoader, "pk")))
    def line_items(self, info: Info[Context, Any]) -> list[ClaimLineItem]:
        return _line_items(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="Uploaded documents.",
                      metadata=fast(_documents, prefetch=_prefetch(DocumentsByClaimIdLoader, "pk")))
    def documents(self, info: Info[Context, Any]) -> list[ClaimDocument]:
        return _documents(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="Requested supplementary documents.",
                      metadata=fast(_requests, prefetch=_prefetch(RequestsByClaimIdLoader, "pk")))
    def document_requests(self, info: Info[Context, Any]) -> list[DocumentRequest]:
        return _requests(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="Every event, oldest first.",
                      metadata=fast(_timeline, prefetch=_prefetch(EventsByClaimIdLoader, "pk")))
    def timeline(self, info: Info[Context, Any]) -> list[ClaimEvent]:
        return _timeline(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="Payments made.",
                      metadata=fast(_payments, prefetch=_prefetch(PaymentsByClaimIdLoader, "pk")))
    def payments(self, info: Info[Context, Any]) -> list[ClaimPayment]:
        return _payments(self, _ctx(info))  # type: ignore[no-any-return]


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
        return _queue_total(self, _ctx(info))


@strawberry.input(description="Queue filters (all optional, combined with AND).")
class ClaimQueueFilter:
    states: list[ClaimState] | None = None  # type: ignore[valid-type]
    risk_levels: list[RiskLevel] | None = None  # type: ignore[valid-type]
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    sla_breached: bool = strawberry.field(default=False, description="Only claims past their SLA due time.")


_RELATIONS: dict[str, type[BatchLoader[Any, Any]]] = {
    "lineItems": LineItemsByClaimIdLoader, "documents": DocumentsByClaimIdLoader,
    "timeline": EventsByClaimIdLoader, "payments": PaymentsByClaimIdLoader,
    "documentRequests": RequestsByClaimIdLoader,
}


def _prefetch_claims(ctx: Context, info: Info[Context, Any], rows: list[m.Claim]) -> None:
    """Look-ahead: one query per selected relation for the whole page."""
    from schema.policies import (
        CoverageItemsByProductIdLoader,
        ProductByIdLoader,
        _selected,
    )

    if not rows:
        return
    wanted = _selected(info, "edges", "node")
    ids = [r.id for r in rows]
    for name, loader in _RELATIONS.items():
        if name in wanted:
            ctx.loader(loader).fetch_and_prime(ids)
    if "customer" in wanted:
        ctx.loader(ClaimCustomerByIdLoader).fetch_and_prime([r.customer_id for r in rows])
    if "policy" in wanted:
        ctx.loader(PolicyByIdLoader).fetch_and_prime([r.policy_id for r in rows])
        below = _selected(info, "edges", "node", "policy")
        if "product" in below or "customer" in below:
            policies = [ctx.loader(PolicyByIdLoader).peek(r.policy_id) for r in rows]
            if "product" in below:
                product_ids = [p.product_id for p in policies if p is not None]
                ctx.loader(ProductByIdLoader).fetch_and_prime(product_ids)
                if "coverageItems" in _selected(info, "edges", "node", "policy", "product"):
                    ctx.loader(CoverageItemsByProductIdLoader).fetch_and_prime(product_ids)
            if "customer" in below:
                ctx.loader(CustomerByIdLoader).fetch_and_prime([p.customer_id for p in policies if p is not None])


@strawberry.type
class ClaimsQuery:
    @strawberry.field(description="A claim by global id (null when absent or not visible).",
                      metadata=allow(CLAIM_READERS))
    def claim(self, info: Info[Context, Any], id: strawberry.ID) -> Claim | None:
        ctx = _ctx(info)
        try:
            row = service.get_claim(ctx.session, principal=ctx.principal, claim_id=decode_global_id(id, "Claim"))
        except NotFoundError:
            return None
        return Claim.from_row(row)

    @strawberry.field(
        description="Claims the caller may see (adjusters: the work queue), filtered and sorted; "
        "first: 0..100 (default 20). Cost: first x selected fields.",
        metadata=allow(CLAIM_READERS),
    )
    def claims(
        self, info: Info[Context, Any], first: int | None = None, after: str | None = None,
        filter: ClaimQueueFilter | None = None,
        sort: ClaimQueueSort = QueueSort.OLDEST,  # type: ignore[valid-type]
    ) -> ClaimConnection:
        ctx = _ctx(info)
        f = filter or ClaimQueueFilter()
        qf = QueueFilter(states=tuple(f.states or ()), risk_levels=tuple(f.risk_levels or ()),
                         min_amount=f.min_amount, max_amount=f.max_amount,
                         sla_breached_at=ctx.now() if f.sla_breached else None)
        page = list_queue(ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings), after=after,
                          filter=qf, sort=sort, plain=True)
        _prefetch_claims(ctx, info, page.items)
        edges = [Edge(cursor=cursor_of(r, sort), node=Claim.from_row(r)) for r in page.items]
        return ClaimConnection(edges=edges, filter=qf, page_info=page_info(page))


# --- inputs and mutations --------------------------------------------------------------------------


@strawberry.input(description="One structured invoice line.")
class LineItemInput:
    item_code: str
    category: str = strawberry.field(description="A coverage category of the product, e.g. inpatient.")
    amount: Decimal = strawberry.field(description="Line total (two decimals).")
    quantity: int = 1
    description: str = ""


def _specs(items: list[LineItemInput] | None) -> list[service.LineItemSpec]:
    return [service.LineItemSpec(i.item_code, i.category, i.amount, i.quantity, i.description) for i in items or []]


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


@strawberry.type
@access(PUBLIC)
class ClaimPayload:
    claim: Claim | None
    errors: list[UserError]


@strawberry.type
@access(PUBLIC)
class PaymentPayload:
    payment: ClaimPayment | None
    claim: Claim | None
    errors: list[UserError]


@strawberry.type
@access(PUBLIC)
class DocumentRequestPayload:
    document_request: DocumentRequest | None
    errors: list[UserError]


@strawberry.type
@access(PUBLIC)
class DocumentPayload:
    document: ClaimDocument | None
    errors: list[UserError]


def _target(c: m.Claim | None) -> str | None:
    return None if c is None else encode_global_id("Claim", c.id)


def _claim_payload(info: Info[Context, Any], action: str, data: Any, work: Any) -> ClaimPayload:
    row, errors = run_mutation(info, action, data, work, target=_target)
    return ClaimPayload(claim=Claim.from_row(row) if row else None, errors=errors)


def _cid(value: strawberry.ID) -> int:
    return decode_global_id(value, "Claim", field="claimId")


@strawberry.type
class ClaimsMutation:
    @strawberry.mutation(description="Report a claim (draft). Refusals: POLICY_NOT_IN_FORCE, DATE_IN_FUTURE, "
                         "AMOUNTS_DO_NOT_ADD_UP, BAD_ICD10, NOT_FOUND (foreign policy).", metadata=allow(REPORTERS))
    def report_claim(self, info: Info[Context, Any], input: ReportClaimInput) -> ClaimPayload:
        ctx = _ctx(info)
        return _claim_payload(info, "reportClaim", input, lambda s: service.report_claim(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            event_date=input.event_date, admission_date=input.admission_date, discharge_date=input.discharge_date,
            hospital=input.hospital, diagnosis_code=input.diagnosis_code, claimed_amount=input.claimed_amount,
            channel=input.channel, items=_specs(input.items), today=ctx.today(), now=ctx.now()))

    @strawberry.mutation(description="Enter the structured invoice data once (customer app or hospital).",
                         metadata=allow(DATA_HOLDERS))
    def set_claim_line_items(self, info: Info[Context, Any], input: SetLineItemsInput) -> ClaimPayload:
        ctx = _ctx(info)
        return _claim_payload(info, "setClaimLineItems", input, lambda s: service.set_line_items(
            s, principal=ctx.principal, claim_id=_cid(input.claim_id), items=_specs(input.items),
            expected_version=input.expected_version, now=ctx.now()))

    @strawberry.mutation(description="Submit a draft: risk control, then fast-claim payout or a work queue.",
                         metadata=allow(REPORTERS))
    def submit_claim(self, info: Info[Context, Any], input: ClaimActionInput) -> ClaimPayload:
        ctx = _ctx(info)
        return _claim_payload(info, "submitClaim", input, lambda s: service.submit_claim(
            s, principal=ctx.principal, claim_id=_cid(input.claim_id), expected_version=input.expected_version,
            today=ctx.today(), now=ctx.now(), extra=ctx.settings.extra,
            consortium=shared_risk.consortium_key(ctx.settings.keys_dir)))

    @strawberry.mutation(description="Run the benefit calculation and decide.", metadata=allow(ADJUSTERS))
    def adjudicate_claim(self, info: Info[Context, Any], input: ClaimActionInput) -> ClaimPayload:
        ctx = _ctx(info)
        return _claim_payload(info, "adjudicateClaim", input, lambda s: service.adjudicate_claim(
            s, principal=ctx.principal, claim_id=_cid(input.claim_id), expected_version=input.expected_version,
            now=ctx.now(), note=input.note))

    @strawberry.mutation(description="Move a claim (review, investigate, reject, close, reopen) with a reason.",
                         metadata=allow(ADJUSTERS))
    def transition_claim(self, info: Info[Context, Any], input: TransitionClaimInput) -> ClaimPayload:
        ctx = _ctx(info)
        return _claim_payload(info, "transitionClaim", input, lambda s: service.transition_claim(
            s, principal=ctx.principal, claim_id=_cid(input.claim_id), to=input.to, reason=input.reason,
            expected_version=input.expected_version, now=ctx.now()))

    @strawberry.mutation(description="Pay an approved claim once. The same key on the same claim answers the "
                         "original payment (a retry is a no-op, also while the first is in flight); another key on "
                         "a paid claim: ALREADY_PAID; the key on another claim: IDEMPOTENCY_KEY_REUSED.",
                         metadata=allow(ADJUSTERS))
    def pay_claim(self, info: Info[Context, Any], input: PayClaimInput) -> PaymentPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "payClaim", input, lambda s: payments.pay_claim(
            s, principal=ctx.principal, claim_id=_cid(input.claim_id), idempotency_key=input.idempotency_key,
            now=ctx.now()))
        if row is None:
            return PaymentPayload(payment=None, claim=None, errors=errors)
        claim = service.get_claim(ctx.session, principal=ctx.principal, claim_id=row.claim_id)
        return PaymentPayload(payment=ClaimPayment.from_row(row), claim=Claim.from_row(claim), errors=errors)

    @strawberry.mutation(description="Ask for a supplementary document by a due date.", metadata=allow(ADJUSTERS))
    def request_claim_document(self, info: Info[Context, Any], input: RequestDocumentInput) -> DocumentRequestPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "requestClaimDocument", input, lambda s: doc_service.request_document(
            s, principal=ctx.principal, claim_id=_cid(input.claim_id), kind=input.kind, due_on=input.due_on,
            note=input.note, today=ctx.today()))
        return DocumentRequestPayload(document_request=DocumentRequest.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Record that a document's paper original arrived by post.",
                         metadata=allow(Role.ADJUSTER, Role.AGENT, Role.MANAGER, Role.ADMIN))
    def record_original_document(self, info: Info[Context, Any], input: OriginalReceivedInput) -> DocumentPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "recordOriginalDocument", input, lambda s: doc_service.record_original(
            s, principal=ctx.principal, document_id=decode_global_id(input.document_id, "ClaimDocument",
                                                                     field="documentId"),
            received_on=input.received_on, tracking=input.tracking_number, today=ctx.today()))
        return DocumentPayload(document=ClaimDocument.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Direct billing: a hospital submits its signed bill; the claim is created, "
                         "assessed and settled with the hospital. Refusals include every signed-record refusal, "
                         "ITEMS_MISMATCH, and NOT_ASSIGNED: one answer whether the hospital holds no assignment for "
                         "the case reference, no such policy exists, or it was not in force on the admission date.",
                         metadata=allow(Role.PARTNER))
    def submit_direct_bill(self, info: Info[Context, Any], input: DirectBillInput) -> ClaimPayload:
        ctx = _ctx(info)

        def work(s: Any) -> m.Claim:
            def verify() -> Any:
                return signed_records.submit_signed_record(
                    s, principal=ctx.principal, domain=ledger_seam.signing_domain(s, ctx.settings),
                    typed_data=input.typed_data, signature=input.signature, now=ctx.now())

            typed: Any = input.typed_data
            message = typed.get("message") if isinstance(typed, dict) else None
            return service.direct_bill(
                s, principal=ctx.principal, message=message or {}, verify=verify, admission_date=input.admission_date,
                discharge_date=input.discharge_date, diagnosis_code=input.diagnosis_code, items=_specs(input.items),
                today=ctx.today(), now=ctx.now(), extra=ctx.settings.extra,
                consortium=shared_risk.consortium_key(ctx.settings.keys_dir))

        return _claim_payload(info, "submitDirectBill", input, work)
