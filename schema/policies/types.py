"""GraphQL object types of the policies domain: products, customers, policies, endorsements, quotes.

Each field with a resolver calls one body function of (source, context) below; the same
function is the field's fast twin (``schema.fastexec``), so both execution paths share one
implementation. Personal fields are masked unless row scoping says the caller sees them in
full (``resolvers.policies.scoping.may_see_personal_fields``).
"""

from __future__ import annotations

import datetime as dt
from inspect import isawaitable
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from core.masking import mask_email, mask_id_number, mask_name, mask_phone
from core.roles import POLICY_READERS, RISK_PROFILE_READERS, STAFF
from resolvers.claims.reasons import negotiate_locale
from resolvers.policies import models as m
from resolvers.policies import reasons, service
from resolvers.policies.scoping import may_see_personal_fields
from resolvers.policies.underwriting import UnderwritingReason as ReasonValue
from schema.context import Context
from schema.fastexec import fast
from schema.lookahead import prefetch_by
from schema.permissions import PUBLIC, access, allow
from schema.policies.arguments import After, Before, First, Last, sliced_connection
from schema.policies.enums import (
    BeneficiaryRelationship,
    EndorsementField,
    EndorsementKind,
    Gender,
    PolicyEndReason,
    PolicyEventKind,
    PolicyStatus,
    QuoteStatus,
    UnderwritingOutcome,
    UnderwritingReasonCode,
)
from schema.policies.loaders import (
    CoverageItemsByProductIdLoader,
    CustomerByIdLoader,
    EndorsementsByPolicyIdLoader,
    PoliciesByCustomerIdLoader,
    PremiumBandsByProductIdLoader,
    ProductByIdLoader,
)
from schema.relay import PAGING, Connection, Node, PageRequest, encode_global_id, page_request
from schema.scalars import Money, Rate

if TYPE_CHECKING:
    from schema.claims.risk_profile import CustomerRiskProfile
    from schema.partners.types import RiskFlag

__all__ = [
    "CoverageItem",
    "Customer",
    "Endorsement",
    "HealthQuestion",
    "Policy",
    "PolicyEvent",
    "PremiumBand",
    "Product",
    "Quote",
    "UnderwritingReason",
]


# --- resolver bodies ----------------------------------------------------------------------------


def _coverage_items(product: Product, ctx: Context) -> Any:
    return ctx.loader(CoverageItemsByProductIdLoader).get_wrapped(product.pk, CoverageItem.from_row)


def _premium_bands(product: Product, ctx: Context) -> Any:
    return ctx.loader(PremiumBandsByProductIdLoader).get_wrapped(product.pk, PremiumBand.from_row)


def _customer_name(c: Customer, ctx: Context) -> str:
    return c.row.name if may_see_personal_fields(ctx.principal, c.pk) else mask_name(c.row.name)


def _customer_id_number(c: Customer, ctx: Context) -> str:
    return c.row.id_number if may_see_personal_fields(ctx.principal, c.pk) else mask_id_number(c.row.id_number)


def _customer_phone(c: Customer, ctx: Context) -> str:
    return c.row.phone if may_see_personal_fields(ctx.principal, c.pk) else mask_phone(c.row.phone)


def _customer_email(c: Customer, ctx: Context) -> str | None:
    if c.row.email is None:
        return None
    return c.row.email if may_see_personal_fields(ctx.principal, c.pk) else mask_email(c.row.email)


def _paged(loaded: Any, request: PageRequest) -> Any:
    """The connection of a relation loaded whole: now when loaded, else once its batch is done."""
    if not isawaitable(loaded):
        return sliced_connection(loaded, request, key=attrgetter("pk"))

    async def later() -> Any:
        return sliced_connection(await loaded, request, key=attrgetter("pk"))

    return later()


