"""GraphQL object types of the claims domain: claims, line items, documents, timeline, payments.

Each field with a resolver calls one body function of (source, context); the same function
is the field's fast twin (``schema.fastexec``). Reasons are worded per reader: the caller's
role and the request's Accept-Language (``resolvers.claims.reasons``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import CLAIM_READERS, DOCUMENT_READERS, INTERNAL, POLICY_READERS, RISK_READERS, STAFF
from resolvers.claims import eob
from resolvers.claims import models as m
from resolvers.claims.eob import BenefitCode as BenefitCodeValue
from resolvers.claims.reasons import Locale, ReasonCode, eob_summary, negotiate_locale, render_reason
from resolvers.claims.risk import hints
from schema.claims.enums import (
    BenefitCode,
    ClaimChannel,
    ClaimEventKind,
    ClaimPaymentStatus,
    ClaimReasonCode,
    ClaimState,
    DocumentKind,
    LineItemSource,
    PayeeKind,
    RiskHintSource,
    RiskLevel,
)
from schema.claims.loaders import (
    DocumentPagesByClaimIdLoader,
    EventPagesByClaimIdLoader,
    LineItemsByClaimIdLoader,
    PagesByClaimIdLoader,
    PaymentPagesByClaimIdLoader,
    RequestPagesByClaimIdLoader,
)
from schema.context import Context
from schema.fastexec import fast
from schema.loaders import MISSING
from schema.lookahead import prefetch_by
from schema.permissions import access, allow
from schema.policies.loaders import CustomerByIdLoader, PolicyByIdLoader
from schema.policies.types import Customer, Policy
from schema.relay import PAGING, Connection, Node, connection, encode_global_id, page_request
from schema.scalars import Money

if TYPE_CHECKING:
    from schema.investigations.types import Investigation

__all__ = [
    "After",
    "Before",
    "Claim",
    "ClaimDocument",
    "ClaimEvent",
    "ClaimLineItem",
    "ClaimPayment",
    "DocumentRequest",
    "ExplanationOfBenefits",
    "ExplanationOfBenefitsLine",
    "First",
    "Last",
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


def _page(loader: PagesByClaimIdLoader, c: Claim, ctx: Context, first: int | None, after: str | None,
          last: int | None, before: str | None, wrap: Callable[[Any], Any]) -> Connection[Any]:
    """A page of one of the claim's relations: primed by the look-ahead of a page of claims, else one query."""
    key = (c.pk, page_request(first, after, last, before, ctx.settings))
    pages = ctx.loader(loader)
    found = pages.peek(key)
    if found is MISSING:
        pages.fetch_and_prime([key])
        found = pages.peek(key)
    total = found.total
    return connection(found.page, wrap, count=lambda: total)


def _documents(c: Claim, ctx: Context, first: int | None = None, after: str | None = None, last: int | None = None,
               before: str | None = None) -> Connection[Any]:
    return _page(DocumentPagesByClaimIdLoader, c, ctx, first, after, last, before, ClaimDocument.from_row)


def _timeline(c: Claim, ctx: Context, first: int | None = None, after: str | None = None, last: int | None = None,
              before: str | None = None) -> Connection[Any]:
    return _page(EventPagesByClaimIdLoader, c, ctx, first, after, last, before, ClaimEvent.from_row)


def _payments(c: Claim, ctx: Context, first: int | None = None, after: str | None = None, last: int | None = None,
              before: str | None = None) -> Connection[Any]:
    return _page(PaymentPagesByClaimIdLoader, c, ctx, first, after, last, before, ClaimPayment.from_row)


def _requests(c: Claim, ctx: Context, first: int | None = None, after: str | None = None, last: int | None = None,
              before: str | None = None) -> Connection[Any]:
    return _page(RequestPagesByClaimIdLoader, c, ctx, first, after, last, before, DocumentRequest.from_row)


