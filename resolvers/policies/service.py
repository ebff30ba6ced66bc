"""Policy services: plain functions over a Session; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from core.auth import Principal
from core.clock import business_date
from core.crypto import blind_index
from core.errors import (
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
)
from core.events import emit
from core.pagination import Page, keyset_page
from resolvers.policies.models import (
    CoverageItem,
    Customer,
    Endorsement,
    EndorsementKind,
    Gender,
    Policy,
    PolicyStatus,
    PremiumBand,
    Product,
    Quote,
    QuoteStatus,
    UnderwritingOutcome,
)
from resolvers.policies.scoping import customer_visible, policy_visible
from resolvers.policies.underwriting import SMOKER_LOADING, DeclarationAnswer, underwrite

__all__ = [
    "CoverageItemSpec",
    "Page",
    "PolicyStatus",
    "PremiumBandSpec",
    "age_on",
    "cancel_in_cooling_off",
    "covered_on",
    "create_customer",
    "create_product",
    "create_quote",
    "customer_id_number",
    "endorse_beneficiary",
    "endorse_contact",
    "expire_due_policies",
    "get_customer",
    "get_policy",
    "get_product",
    "issue_policy",
    "lapse_policy",
    "list_customers",
    "list_policies",
    "list_products",
    "normalise_phone",
    "policy_by_number",
    "renew_policy",
    "surrender_policy",
]

T = TypeVar("T")
CENT = Decimal("0.01")
QUOTE_VALIDITY_DAYS = 30
SURRENDER_EXPENSE_RATE = Decimal("0.25")  # share of unearned premium kept on surrender
RENEWAL_WINDOW_DAYS = 60  # renew from 60 days before the end until 60 days after it
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def normalise_phone(raw: str, *, field: str = "phone") -> str:
    """E.164 form of a phone number (mainland China assumed without a country code)."""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"not a phone number: {exc}", field=field, code="BAD_PHONE") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("phone number is not valid", field=field, code="BAD_PHONE")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_email(raw: str | None, *, field: str = "email") -> str | None:
    if raw is None or raw == "":
        return None
    email = raw.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationError("not an email address", field=field, code="BAD_EMAIL")
    return email


def _check_version(row: Policy | Customer | Product | Quote, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise StaleVersionError(
            f"{type(row).__name__.lower()} changed: version {row.version}, you sent {expected}",
            field="expectedVersion",
        )


# --- customers -----------------------------------------------------------------------------


def create_customer(
    session: Session,
    *,
    name: str,
    id_number: str,
    phone: str,
    email: str | None = None,
    city: str | None = None,
) -> Customer:
    """Register a customer; birth date and gender come from the resident ID number."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("name must have 1 to 100 characters", field="name")
    try:
        id_clean = ric.validate(id_number)
        birth = ric.get_birth_date(id_clean)
    except StdnumError as exc:
        raise ValidationError(
            f"not a valid resident ID number: {exc}", field="idNumber", code="BAD_ID_NUMBER"
        ) from exc
    gender = Gender.MALE if int(id_clean[16]) % 2 else Gender.FEMALE
    bidx = blind_index(id_clean, "customer.id_number")
    if session.scalar(select(Customer.id).where(Customer.id_number_bidx == bidx)) is not None:
        raise ConflictError("a customer with this ID number exists", field="idNumber", code="DUPLICATE")
    customer = Customer(
        name=name,
        id_number=id_clean,
        id_number_bidx=bidx,
        phone=normalise_phone(phone),
        email=_check_email(email),
        birth_date=birth.isoformat(),
        birth_year=birth.year,
        gender=gender,
        city=(city or None),
    )
    session.add(customer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            "a customer with this ID number exists", field="idNumber", code="DUPLICATE"
        ) from exc
    return customer


def get_customer(session: Session, *, principal: Principal, customer_id: int) -> Customer:
    """A customer visible to ``principal``, else NotFoundError."""
    row = session.scalar(select(Customer).where(Customer.id == customer_id, customer_visible(principal)))
    if row is None:
        raise NotFoundError("customer not found", field="id")
    return row