def _customer_policies(c: Customer, ctx: Context, first: int | None = None, after: str | None = None,
                       last: int | None = None, before: str | None = None) -> Any:
    request = page_request(first, after, last, before, ctx.settings)
    return _paged(ctx.loader(PoliciesByCustomerIdLoader).get_wrapped(c.pk, Policy.from_row), request)


def _policy_in_force(p: Policy, ctx: Context, on: dt.date | None = None) -> bool:
    day = on or ctx.today()
    return p.row.status is m.PolicyStatus.ACTIVE and p.period_start <= day <= p.period_end


def _policy_contact_phone(p: Policy, ctx: Context) -> str | None:
    v = p.row.contact_phone
    return v if v is None or may_see_personal_fields(ctx.principal, p.customer_pk) else mask_phone(v)


def _policy_contact_email(p: Policy, ctx: Context) -> str | None:
    v = p.row.contact_email
    return v if v is None or may_see_personal_fields(ctx.principal, p.customer_pk) else mask_email(v)


def _policy_beneficiary_name(p: Policy, ctx: Context) -> str | None:
    v = p.row.beneficiary_name
    return v if v is None or may_see_personal_fields(ctx.principal, p.customer_pk) else mask_name(v)


def _policy_customer(p: Policy, ctx: Context) -> Any:
    return ctx.loader(CustomerByIdLoader).get_wrapped(p.customer_pk, Customer.from_row)


def _policy_product(p: Policy, ctx: Context) -> Any:
    return ctx.loader(ProductByIdLoader).get_wrapped(p.product_pk, Product.from_row)


def _policy_endorsements(p: Policy, ctx: Context, first: int | None = None, after: str | None = None,
                         last: int | None = None, before: str | None = None) -> Any:
    request = page_request(first, after, last, before, ctx.settings)
    return _paged(ctx.loader(EndorsementsByPolicyIdLoader).get_wrapped(p.pk, Endorsement.from_row), request)


def _locale(ctx: Context) -> reasons.Locale:
    """The language of rendered reasons: staff read English; others by Accept-Language (zh-CN by default)."""
    if ctx.principal.role in STAFF:
        return "en"
    headers = getattr(ctx.request, "headers", None)
    return negotiate_locale(headers.get("accept-language") if headers is not None else None)


def _policy_end_reason(p: Policy, ctx: Context) -> str | None:
    code = reasons.end_reason(p.row.status)
    return None if code is None else reasons.render_end_reason(code, locale=_locale(ctx))


def _quote_reasons(q: Quote, ctx: Context) -> list[UnderwritingReason]:
    locale = _locale(ctx)
    return [UnderwritingReason(code=code, text=reasons.render_underwriting_reason(
        code, exclusions=q.exclusions, locale=locale)) for code in q.reason_codes]


@strawberry.type(description="A benefit a product covers, with its optional sublimit.")
@access(PUBLIC)
class CoverageItem:
    code: str = strawberry.field(description="The benefit's code within its product, e.g. \"INPATIENT\" "
                                 "(set by the product; claim line items name it).")
    name: str = strawberry.field(description="The benefit's display name.")
    category: str = strawberry.field(description="The product's grouping of the benefit, e.g. \"inpatient\" "
                                     "(free text set by the product).")
    sublimit: Money | None = strawberry.field(description="The most paid for this benefit per policy year; null: "
                                              "only the product's annual limit applies.")

    @classmethod
    def from_row(cls, row: m.CoverageItem) -> CoverageItem:
        return cls(code=row.code, name=row.name, category=row.category, sublimit=row.sublimit)


@strawberry.type(description="Annual premium for insured ages minAge..maxAge inclusive.")
@access(PUBLIC)
class PremiumBand:
    min_age: int = strawberry.field(description="Youngest insured age of the band (completed years).")
    max_age: int = strawberry.field(description="Oldest insured age of the band (completed years).")
    annual_premium: Money = strawberry.field(description="Premium for a 12-month term (CNY); shorter terms pay "
                                             "their share, smokers x1.20.")

    @classmethod
    def from_row(cls, row: m.PremiumBand) -> PremiumBand:
        return cls(min_age=row.min_age, max_age=row.max_age, annual_premium=row.annual_premium)


