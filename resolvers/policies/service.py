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
from typing import Any, TypeVar

import phonenumbers
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from core.auth import Principal
from core.clock import business_date
from core.crypto import blind_index
from core.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from core.pagination import KeyColumn, Page, PageRequest, keyset_page
from resolvers.policies import events
from resolvers.policies.models import (
    BeneficiaryRelationship,
    CoverageItem,
    Customer,
    Endorsement,
    EndorsementField,
    EndorsementKind,
    Gender,
    Policy,
    PolicyEventKind,
    PolicyStatus,
    PremiumBand,
    Product,
    Quote,
    QuoteStatus,
    UnderwritingOutcome,
)
from resolvers.policies.scoping import customer_visible, policy_visible
from resolvers.policies.underwriting import (
    SMOKER_LOADING,
    DeclarationAnswer,
    UnderwritingReason,
    declaration_errors,
    refer_on_shared_risk,
    shared_flag_levels,
    underwrite,
)

__all__ = [
    "CoverageItemSpec",
    "Page",
    "PolicyStatus",
    "PremiumBandSpec",
    "age_on",
    "cancel_in_cooling_off",
    "changed_fields",
    "count_customers",
    "count_policies",
    "count_products",
    "covered_on",
    "create_customer",
    "create_product",
    "create_quote",
    "customer_id_number",
    "decide_referred_quote",
    "endorse_beneficiary",
    "endorse_contact",
    "expire_due_policies",
    "get_customer",
    "get_endorsement",
    "get_policy",
    "get_product",
    "get_quote",
    "issue_policy",
    "lapse_policy",
    "list_customers",
    "list_policies",
    "list_products",
    "normalise_phone",
    "policy_by_number",
    "product_by_code",
    "product_ids_of_customer",
    "quote_input_errors",
    "renew_policy",
    "surrender_policy",
]