def customer_id_number(session: Session, *, customer_id: int) -> str | None:
    """A customer's resident ID number (for the system's own checks; callers apply visibility)."""
    return session.scalar(select(Customer.id_number).where(Customer.id == customer_id))


def find_customer_by_id_number(session: Session, *, id_number: str) -> Customer | None:
    """Look a customer up by resident ID number through its blind index."""
    return session.scalar(
        select(Customer).where(
            Customer.id_number_bidx == blind_index(id_number.upper(), "customer.id_number")
        )
    )


def list_customers(
    session: Session, *, principal: Principal, first: int, after: str | None = None
) -> Page[Customer]:
    """Customers visible to ``principal``, oldest first."""
    stmt = select(Customer).where(customer_visible(principal))
    return keyset_page(session, stmt, Customer.id, first=first, after=after)


# --- products ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageItemSpec:
    """Input for one coverage item."""

    code: str
    name: str
    category: str
    sublimit: Decimal | None = None


@dataclass(frozen=True)
class PremiumBandSpec:
    """Input for one premium band."""

    min_age: int
    max_age: int
    annual_premium: Decimal


def create_product(
    session: Session,
    *,
    code: str,
    name: str,
    annual_limit: Decimal,
    deductible: Decimal,
    copay_rate: Decimal,
    waiting_period_days: int,
    coverage_items: Sequence[CoverageItemSpec],
    premium_bands: Sequence[PremiumBandSpec],
    description: str = "",
    cooling_off_days: int = 15,
    term_months: int = 12,
) -> Product:
    """Define a product; premium bands must tile its age range without gaps or overlaps."""
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{1,39}", code):
        raise ValidationError("code: 2-40 of A-Z, 0-9, _ and -", field="code")
    if annual_limit <= 0:
        raise ValidationError("annual limit must be positive", field="annualLimit")
    if deductible < 0 or deductible >= annual_limit:
        raise ValidationError("deductible must be >= 0 and below the annual limit", field="deductible")
    if not Decimal(0) <= copay_rate < 1:
        raise ValidationError("co-pay rate must be in [0, 1)", field="copayRate")
    if not 0 <= waiting_period_days <= 365:
        raise ValidationError("waiting period must be 0..365 days", field="waitingPeriodDays")
    if not 0 <= cooling_off_days <= 60:
        raise ValidationError("cooling-off period must be 0..60 days", field="coolingOffDays")
    if term_months not in (1, 3, 6, 12):
        raise ValidationError("term must be 1, 3, 6 or 12 months", field="termMonths")
    if not coverage_items:
        raise ValidationError("a product covers at least one item", field="coverageItems")
    codes = [c.code for c in coverage_items]
    if len(set(codes)) != len(codes):
        raise ValidationError("coverage item codes repeat", field="coverageItems")
    bands = sorted(premium_bands, key=lambda b: b.min_age)
    if not bands:
        raise ValidationError("a product needs premium bands", field="premiumBands")
    for prev, nxt in itertools.pairwise(bands):
        if nxt.min_age != prev.max_age + 1:
            raise ValidationError("premium bands must be contiguous", field="premiumBands")
    for band in bands:
        if band.min_age > band.max_age or band.annual_premium <= 0 or band.min_age < 0:
            raise ValidationError("each band needs min <= max and a positive premium", field="premiumBands")
    if session.scalar(select(Product.id).where(Product.code == code)) is not None:
        raise ConflictError(f"product {code} exists", field="code", code="DUPLICATE")
    product = Product(
        code=code,
        name=name.strip(),
        description=description,
        annual_limit=_money(annual_limit),
        deductible=_money(deductible),
        copay_rate=copay_rate,
        waiting_period_days=waiting_period_days,
        cooling_off_days=cooling_off_days,
        term_months=term_months,
        min_age=bands[0].min_age,
        max_age=bands[-1].max_age,
    )
    session.add(product)
    session.flush()
    session.add_all(
        CoverageItem(
            product_id=product.id,
            code=c.code,
            name=c.name,
            category=c.category,
            sublimit=None if c.sublimit is None else _money(c.sublimit),
        )
        for c in coverage_items
    )
    session.add_all(
        PremiumBand(
            product_id=product.id,
            min_age=b.min_age,
            max_age=b.max_age,
            annual_premium=_money(b.annual_premium),
        )
        for b in bands
    )
    session.flush()
    return product


