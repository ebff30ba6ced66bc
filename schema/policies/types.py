"""GraphQL object types of the policies domain: products, customers, policies, endorsements, quotes.

Each field with a resolver calls one body function of (source, context) below; the same
function is the field's fast twin (``schema.fastexec``), so both execution paths share one
implementation. Personal fields are masked unless row scoping says the caller sees them in
full (``resolvers.policies.scoping.may_see_personal_fields``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from core.masking import mask_email, mask_id_number, mask_name, mask_phone
from core.roles import POLICY_READERS, STAFF
from resolvers.policies import models as m
from resolvers.policies import service
from resolvers.policies.scoping import may_see_personal_fields
from schema.context import Context
from schema.fastexec import fast
from schema.lookahead import prefetch_by
from schema.permissions import PUBLIC, access, allow
from schema.policies.enums import EndorsementKind, Gender, PolicyStatus, QuoteStatus, UnderwritingOutcome
from schema.policies.loaders import (
    CoverageItemsByProductIdLoader,
    CustomerByIdLoader,
    EndorsementsByPolicyIdLoader,
    PoliciesByCustomerIdLoader,
    PremiumBandsByProductIdLoader,
    ProductByIdLoader,
)
from schema.relay import Edge, Node, PageInfo, encode_global_id

__all__ = [
    "CoverageItem",
    "Customer",
    "CustomerConnection",
    "Endorsement",
    "HealthQuestion",
    "Policy",
    "PolicyConnection",
    "PolicyEvent",
    "PremiumBand",
    "Product",
    "Quote",
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


def _customer_policies(c: Customer, ctx: Context) -> Any:
    return ctx.loader(PoliciesByCustomerIdLoader).get_wrapped(c.pk, Policy.from_row)


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


def _policy_endorsements(p: Policy, ctx: Context) -> Any:
    return ctx.loader(EndorsementsByPolicyIdLoader).get_wrapped(p.pk, Endorsement.from_row)


def _policies_total_count(conn: PolicyConnection, ctx: Context) -> int:
    return service.count_policies(ctx.session, principal=ctx.principal, status=conn.status_filter)


@strawberry.type(description="A benefit a product covers, with its optional sublimit.")
@access(PUBLIC)
class CoverageItem:
    code: str
    name: str
    category: str
    sublimit: Decimal | None

    @classmethod
    def from_row(cls, row: m.CoverageItem) -> CoverageItem:
        return cls(code=row.code, name=row.name, category=row.category, sublimit=row.sublimit)


@strawberry.type(description="Annual premium for insured ages minAge..maxAge inclusive.")
@access(PUBLIC)
class PremiumBand:
    min_age: int
    max_age: int
    annual_premium: Decimal

    @classmethod
    def from_row(cls, row: m.PremiumBand) -> PremiumBand:
        return cls(min_age=row.min_age, max_age=row.max_age, annual_premium=row.annual_premium)


@strawberry.type(description="A health insurance product on sale.")
@access(PUBLIC)
class Product(Node):
    code: str
    name: str
    description: str
    annual_limit: Decimal
    deductible: Decimal
    copay_rate: Decimal = strawberry.field(description="Share of each covered amount the insured pays (0..1).")
    waiting_period_days: int
    cooling_off_days: int
    term_months: int
    min_age: int
    max_age: int
    active: bool
    version: int = strawberry.field(metadata=allow(STAFF))
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

    @strawberry.field(description="Benefits covered.",
                      metadata=fast(_coverage_items, prefetch=prefetch_by(CoverageItemsByProductIdLoader, "pk")))
    def coverage_items(self, info: Info[Context, Any]) -> list[CoverageItem]:
        return _coverage_items(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="Premium table by age band.",
                      metadata=fast(_premium_bands, prefetch=prefetch_by(PremiumBandsByProductIdLoader, "pk")))
    def premium_bands(self, info: Info[Context, Any]) -> list[PremiumBand]:
        return _premium_bands(self, info.context)  # type: ignore[no-any-return]


@strawberry.type(description="A person holding or insured by policies. Personal fields are masked by role.")
@access(POLICY_READERS)
class Customer(Node):
    birth_year: int
    gender: Gender  # type: ignore[valid-type]
    city: str | None
    version: int
    pk: strawberry.Private[int]
    row: strawberry.Private[m.Customer]

    @classmethod
    def from_row(cls, row: m.Customer) -> Customer:
        return cls(id=strawberry.ID(encode_global_id("Customer", row.id)), pk=row.id, row=row,
                   birth_year=row.birth_year, gender=row.gender, city=row.city, version=row.version)

    @strawberry.field(description="Full name; masked unless the caller may see it in full.",
                      metadata=fast(_customer_name))
    def name(self, info: Info[Context, Any]) -> str:
        return _customer_name(self, info.context)

    @strawberry.field(description="Resident ID number; masked unless the caller may see it in full.",
                      metadata=fast(_customer_id_number))
    def id_number(self, info: Info[Context, Any]) -> str:
        return _customer_id_number(self, info.context)

    @strawberry.field(description="Phone (E.164); masked unless the caller may see it in full.",
                      metadata=fast(_customer_phone))
    def phone(self, info: Info[Context, Any]) -> str:
        return _customer_phone(self, info.context)

    @strawberry.field(description="Email; masked unless the caller may see it in full.",
                      metadata=fast(_customer_email))
    def email(self, info: Info[Context, Any]) -> str | None:
        return _customer_email(self, info.context)

    @strawberry.field(description="The customer's policies, oldest first.",
                      metadata=fast(_customer_policies, prefetch=prefetch_by(PoliciesByCustomerIdLoader, "pk")))
    def policies(self, info: Info[Context, Any]) -> list[Policy]:
        return _customer_policies(self, info.context)  # type: ignore[no-any-return]


@strawberry.type(description="A mid-term change to a policy. The changed values themselves are not exposed.")
@access(POLICY_READERS)
class Endorsement:
    kind: EndorsementKind  # type: ignore[valid-type]
    effective_on: dt.date
    changed_fields: list[str]
    requested_by: str = strawberry.field(metadata=allow(STAFF))

    @classmethod
    def from_row(cls, row: m.Endorsement) -> Endorsement:
        return cls(kind=row.kind, effective_on=row.effective_on, requested_by=row.requested_by,
                   changed_fields=sorted(json.loads(row.changes)))


@strawberry.type(description="An issued health insurance contract (FHIR Coverage).")
@access(POLICY_READERS)
class Policy(Node):
    number: str
    status: PolicyStatus  # type: ignore[valid-type]
    period_start: dt.date
    period_end: dt.date
    issued_at: dt.datetime
    premium: Decimal
    insured_age: int
    exclusions: list[str] = strawberry.field(description="ICD-10 categories excluded from cover.")
    ended_on: dt.date | None
    end_reason: str | None
    refund: Decimal | None
    beneficiary_relationship: str | None
    version: int = strawberry.field(description="Optimistic-locking version; send it back as expectedVersion.")
    pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    row: strawberry.Private[m.Policy]

    @classmethod
    def from_row(cls, row: m.Policy) -> Policy:
        return cls(
            id=strawberry.ID(encode_global_id("Policy", row.id)), pk=row.id, customer_pk=row.customer_id,
            product_pk=row.product_id, row=row, number=row.number, status=row.status,
            period_start=row.period_start, period_end=row.period_end, issued_at=row.issued_at,
            premium=row.premium, insured_age=row.insured_age, exclusions=list(row.exclusions or ()),
            ended_on=row.ended_on, end_reason=row.end_reason, refund=row.refund,
            beneficiary_relationship=row.beneficiary_relationship, version=row.version,
        )

    @strawberry.field(description="Whether the policy covers the given day (default: today).",
                      metadata=fast(_policy_in_force))
    def in_force(self, info: Info[Context, Any], on: dt.date | None = None) -> bool:
        return _policy_in_force(self, info.context, on)

    @strawberry.field(description="Contact phone for this policy; masked by role.",
                      metadata=fast(_policy_contact_phone))
    def contact_phone(self, info: Info[Context, Any]) -> str | None:
        return _policy_contact_phone(self, info.context)

    @strawberry.field(description="Contact email for this policy; masked by role.",
                      metadata=fast(_policy_contact_email))
    def contact_email(self, info: Info[Context, Any]) -> str | None:
        return _policy_contact_email(self, info.context)

    @strawberry.field(description="Named beneficiary; masked by role.", metadata=fast(_policy_beneficiary_name))
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

    @strawberry.field(description="Mid-term changes, oldest first.",
                      metadata=fast(_policy_endorsements, prefetch=prefetch_by(EndorsementsByPolicyIdLoader, "pk")))
    def endorsements(self, info: Info[Context, Any]) -> list[Endorsement]:
        return _policy_endorsements(self, info.context)  # type: ignore[no-any-return]


@strawberry.type(description="A priced, underwritten offer.")
@access(POLICY_READERS)  # everyone who quotes (SELF_SERVICE) and all staff
class Quote(Node):
    status: QuoteStatus  # type: ignore[valid-type]
    start_date: dt.date
    valid_until: dt.date
    insured_age: int
    premium: Decimal
    outcome: UnderwritingOutcome  # type: ignore[valid-type]
    exclusions: list[str]
    reasons: list[str]
    version: int

    @classmethod
    def from_row(cls, row: m.Quote) -> Quote:
        return cls(id=strawberry.ID(encode_global_id("Quote", row.id)), status=row.status,
                   start_date=row.start_date, valid_until=row.valid_until, insured_age=row.insured_age,
                   premium=row.premium, outcome=row.outcome, exclusions=list(row.exclusions),
                   reasons=list(row.reasons), version=row.version)


@strawberry.type(description="One question of the smart health questionnaire.")
@access(PUBLIC)
class HealthQuestion:
    code: str
    text: str
    asks_for_diagnoses: bool


PolicyEdge = Edge[Policy]
CustomerEdge = Edge[Customer]


@strawberry.type(description="A page of policies.")
@access(POLICY_READERS)
class PolicyConnection:
    edges: list[Edge[Policy]]
    page_info: PageInfo
    status_filter: strawberry.Private[m.PolicyStatus | None]

    @strawberry.field(description="Policies matching the filter that the caller may see (one COUNT query).",
                      metadata=fast(_policies_total_count))
    def total_count(self, info: Info[Context, Any]) -> int:
        return _policies_total_count(self, info.context)


@strawberry.type(description="A page of customers.")
@access(POLICY_READERS)
class CustomerConnection:
    edges: list[Edge[Customer]]
    page_info: PageInfo


@strawberry.type(description="Something happened to a policy.")
@access(POLICY_READERS)
class PolicyEvent:
    kind: str
    policy_id: strawberry.ID