@strawberry.type(description="A health insurance product on sale. Anyone may read products, even without a token.")
@access(PUBLIC)
class Product(Node):
    code: str = strawberry.field(description="Unique product code (2-40 of A-Z, 0-9, _ and -).")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the product is, in prose (may be empty).")
    annual_limit: Money = strawberry.field(description="The most paid per policy year (CNY).")
    deductible: Money = strawberry.field(description="Amount per policy year the insured bears before benefits "
                                         "are paid (CNY).")
    copay_rate: Rate = strawberry.field(description="Share of each covered amount the insured pays, 0 <= rate < 1.")
    waiting_period_days: int = strawberry.field(description="Days after the start before illness is covered "
                                                "(0..365).")
    cooling_off_days: int = strawberry.field(description="Days after issue within which a policy may be cancelled "
                                             "with a full refund (0..60).")
    term_months: int = strawberry.field(description="Length of a policy period: 1, 3, 6 or 12 months.")
    min_age: int = strawberry.field(description="Youngest insurable age (its first premium band).")
    max_age: int = strawberry.field(description="Oldest insurable age (its last premium band).")
    active: bool = strawberry.field(description="On sale: quotes and renewals need an active product.")
    version: int = strawberry.field(description="Optimistic-locking version (staff only).", metadata=allow(STAFF))
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Product) -> Product:
        return cls(
            id=strawberry.ID(encode_global_id("Product", row.id)), pk=row.id, code=row.code, name=row.name,
            description=row.description, annual_limit=row.annual_limit, deductible=row.deductible,
            copay_rate=row.copay_rate, waiting_period_days=row.waiting_period_days,
            cooling_off_days=row.cooling_off_days, term_months=row.term_months, min_age=row.min_age,
            max_age=row.max_age, active=row.active, version=row.version,
        )

    @strawberry.field(description="Benefits covered (a product has a handful, all returned).",
                      metadata=fast(_coverage_items, prefetch=prefetch_by(CoverageItemsByProductIdLoader, "pk")))
    def coverage_items(self, info: Info[Context, Any]) -> list[CoverageItem]:
        return _coverage_items(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Premium table by age band, youngest first (all bands; they tile minAge..maxAge).",
                      metadata=fast(_premium_bands, prefetch=prefetch_by(PremiumBandsByProductIdLoader, "pk")))
    def premium_bands(self, info: Info[Context, Any]) -> list[PremiumBand]:
        return _premium_bands(self, info.context)  # type: ignore[no-any-return]


@strawberry.type(description="A person holding or insured by policies. Staff read every customer; a customer "
                 "reads only themself. Personal fields are masked by role.")