def get_product(session: Session, *, product_id: int) -> Product:
    """A product by id, else NotFoundError."""
    row = session.get(Product, product_id)
    if row is None:
        raise NotFoundError("product not found", field="productId")
    return row


def list_products(session: Session, *, active_only: bool = True) -> list[Product]:
    """Products on sale (or all), by code."""
    stmt = select(Product).order_by(Product.code)
    if active_only:
        stmt = stmt.where(Product.active.is_(True))
    return list(session.scalars(stmt))


def premium_for(session: Session, *, product: Product, age: int, smoker: bool) -> Decimal:
    """Annual premium for an insured age, with the smoker loading, pro-rated to the term."""
    band = session.scalar(
        select(PremiumBand).where(
            PremiumBand.product_id == product.id, PremiumBand.min_age <= age, PremiumBand.max_age >= age
        )
    )
    if band is None:
        raise ValidationError(
            f"age {age} is outside the product's ages {product.min_age}-{product.max_age}",
            field="customerId",
            code="AGE_OUT_OF_RANGE",
        )
    premium = band.annual_premium * Decimal(product.term_months) / Decimal(12)
    if smoker:
        premium *= Decimal(SMOKER_LOADING)
    return _money(premium)


# --- quotes and issuing ----------------------------------------------------------------------


def create_quote(
    session: Session,
    *,
    principal: Principal,
    customer_id: int,
    product_id: int,
    start_date: dt.date,
    answers: list[DeclarationAnswer],
    today: dt.date,
) -> Quote:
    """Price a product for a customer and underwrite their health declaration."""
    customer = get_customer(session, principal=principal, customer_id=customer_id)
    product = get_product(session, product_id=product_id)
    if not product.active:
        raise ValidationError("product is not on sale", field="productId", code="NOT_ON_SALE")
    if start_date < today or start_date > today + dt.timedelta(days=90):
        raise ValidationError("start date must be within the next 90 days", field="startDate")
    decision = underwrite(answers)
    age = age_on(dt.date.fromisoformat(customer.birth_date), start_date)
    premium = premium_for(session, product=product, age=age, smoker=decision.smoker)
    quote = Quote(
        customer_id=customer.id,
        product_id=product.id,
        start_date=start_date,
        insured_age=age,
        premium=premium,
        status=QuoteStatus.DECLINED if decision.outcome is UnderwritingOutcome.DECLINE else QuoteStatus.OPEN,
        valid_until=today + dt.timedelta(days=QUOTE_VALIDITY_DAYS),
        declaration=json.dumps([{"q": a.question, "a": a.answer, "dx": list(a.diagnoses)} for a in answers]),
        outcome=decision.outcome,
        exclusions=decision.exclusions,
        reasons=decision.reasons,
    )
    session.add(quote)
    session.flush()
    return quote


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _policy_number(start: dt.date) -> str:
    return f"OPS{start:%Y}{secrets.token_hex(5).upper()}"