First = Annotated[int | None, strawberry.argument(
    description="Forward paging: how many items from the start, or after `after` (0..100; default 20).")]
After = Annotated[str | None, strawberry.argument(
    description="Forward paging: the items after this cursor (an edge's `cursor`).")]
Last = Annotated[int | None, strawberry.argument(
    description="Backward paging: how many items from the end, or before `before` (0..100); not with `first`.")]
Before = Annotated[str | None, strawberry.argument(
    description="Backward paging: the items before this cursor (an edge's `cursor`).")]


# --- types ---------------------------------------------------------------------------------------


@strawberry.type(description="One structured invoice line and its benefit decision (a claim has at most 200).")
@access(CLAIM_READERS)
class ClaimLineItem:
    item_code: str = strawberry.field(description="The hospital's item code: 1-40 letters, digits, '.', '_' or '-'.")
    category: str = strawberry.field(description="The coverage category the line is billed under, lower case "
                                     "(e.g. inpatient, outpatient, drugs): one of the product's coverage items' "
                                     "categories (Product.coverageItems), else the line is NOT_COVERED. Open set: "
                                     "products define their categories.")
    description: str = strawberry.field(description="The hospital's wording of the line (at most 200 characters).")
    quantity: int = strawberry.field(description="Units billed (1-10000).")
    amount: Money = strawberry.field(description="Line total as billed.")
    source: LineItemSource = strawberry.field(description="Who entered the line.")  # type: ignore[valid-type]
    approved_amount: Money | None = strawberry.field(description="Payable on this line after the decision "
                                                     "(null until decided).")
    reason_code: BenefitCode | None = strawberry.field(  # type: ignore[valid-type]
        description="Why the line paid less than billed: the rejecting code if any, else the first reducing one "
        "(null: paid in full, or not decided). The explanation of benefits lists every code.")

    @classmethod
    def from_row(cls, r: m.ClaimLineItem) -> ClaimLineItem:
        return cls(item_code=r.item_code, category=r.category, description=r.description, quantity=r.quantity,
                   amount=r.amount, source=r.source, approved_amount=r.approved_amount,
                   reason_code=_benefit_code(r.reason_code))


def _benefit_code(value: str | None) -> BenefitCodeValue | None:
    try:
        return BenefitCodeValue(value) if value else None
    except ValueError:
        return None


@strawberry.type(description="An uploaded claim document: bytes in storage (encrypted at rest), digest and "
                 "metadata here. Upload with POST /claims/{claimId}/documents.")
@access(CLAIM_READERS)
class ClaimDocument(Node):
    kind: DocumentKind = strawberry.field(description="What the document is.")  # type: ignore[valid-type]
    filename: str = strawberry.field(description="The uploader's file name, cleaned (at most 200 characters).")
    content_type: str = strawberry.field(description="MIME type as sniffed from the bytes: application/pdf, "
                                         "image/jpeg or image/png.")
    size: int = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the bytes, 64 lower-case hex digits (also the "
                                   "download's ETag).")
    anchored_record: bool = strawberry.field(description="Whether it was committed to the ledger (medical kinds).")
    original_received_on: dt.date | None = strawberry.field(description="When its paper original arrived by "
                                                            "post (null: not received).")
    original_tracking: str | None = strawberry.field(description="The postal tracking number the original came "
                                                     "with, as recorded on receipt (null: none given).")
    uploaded_at: dt.datetime = strawberry.field(description="When it was uploaded.")
    download_url: str = strawberry.field(
        metadata=allow(DOCUMENT_READERS),
        description="Path of the download route (GET with the same bearer token; ETag and ranges).")

    @classmethod
    def from_row(cls, r: m.ClaimDocument) -> ClaimDocument:
        doc_id = encode_global_id("ClaimDocument", r.id)
        return cls(id=strawberry.ID(doc_id), kind=r.kind, filename=r.filename,
                   content_type=r.content_type, size=r.size, sha256=r.sha256,
                   anchored_record=r.ledger_record_id is not None, original_received_on=r.original_received_on,
                   original_tracking=r.original_tracking,
                   uploaded_at=r.created_at,
                   download_url=f"/claims/{encode_global_id('Claim', r.claim_id)}/documents/{doc_id}")