@access(POLICY_READERS)
class Customer(Node):
    birth_year: int = strawberry.field(description="Year of birth (from the resident ID number).")
    gender: Gender = strawberry.field(description="Gender (from the resident ID number).")  # type: ignore[valid-type]
    city: str | None = strawberry.field(description="City of residence, when given.")
    version: int = strawberry.field(description="Optimistic-locking version.")
    pk: strawberry.Private[int]
    row: strawberry.Private[m.Customer]

    @classmethod
    def from_row(cls, row: m.Customer) -> Customer:
        return cls(id=strawberry.ID(encode_global_id("Customer", row.id)), pk=row.id, row=row,
                   birth_year=row.birth_year, gender=row.gender, city=row.city, version=row.version)

    @strawberry.field(description="Full name; masked unless the caller may see it in full (the customer, and "
                      "agents, adjusters, managers and admins).", metadata=fast(_customer_name))
    def name(self, info: Info[Context, Any]) -> str:
        return _customer_name(self, info.context)

    @strawberry.field(description="Resident ID number (18 characters); masked unless the caller may see it in full.",
                      metadata=fast(_customer_id_number))
    def id_number(self, info: Info[Context, Any]) -> str:
        return _customer_id_number(self, info.context)

    @strawberry.field(description="Phone (E.164, e.g. \"+8613800001111\"); masked unless the caller may see it "
                      "in full.", metadata=fast(_customer_phone))
    def phone(self, info: Info[Context, Any]) -> str:
        return _customer_phone(self, info.context)

    @strawberry.field(description="Email; masked unless the caller may see it in full; null when none was given.",
                      metadata=fast(_customer_email))
    def email(self, info: Info[Context, Any]) -> str | None:
        return _customer_email(self, info.context)

    @strawberry.field(description="The customer's risk profile: claims history features, risk flags partners "
                      "shared on the person with their proofs, hints (adjusters and risk staff).",
                      metadata=allow(RISK_PROFILE_READERS))
    def risk_profile(self, info: Info[Context, Any]) -> Annotated[
            CustomerRiskProfile, strawberry.lazy("schema.claims.risk_profile")]:
        from schema.claims.risk_profile import risk_profile_of  # the claims domain answers it

        return risk_profile_of(info.context, self.pk)

    @strawberry.field(description="The customer's policies, oldest first (renewals included). " + PAGING,
                      metadata=fast(_customer_policies, prefetch=prefetch_by(PoliciesByCustomerIdLoader, "pk")))
    def policies(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                 before: Before = None) -> Connection[Policy]:
        return _customer_policies(self, info.context, first, after, last, before)  # type: ignore[no-any-return]


@strawberry.type(description="A mid-term change to a policy: which fields changed, when and (for staff) who "
                 "asked. The changed values themselves are not exposed here (the policy shows the current ones).")
@access(POLICY_READERS)
class Endorsement(Node):
    kind: EndorsementKind = strawberry.field(description="The kind of change.")  # type: ignore[valid-type]
    effective_on: dt.date = strawberry.field(description="Business date from which the change applies.")
    changed_fields: list[EndorsementField] = strawberry.field(  # type: ignore[valid-type]
        description="The policy fields it changed, in a fixed order (never their values).")
    requested_by: str = strawberry.field(description="Token subject of who asked for the change (staff only).",
                                         metadata=allow(STAFF))
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Endorsement) -> Endorsement:
        return cls(id=strawberry.ID(encode_global_id("Endorsement", row.id)), pk=row.id, kind=row.kind,
                   effective_on=row.effective_on, requested_by=row.requested_by,
                   changed_fields=service.changed_fields(row))


@strawberry.type(description="An issued health insurance contract (FHIR Coverage). Staff read every policy; a "
                 "customer reads only their own.")