def issue_policy(
    session: Session, *, principal: Principal, quote_id: int, today: dt.date, now: dt.datetime
) -> Policy:
    """Bind an open, accepted quote into a policy (once: a bound quote cannot issue again)."""
    quote = session.get(Quote, quote_id)
    if quote is None:
        raise NotFoundError("quote not found", field="quoteId")
    get_customer(session, principal=principal, customer_id=quote.customer_id)
    if quote.status is QuoteStatus.BOUND:
        raise ConflictError("quote already issued a policy", field="quoteId", code="ALREADY_BOUND")
    if quote.status is QuoteStatus.DECLINED:
        raise InvalidTransitionError("underwriting declined this quote", field="quoteId")
    if quote.valid_until < today:
        raise InvalidTransitionError("quote expired", field="quoteId", code="QUOTE_EXPIRED")
    product = get_product(session, product_id=quote.product_id)
    start = max(quote.start_date, today)
    quote.status = QuoteStatus.BOUND
    policy = Policy(
        number=_policy_number(start),
        customer_id=quote.customer_id,
        product_id=quote.product_id,
        quote_id=quote.id,
        status=PolicyStatus.ACTIVE,
        period_start=start,
        period_end=_add_months(start, product.term_months) - dt.timedelta(days=1),
        issued_at=now,
        premium=quote.premium,
        insured_age=quote.insured_age,
        exclusions=list(quote.exclusions),
    )
    session.add(policy)
    session.flush()
    emit(session, "policy", {"policyId": policy.id, "kind": "issued", "customerId": policy.customer_id})
    return policy


def get_policy(session: Session, *, principal: Principal, policy_id: int) -> Policy:
    """A policy visible to ``principal``, else NotFoundError (never 'forbidden': no leaks)."""
    row = session.scalar(select(Policy).where(Policy.id == policy_id, policy_visible(principal)))
    if row is None:
        raise NotFoundError("policy not found", field="policyId")
    return row


def policy_by_number(session: Session, *, number: str) -> Policy | None:
    """The policy with ``number``, if any (for the system's own checks; callers apply visibility)."""
    return session.scalar(select(Policy).where(Policy.number == number))


def covered_on(policy: Policy, day: dt.date) -> bool:
    """Whether ``policy`` covered ``day``: within its period, up to the day before an early end; never if cancelled."""
    if policy.status is PolicyStatus.CANCELLED:
        return False
    last = policy.period_end
    if policy.ended_on is not None and policy.status is not PolicyStatus.EXPIRED:
        last = min(last, policy.ended_on - dt.timedelta(days=1))
    return policy.period_start <= day <= last


def _policy_for_change(
    session: Session, *, principal: Principal, policy_id: int, expected_version: int | None
) -> Policy:
    policy = get_policy(session, principal=principal, policy_id=policy_id)
    _check_version(policy, expected_version)
    return policy


def _active_policy_for_change(
    session: Session, *, principal: Principal, policy_id: int, expected_version: int | None
) -> Policy:
    policy = _policy_for_change(session, principal=principal, policy_id=policy_id, expected_version=expected_version)
    if policy.status is not PolicyStatus.ACTIVE:
        raise InvalidTransitionError(f"policy is {policy.status.value}", field="policyId")
    return policy


def _end(
    session: Session, policy: Policy, status: PolicyStatus, *, on: dt.date, reason: str, refund: Decimal, kind: str
) -> Policy:
    policy.status = status
    policy.ended_on = on
    policy.end_reason = reason
    policy.refund = _money(refund)
    session.flush()
    emit(session, "policy", {"policyId": policy.id, "kind": kind, "customerId": policy.customer_id})
    return policy


def cancel_in_cooling_off(
    session: Session,
    *,
    principal: Principal,
    policy_id: int,
    expected_version: int | None,
    today: dt.date,
) -> Policy:
    """Cancel within the cooling-off period: void from the start, full premium refunded."""
    policy = _active_policy_for_change(
        session, principal=principal, policy_id=policy_id, expected_version=expected_version
    )
    product = get_product(session, product_id=policy.product_id)
    last_day = business_date(policy.issued_at) + dt.timedelta(days=product.cooling_off_days)
    if today > last_day:
        raise InvalidTransitionError(
            f"cooling-off period ended on {last_day.isoformat()}", field="policyId", code="COOLING_OFF_OVER"
        )
    return _end(session, policy, PolicyStatus.CANCELLED, on=policy.period_start,
                reason="cooling-off cancellation", refund=policy.premium, kind="cancelled")