T = TypeVar("T")
CENT = Decimal("0.01")
QUOTE_VALIDITY_DAYS = 30
QUOTE_START_WINDOW_DAYS = 90  # a quote starts today or within this many days
MAX_ANSWERS = 20  # a declaration longer than this is refused before it is read
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
    """Register a customer; birth date and gender come from the resident ID number.

    Every input error is reported at once (``DomainErrors``); nothing is written then.
    """
    name = name.strip()
    with collect_errors() as errors:
        if not 1 <= len(name) <= 100:
            errors.add(ValidationError("name must have 1 to 100 characters", field="name"))
        try:
            id_clean = ric.validate(id_number)
            birth = ric.get_birth_date(id_clean)
        except (StdnumError, KeyError) as exc:  # python-stdnum 2.2 raises KeyError for a few region codes
            why = "its region code is unknown" if isinstance(exc, KeyError) else str(exc)
            errors.add(ValidationError(f"not a valid resident ID number: {why}", field="idNumber",
                                       code="BAD_ID_NUMBER"))
        with errors.check():
            phone_e164 = normalise_phone(phone)
        with errors.check():
            email_checked = _check_email(email)
        if not errors:
            bidx = blind_index(id_clean, "customer.id_number")
            if session.scalar(select(Customer.id).where(Customer.id_number_bidx == bidx)) is not None:
                errors.add(ConflictError("a customer with this ID number exists", field="idNumber",
                                         code="DUPLICATE"))
    gender = Gender.MALE if int(id_clean[16]) % 2 else Gender.FEMALE
    customer = Customer(
        name=name,
        id_number=id_clean,
        id_number_bidx=bidx,
        phone=phone_e164,
        email=email_checked,
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


def list_customers(session: Session, *, principal: Principal, page: PageRequest) -> Page[Customer]:
    """A page of the customers visible to ``principal``, oldest first."""
    stmt = select(Customer).where(customer_visible(principal))
    return keyset_page(session, stmt, Customer.id, request=page)


def count_customers(session: Session, *, principal: Principal) -> int:
    """How many customers ``principal`` may see."""
    return int(session.scalar(select(func.count()).select_from(Customer).where(customer_visible(principal))) or 0)


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
    """Define a product; premium bands must tile its age range without gaps or overlaps.

    Every input error is reported at once (``DomainErrors``); nothing is written then.
    """
    with collect_errors() as errors:
        for error in _product_errors(code=code, name=name, annual_limit=annual_limit, deductible=deductible,
                                     copay_rate=copay_rate, waiting_period_days=waiting_period_days,
                                     cooling_off_days=cooling_off_days, term_months=term_months,
                                     coverage_items=coverage_items, premium_bands=premium_bands):
            errors.add(error)
        if not errors and session.scalar(select(Product.id).where(Product.code == code)) is not None:
            errors.add(ConflictError(f"product {code} exists", field="code", code="DUPLICATE"))
    bands = sorted(premium_bands, key=lambda b: b.min_age)
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


def _product_errors(
    *,
    code: str,
    name: str,
    annual_limit: Decimal,
    deductible: Decimal,
    copay_rate: Decimal,
    waiting_period_days: int,
    cooling_off_days: int,
    term_months: int,
    coverage_items: Sequence[CoverageItemSpec],
    premium_bands: Sequence[PremiumBandSpec],
) -> list[DomainError]:
    """Every rule a new product's input breaks (empty when it is valid)."""
    checks: list[tuple[bool, str, str]] = [  # (broken, field, message)
        (not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{1,39}", code), "code", "code: 2-40 of A-Z, 0-9, _ and -"),
        (not 1 <= len(name.strip()) <= 200, "name", "name must have 1 to 200 characters"),
        (annual_limit <= 0, "annualLimit", "annual limit must be positive"),
        (deductible < 0 or deductible >= annual_limit, "deductible",
         "deductible must be >= 0 and below the annual limit"),
        (not Decimal(0) <= copay_rate < 1, "copayRate", "co-pay rate must be in [0, 1)"),
        (not 0 <= waiting_period_days <= 365, "waitingPeriodDays", "waiting period must be 0..365 days"),
        (not 0 <= cooling_off_days <= 60, "coolingOffDays", "cooling-off period must be 0..60 days"),
        (term_months not in (1, 3, 6, 12), "termMonths", "term must be 1, 3, 6 or 12 months"),
        (not coverage_items, "coverageItems", "a product covers at least one item"),
        (not premium_bands, "premiumBands", "a product needs premium bands"),
    ]
    errors: list[DomainError] = [ValidationError(message, field=field) for broken, field, message in checks if broken]
    seen: set[str] = set()
    for i, item in enumerate(coverage_items):
        at = f"coverageItems[{i}]"
        if not 1 <= len(item.code) <= 40:
            errors.append(ValidationError("code must have 1 to 40 characters", field=f"{at}.code"))
        elif item.code in seen:
            errors.append(ValidationError(f"coverage item code {item.code} repeats", field=f"{at}.code",
                                          code="DUPLICATE"))
        seen.add(item.code)
        if not 1 <= len(item.name) <= 200:
            errors.append(ValidationError("name must have 1 to 200 characters", field=f"{at}.name"))
        if not 1 <= len(item.category) <= 40:
            errors.append(ValidationError("category must have 1 to 40 characters", field=f"{at}.category"))
        if item.sublimit is not None and item.sublimit <= 0:
            errors.append(ValidationError("a sublimit must be positive", field=f"{at}.sublimit"))
    for i, band in enumerate(premium_bands):
        if band.min_age < 0 or band.min_age > band.max_age:
            errors.append(ValidationError("a band needs 0 <= minAge <= maxAge", field=f"premiumBands[{i}].minAge"))
        if band.annual_premium <= 0:
            errors.append(ValidationError("a band's premium must be positive", field=f"premiumBands[{i}].annualPremium"))
    bands = sorted(premium_bands, key=lambda b: b.min_age)
    if any(nxt.min_age != prev.max_age + 1 for prev, nxt in itertools.pairwise(bands)):
        errors.append(ValidationError("premium bands must be contiguous, without gaps or overlaps",
                                      field="premiumBands", code="BANDS_NOT_CONTIGUOUS"))
    return errors


def get_product(session: Session, *, product_id: int) -> Product:
    """A product by id, else NotFoundError."""
    row = session.get(Product, product_id)
    if row is None:
        raise NotFoundError("product not found", field="productId")
    return row


def _products(active_only: bool) -> Select[Any]:
    stmt = select(Product)
    return stmt.where(Product.active.is_(True)) if active_only else stmt


def list_products(session: Session, *, page: PageRequest, active_only: bool = True) -> Page[Product]:
    """A page of the products on sale (or all), by code (codes are unique)."""
    return keyset_page(session, _products(active_only), [KeyColumn(Product.code)], request=page)


def count_products(session: Session, *, active_only: bool = True) -> int:
    """How many products are on sale (or exist)."""
    return int(session.scalar(select(func.count()).select_from(_products(active_only).subquery())) or 0)


def premium_for(session: Session, *, product: Product, age: int, smoker: bool) -> Decimal:
    """Annual premium for an insured age, with the smoker loading, pro-rated to the term."""
    return _premium(_premium_band(session, product=product, age=age).annual_premium, product=product, smoker=smoker)


def _premium_band(session: Session, *, product: Product, age: int) -> PremiumBand:
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
    return band


def _premium(annual: Decimal, *, product: Product, smoker: bool) -> Decimal:
    premium = annual * Decimal(product.term_months) / Decimal(12)
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
    consortium: Any = None,
) -> Quote:
    """Price a product for a customer and underwrite their health declaration.

    ``consortium`` (a ``partners.risk.ConsortiumKey``): consult the risk flags partners shared
    on the customer; one at a referring level sends the quote to manual underwriting.

    Every input error is reported at once (``DomainErrors``): the customer and product named,
    the start date and each answer of the declaration.
    """
    customer: Customer | None = None
    product: Product | None = None
    with collect_errors() as errors:
        with errors.check():
            customer = get_customer(session, principal=principal, customer_id=customer_id)
        with errors.check():
            product = get_product(session, product_id=product_id)
            if not product.active:
                errors.add(ValidationError("product is not on sale", field="productId", code="NOT_ON_SALE"))
        for error in quote_input_errors(start_date=start_date, today=today, answers=answers):
            errors.add(error)
        if customer is not None and product is not None:
            age = age_on(dt.date.fromisoformat(customer.birth_date), start_date)
            with errors.check():
                band = _premium_band(session, product=product, age=age)
    assert customer is not None and product is not None
    decision = refer_on_shared_risk(underwrite(answers), shared_flag_levels(
        session, id_number=customer.id_number, consortium=consortium))
    premium = _premium(band.annual_premium, product=product, smoker=decision.smoker)
    quote = Quote(
        customer_id=customer.id,
        product_id=product.id,
        start_date=start_date,
        insured_age=age,
        premium=premium,
        status=_QUOTE_STATUS.get(decision.outcome, QuoteStatus.OPEN),
        valid_until=today + dt.timedelta(days=QUOTE_VALIDITY_DAYS),
        declaration=json.dumps([{"q": a.question, "a": a.answer, "dx": list(a.diagnoses)} for a in answers]),
        outcome=decision.outcome,
        exclusions=decision.exclusions,
        reasons=[r.value for r in decision.reasons],
    )
    session.add(quote)
    session.flush()
    events.quoted(session, quote, actor=principal)
    return quote


_QUOTE_STATUS = {UnderwritingOutcome.DECLINE: QuoteStatus.DECLINED, UnderwritingOutcome.REFER: QuoteStatus.REFERRED}


def get_quote(session: Session, *, principal: Principal, quote_id: int) -> Quote:
    """A quote for a customer visible to ``principal``, else NotFoundError."""
    row = session.scalar(
        select(Quote).join(Customer, Customer.id == Quote.customer_id)
        .where(Quote.id == quote_id, customer_visible(principal))
    )
    if row is None:
        raise NotFoundError("quote not found", field="id")
    return row


def quote_input_errors(*, start_date: dt.date, today: dt.date,
                       answers: Sequence[DeclarationAnswer]) -> list[DomainError]:
    """Every error of a quote request's own input (start date, declaration), without reading anything."""
    errors: list[DomainError] = []
    if start_date < today or start_date > today + dt.timedelta(days=QUOTE_START_WINDOW_DAYS):
        errors.append(ValidationError(f"start date must be within the next {QUOTE_START_WINDOW_DAYS} days",
                                      field="startDate", code="BAD_START_DATE"))
    if len(answers) > MAX_ANSWERS:
        errors.append(ValidationError(f"at most {MAX_ANSWERS} answers", field="answers", code="TOO_MANY_ANSWERS"))
    else:
        errors += declaration_errors(answers)
    return errors


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


def decide_referred_quote(session: Session, *, principal: Principal, quote_id: int, accept: bool,
                          today: dt.date) -> Quote:
    """An underwriter's decision on a quote referred to manual underwriting: open it to issue, or decline it.

    The declaration's own reasons stay; the referral's reason gives way to the decision's. Callers
    check the role (``core.roles.MANAGERS``: managers and admins underwrite by hand); a quote decided already, or never referred, is refused.
    """
    quote = session.scalar(select(Quote).where(Quote.id == quote_id).with_for_update())
    if quote is None:
        raise NotFoundError("quote not found", field="quoteId")
    if quote.status is not QuoteStatus.REFERRED:
        raise InvalidTransitionError("the quote is not waiting for manual underwriting", field="quoteId",
                                     code="NOT_REFERRED")
    if quote.valid_until < today:
        raise InvalidTransitionError("quote expired", field="quoteId", code="QUOTE_EXPIRED")
    kept = [r for r in quote.reasons if r != UnderwritingReason.REFERRED_FOR_REVIEW.value]
    if accept:
        quote.status = QuoteStatus.OPEN
        quote.outcome = (UnderwritingOutcome.ACCEPT_WITH_EXCLUSIONS if quote.exclusions
                         else UnderwritingOutcome.ACCEPT)
        quote.reasons = [*kept, UnderwritingReason.ACCEPTED_AFTER_REVIEW.value]
    else:
        quote.status = QuoteStatus.DECLINED
        quote.outcome = UnderwritingOutcome.DECLINE
        quote.reasons = [*kept, UnderwritingReason.DECLINED_AFTER_REVIEW.value]
    session.flush()
    events.quote_decided(session, quote, accepted=accept, actor=principal)
    return quote


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
        raise InvalidTransitionError("underwriting declined this quote", field="quoteId", code="QUOTE_DECLINED")
    if quote.status is QuoteStatus.REFERRED:
        raise InvalidTransitionError("the quote waits for manual underwriting", field="quoteId",
                                     code="QUOTE_REFERRED")
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
    events.issued(session, policy, actor=principal)
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
        raise InvalidTransitionError(f"policy is {policy.status.value}", field="policyId", code="POLICY_NOT_ACTIVE")
    return policy


def _end(
    session: Session, policy: Policy, status: PolicyStatus, *, on: dt.date, note: str | None, refund: Decimal,
    kind: PolicyEventKind, actor: Principal,
) -> Policy:
    """End ``policy``; its end reason follows from ``status``, ``note`` is the requester's own words."""
    policy.status = status
    policy.ended_on = on
    policy.end_reason = (note or "").strip()[:200] or None
    policy.refund = _money(refund)
    session.flush()
    events.ended(session, policy, kind, actor=actor)
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
    return _end(session, policy, PolicyStatus.CANCELLED, on=policy.period_start, note=None,
                refund=policy.premium, kind=PolicyEventKind.CANCELLED, actor=principal)


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
        raise InvalidTransitionError("policy period is over", field="policyId", code="PERIOD_OVER")
    total = (policy.period_end - policy.period_start).days + 1
    remaining = max((policy.period_end - max(today, policy.period_start)).days, 0)
    unearned = policy.premium * Decimal(remaining) / Decimal(total)
    return _end(session, policy, PolicyStatus.SURRENDERED, on=today, note=reason,
                refund=unearned * (1 - SURRENDER_EXPENSE_RATE), kind=PolicyEventKind.SURRENDERED, actor=principal)


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
    return _end(session, policy, PolicyStatus.LAPSED, on=today, note=reason, refund=Decimal(0),
                kind=PolicyEventKind.LAPSED, actor=principal)


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
        raise InvalidTransitionError(f"a {policy.status.value} policy cannot renew", field="policyId",
                                     code="POLICY_NOT_ACTIVE")
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
    events.renewed(session, renewed, actor=principal)
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
        policy.end_reason = None
        events.ended(session, policy, PolicyEventKind.EXPIRED, actor=events.EXPIRY_ACTOR)
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
    with collect_errors() as errors:
        if phone:
            with errors.check():
                changes["phone"] = normalise_phone(phone)
        if email:
            with errors.check():
                changes["email"] = _check_email(email) or ""
    if "phone" in changes:
        policy.contact_phone = changes["phone"]
    if "email" in changes:
        policy.contact_email = changes["email"]
    return _record_endorsement(session, policy, EndorsementKind.CONTACT, changes, principal, today)


def endorse_beneficiary(
    session: Session,
    *,
    principal: Principal,
    policy_id: int,
    expected_version: int | None,
    name: str,
    relationship: BeneficiaryRelationship | str,
    today: dt.date,
) -> Endorsement:
    """Name a new beneficiary."""
    policy = _active_policy_for_change(
        session, principal=principal, policy_id=policy_id, expected_version=expected_version
    )
    name = name.strip()
    with collect_errors() as errors:
        if not 1 <= len(name) <= 100:
            errors.add(ValidationError("name must have 1 to 100 characters", field="name"))
        if relationship not in set(BeneficiaryRelationship):
            choices = ", ".join(r.value for r in BeneficiaryRelationship)
            errors.add(ValidationError(f"relationship must be one of {choices}", field="relationship"))
    relation = BeneficiaryRelationship(relationship)
    policy.beneficiary_name = name
    policy.beneficiary_relationship = relation.value
    return _record_endorsement(
        session,
        policy,
        EndorsementKind.BENEFICIARY,
        {"name": name, "relationship": relation.value},
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
    events.endorsed(session, policy, row, tuple(changed_fields(row)), actor=principal)
    return row


#: The policy field behind each key of an endorsement's stored changes.
_CHANGED_FIELD: dict[tuple[EndorsementKind, str], EndorsementField] = {
    (EndorsementKind.CONTACT, "phone"): EndorsementField.CONTACT_PHONE,
    (EndorsementKind.CONTACT, "email"): EndorsementField.CONTACT_EMAIL,
    (EndorsementKind.BENEFICIARY, "name"): EndorsementField.BENEFICIARY_NAME,
    (EndorsementKind.BENEFICIARY, "relationship"): EndorsementField.BENEFICIARY_RELATIONSHIP,
}


def changed_fields(endorsement: Endorsement) -> list[EndorsementField]:
    """The policy fields an endorsement changed, in declaration order (never their values)."""
    keys = json.loads(endorsement.changes)
    found = {_CHANGED_FIELD[(endorsement.kind, k)] for k in keys}
    return [f for f in EndorsementField if f in found]


def get_endorsement(session: Session, *, principal: Principal, endorsement_id: int) -> Endorsement:
    """An endorsement of a policy visible to ``principal``, else NotFoundError."""
    row = session.scalar(
        select(Endorsement).join(Policy, Policy.id == Endorsement.policy_id)
        .where(Endorsement.id == endorsement_id, policy_visible(principal))
    )
    if row is None:
        raise NotFoundError("endorsement not found", field="id")
    return row


# --- lists -----------------------------------------------------------------------------------


def list_policies(
    session: Session,
    *,
    principal: Principal,
    page: PageRequest,
    status: PolicyStatus | None = None,
) -> Page[Policy]:
    """A page of the policies visible to ``principal``, oldest id first (relations: see the loaders)."""
    stmt = select(Policy).where(policy_visible(principal))
    if status is not None:
        stmt = stmt.where(Policy.status == status)
    return keyset_page(session, stmt, Policy.id, request=page)


def count_policies(session: Session, *, principal: Principal, status: PolicyStatus | None = None) -> int:
    """How many policies ``principal`` may see (optionally of one status)."""
    stmt = select(func.count()).select_from(Policy).where(policy_visible(principal))
    if status is not None:
        stmt = stmt.where(Policy.status == status)
    return int(session.scalar(stmt) or 0)


def product_by_code(session: Session, *, code: str) -> Product | None:
    """A product by its code (on sale or not), or None (the knowledge graph's product nodes)."""
    return session.scalar(select(Product).where(Product.code == code))


def product_ids_of_customer(session: Session, *, customer_id: int) -> set[int]:
    """The products of every policy the customer holds or held (what they may ask coverage questions about)."""
    return set(session.scalars(select(Policy.product_id).where(Policy.customer_id == customer_id).distinct()))