@access(POLICY_READERS)
class Policy(Node):
    number: str = strawberry.field(description="Policy number, e.g. \"OPS2026A1B2C3D4E5\" (unique).")
    status: PolicyStatus = strawberry.field(description="Where the policy stands.")  # type: ignore[valid-type]
    period_start: dt.date = strawberry.field(description="First covered business date.")
    period_end: dt.date = strawberry.field(description="Last covered business date of the period.")
    issued_at: dt.datetime = strawberry.field(description="When the policy was issued.")
    premium: Money = strawberry.field(description="Premium for the period (CNY).")
    insured_age: int = strawberry.field(description="The insured's age at the start of the period.")
    exclusions: list[str] = strawberry.field(description="ICD-10 categories excluded from cover, e.g. \"E11\".")
    ended_on: dt.date | None = strawberry.field(description="Business date the policy ended; null while active.")
    end_reason_code: PolicyEndReason | None = strawberry.field(  # type: ignore[valid-type]
        description="Why the policy ended; null while active.")
    end_note: str | None = strawberry.field(description="Free-form note given with a surrender or lapse (staff only; "
                                            "null when none).", metadata=allow(STAFF))
    refund: Money | None = strawberry.field(description="Premium refunded when it ended (CNY); null while active "
                                            "or when it expired.")
    beneficiary_relationship: BeneficiaryRelationship | None = strawberry.field(  # type: ignore[valid-type]
        description="How the named beneficiary relates to the insured; null: none named.")
    version: int = strawberry.field(description="Optimistic-locking version; send it back as expectedVersion.")
    pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    row: strawberry.Private[m.Policy]

    @classmethod
    def from_row(cls, row: m.Policy) -> Policy:
        relationship = row.beneficiary_relationship
        return cls(
            id=strawberry.ID(encode_global_id("Policy", row.id)), pk=row.id, customer_pk=row.customer_id,
            product_pk=row.product_id, row=row, number=row.number, status=row.status,
            period_start=row.period_start, period_end=row.period_end, issued_at=row.issued_at,
            premium=row.premium, insured_age=row.insured_age, exclusions=list(row.exclusions or ()),
            ended_on=row.ended_on, end_reason_code=reasons.end_reason(row.status),
            end_note=reasons.end_note(row.end_reason), refund=row.refund,
            beneficiary_relationship=None if relationship is None else m.BeneficiaryRelationship(relationship),
            version=row.version,
        )

    @strawberry.field(description="Whether the policy covers the given business date (default: today).",
                      metadata=fast(_policy_in_force))
    def in_force(self, info: Info[Context, Any], on: Annotated[dt.date | None, strawberry.argument(
            description="The business date to check (YYYY-MM-DD); default: today.")] = None) -> bool:
        return _policy_in_force(self, info.context, on)

    @strawberry.field(description="Why the policy ended, in the reader's words (zh-CN or en by Accept-Language; "
                      "staff: en); null while active.", metadata=fast(_policy_end_reason))
    def end_reason(self, info: Info[Context, Any]) -> str | None:
        return _policy_end_reason(self, info.context)

    @strawberry.field(description="Contact phone for this policy (E.164); masked by role; null: the customer's.",
                      metadata=fast(_policy_contact_phone))
    def contact_phone(self, info: Info[Context, Any]) -> str | None:
        return _policy_contact_phone(self, info.context)

    @strawberry.field(description="Contact email for this policy; masked by role; null: the customer's.",
                      metadata=fast(_policy_contact_email))
    def contact_email(self, info: Info[Context, Any]) -> str | None:
        return _policy_contact_email(self, info.context)

    @strawberry.field(description="Named beneficiary; masked by role; null: none named.",
                      metadata=fast(_policy_beneficiary_name))
    def beneficiary_name(self, info: Info[Context, Any]) -> str | None:
        return _policy_beneficiary_name(self, info.context)

    @strawberry.field(description="Policyholder and insured person.",
                      metadata=fast(_policy_customer, prefetch=prefetch_by(CustomerByIdLoader, "customer_pk")))
    def customer(self, info: Info[Context, Any]) -> Customer:
        return _policy_customer(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="The product this policy was issued on.",
                      metadata=fast(_policy_product, prefetch=prefetch_by(ProductByIdLoader, "product_pk")))
    def product(self, info: Info[Context, Any]) -> Product:
        return _policy_product(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Mid-term changes, oldest first. " + PAGING,
                      metadata=fast(_policy_endorsements, prefetch=prefetch_by(EndorsementsByPolicyIdLoader, "pk")))
    def endorsements(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                     before: Before = None) -> Connection[Endorsement]:
        return _policy_endorsements(self, info.context, first, after, last, before)  # type: ignore[no-any-return]


@strawberry.type(description="Why underwriting decided as it did: a code and its text in the reader's words "
                 "(zh-CN or en by Accept-Language; staff: en). The text names only the quote's own exclusions, "
                 "never the declared diagnoses.")