def surrender_policy(
    session: Session,
    *,
    principal: Principal,
    policy_id: int,
    expected_version: int | None,
    today: dt.date,
    reason: str,
) -> Policy:
    """Surrender an active policy: the unearned premium less expenses is refunded."""
    policy = _active_policy_for_change(
        session, principal=principal, policy_id=policy_id, expected_version=expected_version
    )
    if today > policy.period_end:
        raise InvalidTransitionError("policy period is over", field="policyId")
    total = (policy.period_end - policy.period_start).days + 1
    remaining = max((policy.period_end - max(today, policy.period_start)).days, 0)
    unearned = policy.premium * Decimal(remaining) / Decimal(total)
    return _end(session, policy, PolicyStatus.SURRENDERED, on=today, reason=reason.strip() or "surrender",
                refund=unearned * (1 - SURRENDER_EXPENSE_RATE), kind="surrendered")


def lapse_policy(
    session: Session,
    *,
    principal: Principal,
    policy_id: int,
    expected_version: int | None,
    today: dt.date,
    reason: str,
) -> Policy:
    """Lapse an active policy (premium unpaid after grace); no refund."""
    policy = _active_policy_for_change(
        session, principal=principal, policy_id=policy_id, expected_version=expected_version
    )
    return _end(session, policy, PolicyStatus.LAPSED, on=today, reason=reason.strip() or "premium unpaid",
                refund=Decimal(0), kind="lapsed")


def renew_policy(
    session: Session,
    *,
    principal: Principal,
    policy_id: int,
    expected_version: int | None,
    today: dt.date,
    now: dt.datetime,
) -> Policy:
    """Renew into a new period at the insured's new age; once per policy."""
    policy = _policy_for_change(
        session, principal=principal, policy_id=policy_id, expected_version=expected_version
    )
    if policy.status not in (PolicyStatus.ACTIVE, PolicyStatus.EXPIRED):
        raise InvalidTransitionError(f"a {policy.status.value} policy cannot renew", field="policyId")
    if not (
        policy.period_end - dt.timedelta(days=RENEWAL_WINDOW_DAYS)
        <= today
        <= policy.period_end + dt.timedelta(days=RENEWAL_WINDOW_DAYS)
    ):
        raise InvalidTransitionError("outside the renewal window", field="policyId", code="NOT_RENEWABLE_NOW")
    if session.scalar(select(Policy.id).where(Policy.renewed_from_id == policy.id)) is not None:
        raise ConflictError("policy already renewed", field="policyId", code="ALREADY_RENEWED")
    product = get_product(session, product_id=policy.product_id)
    if not product.active:
        raise InvalidTransitionError("product no longer renews", field="policyId", code="NOT_ON_SALE")
    customer = session.get_one(Customer, policy.customer_id)
    start = max(policy.period_end + dt.timedelta(days=1), today)
    age = age_on(dt.date.fromisoformat(customer.birth_date), start)
    smoker_loaded = policy.quote_id is not None and _quote_was_smoker(session, policy.quote_id)
    renewed = Policy(
        number=_policy_number(start),
        customer_id=policy.customer_id,
        product_id=policy.product_id,
        quote_id=policy.quote_id,
        renewed_from_id=policy.id,
        status=PolicyStatus.ACTIVE,
        period_start=start,
        period_end=_add_months(start, product.term_months) - dt.timedelta(days=1),
        issued_at=now,
        premium=premium_for(session, product=product, age=age, smoker=smoker_loaded),
        insured_age=age,
        exclusions=list(policy.exclusions),
        contact_phone=policy.contact_phone,
        contact_email=policy.contact_email,
        beneficiary_name=policy.beneficiary_name,
        beneficiary_relationship=policy.beneficiary_relationship,
    )
    session.add(renewed)
    try:
        with session.begin_nested():  # renewed_from_id is unique: a racing renewal loses here
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("policy already renewed", field="policyId", code="ALREADY_RENEWED") from exc
    emit(session, "policy", {"policyId": renewed.id, "kind": "renewed", "customerId": renewed.customer_id})
    return renewed


def _quote_was_smoker(session: Session, quote_id: int) -> bool:
    quote = session.get(Quote, quote_id)
    if quote is None:
        return False
    return any(a["q"] == "smoker" and a["a"] for a in json.loads(quote.declaration))