@strawberry.type(description="A request for a supplementary document, due by a date; fulfilled by the next "
                 "upload of its kind.")
@access(CLAIM_READERS)
class DocumentRequest(Node):
    kind: DocumentKind = strawberry.field(description="The kind of document asked for.")  # type: ignore[valid-type]
    due_on: dt.date = strawberry.field(description="Business date it is due by (at most 90 days after the "
                                       "request).")
    note: str = strawberry.field(description="What the adjuster asks for, in their words (at most 500 "
                                 "characters).")
    fulfilled: bool = strawberry.field(description="Whether a document of this kind was uploaded since.")
    reminder_count: int = strawberry.field(description="Reminders sent since it fell past due (every 3 days while "
                                           "unfulfilled).")
    last_reminded_on: dt.date | None = strawberry.field(description="Business date of the last reminder (null: "
                                                        "none yet).")

    @classmethod
    def from_row(cls, r: m.DocumentRequest) -> DocumentRequest:
        return cls(id=strawberry.ID(encode_global_id("DocumentRequest", r.id)), kind=r.kind, due_on=r.due_on,
                   note=r.note, fulfilled=r.fulfilled_by_id is not None, reminder_count=r.reminder_count or 0,
                   last_reminded_on=r.last_reminded_on)


def _event_reason(e: ClaimEvent, ctx: Context) -> str:
    role, locale = _reader(ctx)
    return render_reason(e.reason_code, e.params, role=role, locale=locale)


def _state(value: str | None) -> m.ClaimState | None:
    return m.ClaimState(value) if value else None


@strawberry.type(description="One entry of a claim's timeline: what happened, when, and why.")
@access(CLAIM_READERS)
class ClaimEvent:
    at: dt.datetime = strawberry.field(description="When it happened.")
    kind: ClaimEventKind = strawberry.field(description="What happened.")  # type: ignore[valid-type]
    from_state: ClaimState | None = strawberry.field(  # type: ignore[valid-type]
        description="The state before (TRANSITION entries only).")
    to_state: ClaimState | None = strawberry.field(  # type: ignore[valid-type]
        description="The state after (TRANSITION entries, and REPORTED: DRAFT).")
    reason_code: ClaimReasonCode = strawberry.field(description="Why, as a code.")  # type: ignore[valid-type]
    actor: str = strawberry.field(metadata=allow(RISK_READERS), description="Who did it: a user's subject, or "
                                  "system:fast-claim for automatic steps.")
    params: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_row(cls, r: m.ClaimEvent) -> ClaimEvent:
        return cls(at=r.at, kind=m.ClaimEventKind(r.kind), from_state=_state(r.from_state),
                   to_state=_state(r.to_state), reason_code=_code(r.reason_code), params=r.reason_params or {},
                   actor=r.actor)

    @strawberry.field(description="Why, in the reader's words: staff and auditors get the detail, customers "
                      "and hospitals a customer-facing sentence (zh-CN or en by Accept-Language) without any "
                      "parameter their role may not read.", metadata=fast(_event_reason))
    def reason(self, info: Info[Context, Any]) -> str:
        return _event_reason(self, info.context)


@strawberry.type(description="A payment instruction: a claim pays its approved amount once (per claim and "
                 "idempotency key).")