@access(POLICY_READERS)
class UnderwritingReason:
    code: UnderwritingReasonCode = strawberry.field(description="The reason.")  # type: ignore[valid-type]
    text: str = strawberry.field(description="The reason in the reader's words.")


@strawberry.type(description="A priced, underwritten offer for one customer and product (requestQuote). Staff read "
                 "every quote; a customer only their own.")
@access(POLICY_READERS)  # everyone who quotes (SELF_SERVICE) and all staff
class Quote(Node):
    status: QuoteStatus = strawberry.field(description="Where the quote stands.")  # type: ignore[valid-type]
    start_date: dt.date = strawberry.field(description="Business date the policy would start.")
    valid_until: dt.date = strawberry.field(description="Last business date on which it can issue a policy.")
    insured_age: int = strawberry.field(description="The insured's age at the start date.")
    premium: Money = strawberry.field(description="Premium for one term (CNY), smoker loading included.")
    outcome: UnderwritingOutcome = strawberry.field(description="What underwriting decided.")  # type: ignore[valid-type]
    exclusions: list[str] = strawberry.field(description="ICD-10 categories excluded from cover, e.g. \"E11\".")
    version: int = strawberry.field(description="Optimistic-locking version.")
    reason_codes: strawberry.Private[list[ReasonValue]]
    customer_pk: strawberry.Private[int]
    quoted_at: strawberry.Private[dt.datetime]

    @classmethod
    def from_row(cls, row: m.Quote) -> Quote:
        return cls(id=strawberry.ID(encode_global_id("Quote", row.id)), status=row.status,
                   start_date=row.start_date, valid_until=row.valid_until, insured_age=row.insured_age,
                   premium=row.premium, outcome=row.outcome, exclusions=list(row.exclusions),
                   reason_codes=reasons.underwriting_reasons(row.reasons), version=row.version,
                   customer_pk=row.customer_id, quoted_at=row.created_at)

    @strawberry.field(description="The risk flags partners shared on the insured that sent this quote to manual "
                      "underwriting, each with its ledger proof (outcome REFER; empty otherwise). Adjusters and "
                      "risk staff only.", metadata=allow(RISK_PROFILE_READERS))
    def referral_flags(self, info: Info[Context, Any]) -> list[Annotated[
            RiskFlag, strawberry.lazy("schema.partners.types")]]:
        from schema.claims.risk_profile import referral_flags_of  # the claims domain's profile answers it

        if self.outcome is not m.UnderwritingOutcome.REFER:
            return []
        return referral_flags_of(info.context, self.customer_pk, self.quoted_at)  # type: ignore[no-any-return]

    @strawberry.field(description="Why underwriting decided as it did (one to three reasons).",
                      metadata=fast(_quote_reasons))
    def reasons(self, info: Info[Context, Any]) -> list[UnderwritingReason]:
        return _quote_reasons(self, info.context)


@strawberry.type(description="One question of the smart health questionnaire. Answer every question once in "
                 "requestQuote.")
@access(PUBLIC)
class HealthQuestion:
    code: str = strawberry.field(description="The question's code, sent back as DeclarationAnswerInput.question, "
                                 "e.g. \"smoker\". A string, not an enum: the questionnaire is data a client "
                                 "renders as served, and questions may be added without a schema change.")
    text: str = strawberry.field(description="The question as asked (en).")
    asks_for_diagnoses: bool = strawberry.field(description="Whether a 'yes' must name ICD-10 diagnosis codes.")


@strawberry.type(description="Something happened to a policy (policyEvents). Customers receive only their own "
                 "policies' events.")
@access(POLICY_READERS)
class PolicyEvent:
    kind: PolicyEventKind = strawberry.field(description="What happened.")  # type: ignore[valid-type]
    policy_id: strawberry.ID = strawberry.field(description="Global id of the policy it happened to (for RENEWED: "
                                                "the new policy).")