def expire_due_policies(session: Session, *, today: dt.date, limit: int = 1000) -> int:
    """Mark active policies whose period ended before ``today`` as expired; returns the count."""
    rows = session.scalars(
        select(Policy).where(Policy.status == PolicyStatus.ACTIVE, Policy.period_end < today).limit(limit)
    ).all()
    for policy in rows:
        policy.status = PolicyStatus.EXPIRED
        policy.ended_on = policy.period_end
        policy.end_reason = "period ended"
        emit(session, "policy", {"policyId": policy.id, "kind": "expired", "customerId": policy.customer_id})
    session.flush()
    return len(rows)


# --- endorsements ----------------------------------------------------------------------------


def endorse_contact(
    session: Session,
    *,
    principal: Principal,
    policy_id: int,
    expected_version: int | None,
    phone: str | None,
    email: str | None,
    today: dt.date,
) -> Endorsement:
    """Change the policy's contact phone and/or email."""
    policy = _active_policy_for_change(
        session, principal=principal, policy_id=policy_id, expected_version=expected_version
    )
    if not phone and not email:
        raise ValidationError("give a phone, an email or both", field="phone")
    changes: dict[str, str] = {}
    if phone:
        policy.contact_phone = changes["phone"] = normalise_phone(phone)
    if email:
        policy.contact_email = changes["email"] = _check_email(email) or ""
    return _record_endorsement(session, policy, EndorsementKind.CONTACT, changes, principal, today)


RELATIONSHIPS = ("spouse", "child", "parent", "sibling", "legal_heir", "other")


def endorse_beneficiary(
    session: Session,
    *,
    principal: Principal,
    policy_id: int,
    expected_version: int | None,
    name: str,
    relationship: str,
    today: dt.date,
) -> Endorsement:
    """Name a new beneficiary."""
    policy = _active_policy_for_change(
        session, principal=principal, policy_id=policy_id, expected_version=expected_version
    )
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("name must have 1 to 100 characters", field="name")
    if relationship not in RELATIONSHIPS:
        raise ValidationError(f"relationship must be one of {', '.join(RELATIONSHIPS)}", field="relationship")
    policy.beneficiary_name = name
    policy.beneficiary_relationship = relationship
    return _record_endorsement(
        session,
        policy,
        EndorsementKind.BENEFICIARY,
        {"name": name, "relationship": relationship},
        principal,
        today,
    )


def _record_endorsement(
    session: Session,
    policy: Policy,
    kind: EndorsementKind,
    changes: dict[str, str],
    principal: Principal,
    today: dt.date,
) -> Endorsement:
    row = Endorsement(
        policy_id=policy.id,
        kind=kind,
        changes=json.dumps(changes, ensure_ascii=False),
        effective_on=today,
        requested_by=principal.subject,
    )
    session.add(row)
    session.flush()
    emit(
        session,
        "policy",
        {"policyId": policy.id, "kind": f"endorsed_{kind.value}", "customerId": policy.customer_id},
    )
    return row


# --- lists -----------------------------------------------------------------------------------


def list_policies(
    session: Session,
    *,
    principal: Principal,
    first: int,
    after: str | None = None,
    status: PolicyStatus | None = None,
    customer_id: int | None = None,
) -> Page[Policy]:
    """Policies visible to ``principal``, oldest id first (relations: see the loaders)."""
    stmt = select(Policy).where(policy_visible(principal))
    if status is not None:
        stmt = stmt.where(Policy.status == status)
    if customer_id is not None:
        stmt = stmt.where(Policy.customer_id == customer_id)
    return keyset_page(session, stmt, Policy.id, first=first, after=after)


def count_policies(session: Session, *, principal: Principal, status: PolicyStatus | None = None) -> int:
    """How many policies ``principal`` may see (optionally of one status)."""
    stmt = select(func.count()).select_from(Policy).where(policy_visible(principal))
    if status is not None:
        stmt = stmt.where(Policy.status == status)
    return int(session.scalar(stmt) or 0)
