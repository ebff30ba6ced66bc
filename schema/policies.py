"""GraphQL contract of the policies core: customers, products, quotes, policies, endorsements."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncGenerator, Callable
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from core.auth import Role
from core.errors import NotFoundError, ValidationError
from core.events import broker
from core.masking import mask_email, mask_id_number, mask_name, mask_phone
from resolvers.policies import loaders as fetch
from resolvers.policies import models as m
from resolvers.policies import service
from resolvers.policies.scoping import may_see_customer
from resolvers.policies.underwriting import QUESTIONS, DeclarationAnswer
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.fastexec import fast
from schema.loaders import BatchLoader
from schema.permissions import PUBLIC, STAFF, access, allow
from schema.relay import (
    Edge,
    PageInfo,
    decode_global_id,
    encode_global_id,
    keyset_edges,
    page_info,
    page_size,
)

# Roles that see personal fields in full (a customer only their own; see _full_pii).
FULL_PII = frozenset({Role.AGENT, Role.ADJUSTER, Role.MANAGER, Role.ADMIN})
CUSTOMER_READERS = STAFF | {"customer"}
POLICY_READERS = STAFF | {"customer"}
SELF_SERVICE = frozenset({"customer", "agent", "manager", "admin"})

PolicyStatus = strawberry.enum(m.PolicyStatus, name="PolicyStatus", description="FHIR Coverage.status plus ends.")
Gender = strawberry.enum(m.Gender, name="Gender")
UnderwritingOutcome = strawberry.enum(m.UnderwritingOutcome, name="UnderwritingOutcome")
QuoteStatus = strawberry.enum(m.QuoteStatus, name="QuoteStatus")
EndorsementKind = strawberry.enum(m.EndorsementKind, name="EndorsementKind")


def _ctx(info: Info[Context, Any]) -> Context:
    return info.context


def _full_pii(ctx: Context, customer_id: int) -> bool:
    p = ctx.principal
    if p.role is Role.CUSTOMER:
        return p.customer_id == customer_id
    return p.role in FULL_PII


# --- loaders ----------------------------------------------------------------------------------


class CustomerByIdLoader(BatchLoader[int, m.Customer | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.customers_by_id(self.context.session, keys)


class ProductByIdLoader(BatchLoader[int, m.Product | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.products_by_id(self.context.session, keys)


class EndorsementsByPolicyIdLoader(BatchLoader[int, list[m.Endorsement]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.endorsements_by_policy(self.context.session, keys)


class PoliciesByCustomerIdLoader(BatchLoader[int, list[m.Policy]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.policies_by_customer(self.context.session, keys)


class CoverageItemsByProductIdLoader(BatchLoader[int, list[m.CoverageItem]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.coverage_items_by_product(self.context.session, keys)


class PremiumBandsByProductIdLoader(BatchLoader[int, list[m.PremiumBand]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.premium_bands_by_product(self.context.session, keys)


# --- resolver bodies ----------------------------------------------------------------------------
# Each field resolver below calls one of these functions of (source, context); the same
# function is the field's fast twin (schema.fastexec), so both execution paths share one
# implementation. ``_prefetch_*`` load a relation for all sibling sources in one query.


def _prefetch(loader: type[BatchLoader[Any, Any]], key: str) -> Any:
    def prefetch(ctx: Context, sources: list[Any]) -> None:
        ctx.loader(loader).fetch_and_prime([getattr(s, key) for s in sources])

    return prefetch


def _coverage_items(product: Product, ctx: Context) -> Any:
    return ctx.loader(CoverageItemsByProductIdLoader).get_wrapped(product.pk, CoverageItem.from_row)


def _premium_bands(product: Product, ctx: Context) -> Any:
    return ctx.loader(PremiumBandsByProductIdLoader).get_wrapped(product.pk, PremiumBand.from_row)


def _customer_name(c: Customer, ctx: Context) -> str:
    return c.row.name if _full_pii(ctx, c.pk) else mask_name(c.row.name)


def _customer_id_number(c: Customer, ctx: Context) -> str:
    return c.row.id_number if _full_pii(ctx, c.pk) else mask_id_number(c.row.id_number)


def _customer_phone(c: Customer, ctx: Context) -> str:
    return c.row.phone if _full_pii(ctx, c.pk) else mask_phone(c.row.phone)


def _customer_email(c: Customer, ctx: Context) -> str | None:
    if c.row.email is None:
        return None
    return c.row.email if _full_pii(ctx, c.pk) else mask_email(c.row.email)


def _customer_policies(c: Customer, ctx: Context) -> Any:
    return ctx.loader(PoliciesByCustomerIdLoader).get_wrapped(c.pk, Policy.from_row)


def _policy_in_force(p: Policy, ctx: Context, on: dt.date | None = None) -> bool:
    day = on or ctx.today()
    return p.row.status is m.PolicyStatus.ACTIVE and p.period_start <= day <= p.period_end


def _policy_contact_phone(p: Policy, ctx: Context) -> str | None:
    v = p.row.contact_phone
    return v if v is None or _full_pii(ctx, p.customer_pk) else mask_phone(v)


def _policy_contact_email(p: Policy, ctx: Context) -> str | None:
    v = p.row.contact_email
    return v if v is None or _full_pii(ctx, p.customer_pk) else mask_email(v)


def _policy_beneficiary_name(p: Policy, ctx: Context) -> str | None:
    v = p.row.beneficiary_name
    return v if v is None or _full_pii(ctx, p.customer_pk) else mask_name(v)


def _policy_customer(p: Policy, ctx: Context) -> Any:
    return ctx.loader(CustomerByIdLoader).get_wrapped(p.customer_pk, Customer.from_row)


def _policy_product(p: Policy, ctx: Context) -> Any:
    return ctx.loader(ProductByIdLoader).get_wrapped(p.product_pk, Product.from_row)


def _policy_endorsements(p: Policy, ctx: Context) -> Any:
    return ctx.loader(EndorsementsByPolicyIdLoader).get_wrapped(p.pk, Endorsement.from_row)


def _policies_total_count(conn: PolicyConnection, ctx: Context) -> int:
    return service.count_policies(ctx.session, principal=ctx.principal, status=conn.status_filter)


# --- types ------------------------------------------------------------------------------------


@strawberry.interface(description="An object with a global id (Relay).")
@access(PUBLIC)
class Node:
    id: strawberry.ID


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
                      metadata=fast(_coverage_items, prefetch=_prefetch(CoverageItemsByProductIdLoader, "pk")))
    def coverage_items(self, info: Info[Context, Any]) -> list[CoverageItem]:
        return _coverage_items(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="Premium table by age band.",
                      metadata=fast(_premium_bands, prefetch=_prefetch(PremiumBandsByProductIdLoader, "pk")))
    def premium_bands(self, info: Info[Context, Any]) -> list[PremiumBand]:
        return _premium_bands(self, _ctx(info))  # type: ignore[no-any-return]


@strawberry.type(description="A person holding or insured by policies. Personal fields are masked by role.")
@access(CUSTOMER_READERS)
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
        return _customer_name(self, _ctx(info))

    @strawberry.field(description="Resident ID number; masked unless the caller may see it in full.",
                      metadata=fast(_customer_id_number))
    def id_number(self, info: Info[Context, Any]) -> str:
        return _customer_id_number(self, _ctx(info))

    @strawberry.field(description="Phone (E.164); masked unless the caller may see it in full.",
                      metadata=fast(_customer_phone))
    def phone(self, info: Info[Context, Any]) -> str:
        return _customer_phone(self, _ctx(info))

    @strawberry.field(description="Email; masked unless the caller may see it in full.",
                      metadata=fast(_customer_email))
    def email(self, info: Info[Context, Any]) -> str | None:
        return _customer_email(self, _ctx(info))

    @strawberry.field(description="The customer's policies, oldest first.",
                      metadata=fast(_customer_policies, prefetch=_prefetch(PoliciesByCustomerIdLoader, "pk")))
    def policies(self, info: Info[Context, Any]) -> list[Policy]:
        return _customer_policies(self, _ctx(info))  # type: ignore[no-any-return]


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
        return _policy_in_force(self, _ctx(info), on)

    @strawberry.field(description="Contact phone for this policy; masked by role.",
                      metadata=fast(_policy_contact_phone))
    def contact_phone(self, info: Info[Context, Any]) -> str | None:
        return _policy_contact_phone(self, _ctx(info))

    @strawberry.field(description="Contact email for this policy; masked by role.",
                      metadata=fast(_policy_contact_email))
    def contact_email(self, info: Info[Context, Any]) -> str | None:
        return _policy_contact_email(self, _ctx(info))

    @strawberry.field(description="Named beneficiary; masked by role.", metadata=fast(_policy_beneficiary_name))
    def beneficiary_name(self, info: Info[Context, Any]) -> str | None:
        return _policy_beneficiary_name(self, _ctx(info))

    @strawberry.field(description="Policyholder and insured person.",
                      metadata=fast(_policy_customer, prefetch=_prefetch(CustomerByIdLoader, "customer_pk")))
    def customer(self, info: Info[Context, Any]) -> Customer:
        return _policy_customer(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="The product this policy was issued on.",
                      metadata=fast(_policy_product, prefetch=_prefetch(ProductByIdLoader, "product_pk")))
    def product(self, info: Info[Context, Any]) -> Product:
        return _policy_product(self, _ctx(info))  # type: ignore[no-any-return]

    @strawberry.field(description="Mid-term changes, oldest first.",
                      metadata=fast(_policy_endorsements, prefetch=_prefetch(EndorsementsByPolicyIdLoader, "pk")))
    def endorsements(self, info: Info[Context, Any]) -> list[Endorsement]:
        return _policy_endorsements(self, _ctx(info))  # type: ignore[no-any-return]


@strawberry.type(description="A priced, underwritten offer.")
@access(SELF_SERVICE | STAFF)
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
        return _policies_total_count(self, _ctx(info))


@strawberry.type(description="A page of customers.")
@access(CUSTOMER_READERS)
class CustomerConnection:
    edges: list[Edge[Customer]]
    page_info: PageInfo


def _selected(info: Info[Context, Any], *path: str) -> set[str]:
    """Names of the sub-fields selected at ``path`` below the current field (look-ahead)."""
    fields = list(info.selected_fields)
    for name in path:
        nxt = []
        for f in fields:
            for sel in getattr(f, "selections", []):
                if getattr(sel, "name", None) == name:
                    nxt.append(sel)
                elif hasattr(sel, "type_condition") or sel.__class__.__name__ == "FragmentSpread":
                    for inner in getattr(sel, "selections", []):
                        if getattr(inner, "name", None) == name:
                            nxt.append(inner)
        fields = nxt
    out: set[str] = set()
    for f in fields:
        for sel in getattr(f, "selections", []):
            sel_name = getattr(sel, "name", None)
            if sel_name is not None:
                out.add(sel_name)
            else:
                out |= {getattr(s, "name", "") for s in getattr(sel, "selections", [])}
    return out


def _prefetch_policy_relations(ctx: Context, info: Info[Context, Any], rows: list[m.Policy]) -> None:
    """Look-ahead: load every selected relation of a page of policies now, one query each."""
    if not rows:
        return
    wanted = _selected(info, "edges", "node")
    if "customer" in wanted:
        ctx.loader(CustomerByIdLoader).fetch_and_prime([r.customer_id for r in rows])
    if "product" in wanted:
        product_ids = [r.product_id for r in rows]
        ctx.loader(ProductByIdLoader).fetch_and_prime(product_ids)
        below = _selected(info, "edges", "node", "product")
        if "coverageItems" in below:
            ctx.loader(CoverageItemsByProductIdLoader).fetch_and_prime(product_ids)
        if "premiumBands" in below:
            ctx.loader(PremiumBandsByProductIdLoader).fetch_and_prime(product_ids)
    if "endorsements" in wanted:
        ctx.loader(EndorsementsByPolicyIdLoader).fetch_and_prime([r.id for r in rows])


@strawberry.type
class PoliciesQuery:
    @strawberry.field(description="The calling customer.", metadata=allow(Role.CUSTOMER))
    def me(self, info: Info[Context, Any]) -> Customer | None:
        ctx = _ctx(info)
        if ctx.principal.customer_id is None:
            return None
        rows = fetch.customers_by_id(ctx.session, [ctx.principal.customer_id])
        row = rows.get(ctx.principal.customer_id)
        return Customer.from_row(row) if row else None

    @strawberry.field(description="A customer by global id (null when not visible).", metadata=allow(CUSTOMER_READERS))
    def customer(self, info: Info[Context, Any], id: strawberry.ID) -> Customer | None:
        ctx = _ctx(info)
        pk = decode_global_id(id, "Customer")
        if not may_see_customer(ctx.principal, pk):
            return None
        row = fetch.customers_by_id(ctx.session, [pk]).get(pk)
        return Customer.from_row(row) if row else None

    @strawberry.field(description="Customers, oldest first. first: at most the max page size (100).",
                      metadata=allow(STAFF))
    def customers(self, info: Info[Context, Any], first: int | None = None, after: str | None = None) -> CustomerConnection:
        ctx = _ctx(info)
        page = service.list_customers(ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings), after=after)
        return CustomerConnection(
            edges=keyset_edges(page, Customer.from_row),
            page_info=page_info(page),
        )

    @strawberry.field(description="Products on sale.", metadata=allow(PUBLIC))
    def products(self, info: Info[Context, Any], include_inactive: bool = False) -> list[Product]:
        ctx = _ctx(info)
        return [Product.from_row(p) for p in service.list_products(ctx.session, active_only=not include_inactive)]

    @strawberry.field(description="The smart health questionnaire.", metadata=allow(PUBLIC))
    def health_questions(self) -> list[HealthQuestion]:
        return [HealthQuestion(code=c, text=t, asks_for_diagnoses=d) for c, (t, d) in QUESTIONS.items()]

    @strawberry.field(description="A policy by global id (null when not visible).", metadata=allow(POLICY_READERS))
    def policy(self, info: Info[Context, Any], id: strawberry.ID) -> Policy | None:
        ctx = _ctx(info)
        pk = decode_global_id(id, "Policy")
        try:
            row = service.get_policy(ctx.session, principal=ctx.principal, policy_id=pk)
        except NotFoundError:
            return None
        return Policy.from_row(row)

    @strawberry.field(
        description="Policies the caller may see, oldest first; first: 0..100 (default 20). "
        "Cost: first x selected fields.",
        metadata=allow(POLICY_READERS),
    )
    def policies(
        self,
        info: Info[Context, Any],
        first: int | None = None,
        after: str | None = None,
        status: PolicyStatus | None = None,  # type: ignore[valid-type]
    ) -> PolicyConnection:
        ctx = _ctx(info)
        page = service.list_policies(
            ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings), after=after, status=status
        )
        _prefetch_policy_relations(ctx, info, page.items)
        return PolicyConnection(
            edges=keyset_edges(page, Policy.from_row),
            page_info=page_info(page),
            status_filter=status,
        )


# --- inputs and mutations --------------------------------------------------------------------


@strawberry.input(description="Register a customer; birth date and gender come from the ID number.")
class RegisterCustomerInput:
    name: str
    id_number: str = strawberry.field(description="Mainland resident ID number (18 characters).")
    phone: str
    email: str | None = None
    city: str | None = None


@strawberry.type
@access(PUBLIC)
class RegisterCustomerPayload:
    customer: Customer | None
    errors: list[UserError]


@strawberry.input
class CoverageItemInput:
    code: str
    name: str
    category: str
    sublimit: Decimal | None = None


@strawberry.input
class PremiumBandInput:
    min_age: int
    max_age: int
    annual_premium: Decimal


@strawberry.input(description="Define a product. Bands must tile the age range without gaps.")
class CreateProductInput:
    code: str
    name: str
    annual_limit: Decimal
    deductible: Decimal
    copay_rate: Decimal
    waiting_period_days: int
    coverage_items: list[CoverageItemInput]
    premium_bands: list[PremiumBandInput]
    description: str = ""
    cooling_off_days: int = 15
    term_months: int = 12


@strawberry.type
@access(PUBLIC)
class CreateProductPayload:
    product: Product | None
    errors: list[UserError]


@strawberry.input
class DeclarationAnswerInput:
    question: str
    answer: bool
    diagnoses: list[str] = strawberry.field(default_factory=list, description="ICD-10 codes when a 'yes' asks for them.")


@strawberry.input(description="Ask for a priced, underwritten quote.")
class RequestQuoteInput:
    customer_id: strawberry.ID
    product_id: strawberry.ID
    start_date: dt.date
    answers: list[DeclarationAnswerInput] = strawberry.field(description="Every health question answered once (max 20).")


@strawberry.type
@access(PUBLIC)
class QuotePayload:
    quote: Quote | None
    errors: list[UserError]


@strawberry.type
@access(PUBLIC)
class PolicyPayload:
    policy: Policy | None
    errors: list[UserError]


@strawberry.input
class PolicyChangeInput:
    policy_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description="Refused when the policy moved on.")
    reason: str = ""


@strawberry.input
class ContactEndorsementInput:
    policy_id: strawberry.ID
    expected_version: int | None = None
    phone: str | None = None
    email: str | None = None


@strawberry.input
class BeneficiaryEndorsementInput:
    policy_id: strawberry.ID
    expected_version: int | None = None
    name: str
    relationship: str = strawberry.field(description="spouse, child, parent, sibling, legal_heir or other.")


@strawberry.type
@access(PUBLIC)
class EndorsementPayload:
    endorsement: Endorsement | None
    policy: Policy | None
    errors: list[UserError]


def _policy_target(p: m.Policy | None) -> str | None:
    return None if p is None else encode_global_id("Policy", p.id)


def _customer_target(c: m.Customer | None) -> str | None:
    return None if c is None else encode_global_id("Customer", c.id)


def _product_target(p: m.Product | None) -> str | None:
    return None if p is None else encode_global_id("Product", p.id)


def _quote_target(q: m.Quote | None) -> str | None:
    return None if q is None else encode_global_id("Quote", q.id)


def _policy_payload(info: Info[Context, Any], action: str, data: Any,
                    work: Callable[[Any], m.Policy]) -> PolicyPayload:
    row, errors = run_mutation(info, action, data, work, target=_policy_target)
    return PolicyPayload(policy=Policy.from_row(row) if row else None, errors=errors)


@strawberry.type
class PoliciesMutation:
    @strawberry.mutation(description="Register a customer (staff onboarding).",
                         metadata=allow(Role.AGENT, Role.MANAGER, Role.ADMIN))
    def register_customer(self, info: Info[Context, Any], input: RegisterCustomerInput) -> RegisterCustomerPayload:
        row, errors = run_mutation(
            info, "registerCustomer", {"idNumberDigest": "redacted", "city": input.city},
            lambda s: service.create_customer(s, name=input.name, id_number=input.id_number, phone=input.phone,
                                              email=input.email, city=input.city),
            target=_customer_target,
        )
        return RegisterCustomerPayload(customer=Customer.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Define a product.", metadata=allow(Role.MANAGER, Role.ADMIN))
    def create_product(self, info: Info[Context, Any], input: CreateProductInput) -> CreateProductPayload:
        row, errors = run_mutation(
            info, "createProduct", input,
            lambda s: service.create_product(
                s, code=input.code, name=input.name, annual_limit=input.annual_limit, deductible=input.deductible,
                copay_rate=input.copay_rate, waiting_period_days=input.waiting_period_days,
                description=input.description, cooling_off_days=input.cooling_off_days,
                term_months=input.term_months,
                coverage_items=[service.CoverageItemSpec(c.code, c.name, c.category, c.sublimit)
                                for c in input.coverage_items],
                premium_bands=[service.PremiumBandSpec(b.min_age, b.max_age, b.annual_premium)
                               for b in input.premium_bands],
            ),
            target=_product_target,
        )
        return CreateProductPayload(product=Product.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Price and underwrite a product for a customer.", metadata=allow(SELF_SERVICE))
    def request_quote(self, info: Info[Context, Any], input: RequestQuoteInput) -> QuotePayload:
        ctx = _ctx(info)

        def work(s: Any) -> m.Quote:
            if len(input.answers) > 20:
                raise ValidationError("at most 20 answers", field="answers")
            return service.create_quote(
                s, principal=ctx.principal,
                customer_id=decode_global_id(input.customer_id, "Customer", field="customerId"),
                product_id=decode_global_id(input.product_id, "Product", field="productId"),
                start_date=input.start_date, today=ctx.today(),
                answers=[DeclarationAnswer(a.question, a.answer, tuple(a.diagnoses)) for a in input.answers],
            )

        # The declaration is medical data: only its digest reaches the audit log.
        row, errors = run_mutation(info, "requestQuote", input, work,
                                   target=_quote_target)
        return QuotePayload(quote=Quote.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Issue a policy from an accepted quote (once).", metadata=allow(SELF_SERVICE))
    def issue_policy(self, info: Info[Context, Any], quote_id: strawberry.ID) -> PolicyPayload:
        ctx = _ctx(info)
        return _policy_payload(info, "issuePolicy", {"quoteId": quote_id}, lambda s: service.issue_policy(
            s, principal=ctx.principal, quote_id=decode_global_id(quote_id, "Quote", field="quoteId"),
            today=ctx.today(), now=ctx.now()))

    @strawberry.mutation(description="Renew into the next period.", metadata=allow(SELF_SERVICE))
    def renew_policy(self, info: Info[Context, Any], input: PolicyChangeInput) -> PolicyPayload:
        ctx = _ctx(info)
        return _policy_payload(info, "renewPolicy", input, lambda s: service.renew_policy(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, today=ctx.today(), now=ctx.now()))

    @strawberry.mutation(description="Surrender: refund of unearned premium less 25% expenses.",
                         metadata=allow(SELF_SERVICE))
    def surrender_policy(self, info: Info[Context, Any], input: PolicyChangeInput) -> PolicyPayload:
        ctx = _ctx(info)
        return _policy_payload(info, "surrenderPolicy", input, lambda s: service.surrender_policy(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, today=ctx.today(), reason=input.reason))

    @strawberry.mutation(description="Cancel within the cooling-off period: full refund.", metadata=allow(SELF_SERVICE))
    def cancel_policy_in_cooling_off(self, info: Info[Context, Any], input: PolicyChangeInput) -> PolicyPayload:
        ctx = _ctx(info)
        return _policy_payload(info, "cancelPolicyInCoolingOff", input, lambda s: service.cancel_in_cooling_off(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, today=ctx.today()))

    @strawberry.mutation(description="Lapse a policy whose premium is unpaid after grace.",
                         metadata=allow(Role.MANAGER, Role.ADMIN))
    def lapse_policy(self, info: Info[Context, Any], input: PolicyChangeInput) -> PolicyPayload:
        ctx = _ctx(info)
        return _policy_payload(info, "lapsePolicy", input, lambda s: service.lapse_policy(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, today=ctx.today(), reason=input.reason))

    @strawberry.mutation(description="Change the policy's contact phone/email.", metadata=allow(SELF_SERVICE))
    def endorse_contact(self, info: Info[Context, Any], input: ContactEndorsementInput) -> EndorsementPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "endorseContact", {"policyId": input.policy_id}, lambda s: service.endorse_contact(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, phone=input.phone, email=input.email, today=ctx.today()))
        return _endorsement_payload(ctx, row, errors)

    @strawberry.mutation(description="Name a new beneficiary.", metadata=allow(SELF_SERVICE))
    def endorse_beneficiary(self, info: Info[Context, Any], input: BeneficiaryEndorsementInput) -> EndorsementPayload:
        ctx = _ctx(info)
        row, errors = run_mutation(info, "endorseBeneficiary", {"policyId": input.policy_id}, lambda s: service.endorse_beneficiary(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, name=input.name, relationship=input.relationship,
            today=ctx.today()))
        return _endorsement_payload(ctx, row, errors)


def _endorsement_payload(ctx: Context, row: m.Endorsement | None, errors: list[UserError]) -> EndorsementPayload:
    if row is None:
        return EndorsementPayload(endorsement=None, policy=None, errors=errors)
    policy = service.get_policy(ctx.session, principal=ctx.principal, policy_id=row.policy_id)
    return EndorsementPayload(endorsement=Endorsement.from_row(row), policy=Policy.from_row(policy), errors=errors)


@strawberry.type(description="Something happened to a policy.")
@access(POLICY_READERS)
class PolicyEvent:
    kind: str
    policy_id: strawberry.ID


@strawberry.type
class PoliciesSubscription:
    @strawberry.subscription(description="Live policy events; customers see only their own.",
                             metadata=allow(POLICY_READERS))
    async def policy_events(
        self, info: Info[Context, Any], policy_id: strawberry.ID | None = None
    ) -> AsyncGenerator[PolicyEvent, None]:
        ctx = _ctx(info)
        only = decode_global_id(policy_id, "Policy", field="policyId") if policy_id else None
        async for ev in broker.subscribe("policy"):
            payload = ev.payload
            if ctx.principal.role is Role.CUSTOMER and payload.get("customerId") != ctx.principal.customer_id:
                continue
            if only is not None and payload.get("policyId") != only:
                continue
            yield PolicyEvent(kind=str(payload["kind"]), policy_id=strawberry.ID(encode_global_id("Policy", payload["policyId"])))