@access(CLAIM_READERS)
class ClaimPayment(Node):
    seq: int = strawberry.field(description="1 for the claim's first payment, then 2, ...")
    amount: Money = strawberry.field(description="Amount paid.")
    payee_kind: PayeeKind = strawberry.field(description="Who was paid.")  # type: ignore[valid-type]
    status: ClaimPaymentStatus = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    idempotency_key: str = strawberry.field(metadata=allow(STAFF), description="The key it was made with "
                                            "(payClaim's idempotencyKey; fast claims: fast-<claim number>).")
    created_at: dt.datetime = strawberry.field(description="When it was instructed.")

    @classmethod
    def from_row(cls, r: m.Payment) -> ClaimPayment:
        return cls(id=strawberry.ID(encode_global_id("ClaimPayment", r.id)), seq=r.seq, amount=r.amount,
                   payee_kind=r.payee_kind, status=m.PaymentStatus(r.status), idempotency_key=r.idempotency_key,
                   created_at=r.created_at)


@strawberry.type(description="Why risk control rated a claim as it did: a rule that fired, the model's score or "
                 "one of its strongest features, or a risk flag a partner shared.")
@access(RISK_READERS)
class RiskHint:
    source: RiskHintSource = strawberry.field(description="What raised it.")  # type: ignore[valid-type]
    code: str = strawberry.field(description="The rule's code (e.g. HIGH_AMOUNT_SHORT_POLICY), MODEL_SCORE, "
                                 "FEATURE_<name> for a model feature, or a shared flag's code. Open set: rule "
                                 "sets are versioned data.")
    level: RiskLevel | None = strawberry.field(  # type: ignore[valid-type]
        description="The level it stands for (null for a model feature, which explains the score rather than "
        "rates the claim).")
    score: float = strawberry.field(description="Its contribution: rule points (integers), the model's "
                                    "probability (0..1) for MODEL_SCORE, a feature's share of the log-odds, or 0 "
                                    "for a shared flag.")
    message: str = strawberry.field(description="What fired, in English for staff.")

    @classmethod
    def from_hint(cls, h: hints.RiskHint) -> RiskHint:
        return cls(source=h.source, code=h.code, level=h.level, score=h.score, message=h.message)


@strawberry.type(description="The decision on one invoice line.")
@access(CLAIM_READERS)
class ExplanationOfBenefitsLine:
    item_code: str = strawberry.field(description="The line's item code.")
    category: str = strawberry.field(description="The line's coverage category (see ClaimLineItem.category).")
    claimed: Money = strawberry.field(description="Billed on the line.")
    covered: Money = strawberry.field(description="Covered by the product (after its category's sublimit).")
    deductible: Money = strawberry.field(description="Counted towards the annual deductible.")
    copay: Money = strawberry.field(description="The insured's co-payment share.")
    payable: Money = strawberry.field(description="Payable on the line.")
    codes: list[BenefitCode] = strawberry.field(  # type: ignore[valid-type]
        description="Every code that applied, in the order applied (empty: paid in full).")

    @classmethod
    def from_line(cls, ln: eob.EobLine) -> ExplanationOfBenefitsLine:
        return cls(item_code=ln.item_code, category=ln.category, claimed=ln.claimed, covered=ln.covered,
                   deductible=ln.deductible, copay=ln.copay, payable=ln.payable, codes=list(ln.codes))


@strawberry.type(description="What a claim's decision paid and why: totals, line by line, and in plain words.")
@access(CLAIM_READERS)
class ExplanationOfBenefits:
    outcome: ClaimState = strawberry.field(description="The decision: APPROVED, PARTIALLY_APPROVED or "  # type: ignore[valid-type]
                                           "REJECTED.")
    claimed: Money = strawberry.field(description="Total billed.")
    payable: Money = strawberry.field(description="Total payable.")
    deductible: Money = strawberry.field(description="Counted towards the annual deductible by this claim.")
    copay: Money = strawberry.field(description="The insured's co-payment share of this claim.")
    annual_limit: Money | None = strawberry.field(description="The policy's annual limit (null for decisions "
                                                  "without a calculation, or made before it was recorded).")
    annual_limit_used: Money | None = strawberry.field(
        description="How much of the annual limit this policy year's decided claims use, this claim included "
        "(null as annualLimit).")
    claim_codes: list[BenefitCode] = strawberry.field(  # type: ignore[valid-type]
        description="Codes that apply to the whole claim (e.g. WAITING_PERIOD, REJECTED_AFTER_REVIEW).")
    lines: list[ExplanationOfBenefitsLine] = strawberry.field(description="One per invoice line, in invoice "
                                                              "order (at most 200).")
    summary: list[str] = strawberry.field(description="The codes in plain sentences, line codes prefixed by the "
                                          "item code: zh-CN or en by Accept-Language for customers and hospitals, "
                                          "en for staff and auditors.")

    @classmethod
    def of(cls, e: eob.ExplanationOfBenefits, summary: list[str]) -> ExplanationOfBenefits:
        return cls(outcome=e.outcome, claimed=e.claimed, payable=e.payable, deductible=e.deductible, copay=e.copay,
                   annual_limit=e.annual_limit, annual_limit_used=e.annual_limit_used,
                   claim_codes=list(e.claim_codes), lines=[ExplanationOfBenefitsLine.from_line(ln) for ln in e.lines],
                   summary=summary)


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


def _eob(c: Claim, ctx: Context) -> ExplanationOfBenefits | None:
    if c.eob is None:
        return None
    role, locale = _reader(ctx)
    typed = eob.read_eob(c.eob)
    return ExplanationOfBenefits.of(typed, eob_summary(typed, locale="en" if role in RISK_READERS else locale))


@strawberry.type(description="A health insurance claim: reported against a policy, rated by risk control, decided "
                 "line by line and paid. Customers read their own claims, hospitals the claims they billed, staff "
                 "and auditors every claim.")
@access(CLAIM_READERS)
class Claim(Node):
    number: str = strawberry.field(description="The claim number, CLM<reporting date><8 hex digits>.")
    state: ClaimState = strawberry.field(description="Where the claim stands.")  # type: ignore[valid-type]
    channel: ClaimChannel = strawberry.field(description="Where it was reported.")  # type: ignore[valid-type]
    event_date: dt.date = strawberry.field(description="When the illness or accident happened (business date).")
    admission_date: dt.date = strawberry.field(description="Hospital admission date.")
    discharge_date: dt.date = strawberry.field(description="Hospital discharge date.")
    hospital: str = strawberry.field(description="The hospital (for direct billing: its registered name).")
    diagnosis_code: str = strawberry.field(description="ICD-10 code.")
    claimed_amount: Money = strawberry.field(description="Amount claimed (the invoice lines add up to it).")
    approved_amount: Money | None = strawberry.field(description="Payable after the decision (null until "
                                                     "decided).")
    paid_amount: Money = strawberry.field(description="Paid so far.")
    fast_track: bool = strawberry.field(description="Decided and paid automatically by fast-claim.")
    decision_reason_code: ClaimReasonCode | None = strawberry.field(  # type: ignore[valid-type]
        description="Why it was decided, as a code (null until decided).")
    duplicate_suspected: bool = strawberry.field(description="Whether it may duplicate another claim of the "
                                                 "insured for the same stay (checked by staff).")
    submitted_at: dt.datetime | None = strawberry.field(description="When it was submitted (null: a draft).")
    decided_at: dt.datetime | None = strawberry.field(description="When it was decided (null: not yet).")
    sla_due_at: dt.datetime | None = strawberry.field(metadata=allow(RISK_READERS), description="When the "
                                                      "current queue's service level is due (null: no queue).")
    reported_at: dt.datetime = strawberry.field(description="When it was reported.")
    risk_score: float | None = strawberry.field(metadata=allow(RISK_READERS),
                                                description="Model probability of an irregular claim (0..1; null "
                                                "until submitted).")
    risk_level: RiskLevel | None = strawberry.field(  # type: ignore[valid-type]
        metadata=allow(RISK_READERS), description="Risk control's rating (null until submitted).")
    risk_hints: list[RiskHint] = strawberry.field(metadata=allow(RISK_READERS), description="Why risk control "
                                                  "rated it so: the rules that fired, the model's score and its "
                                                  "strongest features, shared flags (a few per claim).")
    rules_version: str | None = strawberry.field(metadata=allow(RISK_READERS), description="The version of the "
                                                 "rule set that rated it (e.g. v2026.06-1).")
    assignee: str | None = strawberry.field(metadata=allow(RISK_READERS), description="The staff member the claim "
                                            "is assigned to in the work queue (their subject; null: unassigned).")
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
            risk_hints=[RiskHint.from_hint(h) for h in hints.read_hints(r.risk_hints)],
            rules_version=r.rules_version, assignee=r.assignee, version=r.version,
        )

    @strawberry.field(description="Why the claim was decided, in the reader's words (see ClaimEvent.reason).",
                      metadata=fast(_decision_reason))
    def decision_reason(self, info: Info[Context, Any]) -> str | None:
        return _decision_reason(self, info.context)

    @strawberry.field(description="What the decision paid and why, line by line (null until decided).",
                      metadata=fast(_eob))
    def explanation_of_benefits(self, info: Info[Context, Any]) -> ExplanationOfBenefits | None:
        return _eob(self, info.context)

    @strawberry.field(description="The policy claimed against.", metadata=fast(
        _policy, prefetch=prefetch_by(PolicyByIdLoader, "policy_pk"), **allow(POLICY_READERS)))
    def policy(self, info: Info[Context, Any]) -> Policy:
        return _policy(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="The insured person.", metadata=fast(
        _customer, prefetch=prefetch_by(CustomerByIdLoader, "customer_pk"), **allow(POLICY_READERS)))
    def customer(self, info: Info[Context, Any]) -> Customer:
        return _customer(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="The structured invoice lines, in invoice order (at most 200; entered once).",
                      metadata=fast(_line_items, prefetch=prefetch_by(LineItemsByClaimIdLoader, "pk")))
    def line_items(self, info: Info[Context, Any]) -> list[ClaimLineItem]:
        return _line_items(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Uploaded documents, oldest first. " + PAGING, metadata=fast(_documents))
    def documents(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                  before: Before = None) -> Connection[ClaimDocument]:
        return _documents(self, info.context, first, after, last, before)  # type: ignore[return-value]

    @strawberry.field(description="Requests for supplementary documents, oldest first. " + PAGING,
                      metadata=fast(_requests))
    def document_requests(self, info: Info[Context, Any], first: First = None, after: After = None,
                          last: Last = None, before: Before = None) -> Connection[DocumentRequest]:
        return _requests(self, info.context, first, after, last, before)  # type: ignore[return-value]

    @strawberry.field(description="Investigations of this claim by assessor firms, oldest first (staff and "
                      "auditors). " + PAGING, metadata=allow(INTERNAL))
    def investigations(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                       before: Before = None) -> Connection[Annotated[
                           Investigation, strawberry.lazy("schema.investigations.types")]]:
        from schema.investigations.types import (
            investigations_of_claim,  # the investigations contract builds on Claim
        )

        return investigations_of_claim(info.context, self.pk, first, after, last, before)  # type: ignore[no-any-return]

    @strawberry.field(description="The claim's timeline, oldest first (the newest: `last`). " + PAGING,
                      metadata=fast(_timeline))
    def timeline(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                 before: Before = None) -> Connection[ClaimEvent]:
        return _timeline(self, info.context, first, after, last, before)  # type: ignore[return-value]

    @strawberry.field(description="Payments made, oldest first. " + PAGING, metadata=fast(_payments))
    def payments(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                 before: Before = None) -> Connection[ClaimPayment]:
        return _payments(self, info.context, first, after, last, before)  # type: ignore[return-value]
