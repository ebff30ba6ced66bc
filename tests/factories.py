"""Factories: build valid domain rows through the services (never by hand)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from stdnum.cn import ric

from core.auth import Principal, Role
from resolvers.policies import service
from resolvers.policies.models import Customer, Policy, Product, Quote
from resolvers.policies.underwriting import DeclarationAnswer

ADMIN = Principal(subject="factory", role=Role.ADMIN)
_seq = itertools.count(1)


#: Districts the factory's ID numbers come from, one after another each 500 numbers (no repeat in a run).
_REGIONS = ("110101", "110102", "110105", "110106", "310101", "310104", "330102", "330106", "440103", "440104")


def resident_id(birth: dt.date, *, male: bool = True, region: str | None = None) -> str:
    """A valid mainland resident ID number for ``birth`` (distinct for 5,000 calls per birth date and sex)."""
    count = next(_seq)
    seq = f"{count % 500 * 2 + (1 if male else 0):03d}"
    body = f"{region or _REGIONS[count // 500 % len(_REGIONS)]}{birth:%Y%m%d}{seq}"
    return body + ric.calc_check_digit(body + "0")


def phone() -> str:
    """A valid mainland mobile number."""
    return f"138{random.randrange(10**8):08d}"


def make_product(session: Session, **over: Any) -> Product:
    """A typical medical product with three bands and two coverage items."""
    args: dict[str, Any] = dict(
        code=f"P{next(_seq)}",
        name="Test Medical",
        annual_limit=Decimal("100000"),
        deductible=Decimal("500"),
        copay_rate=Decimal("0.1"),
        waiting_period_days=30,
        coverage_items=[
            service.CoverageItemSpec("INPATIENT", "Inpatient", "inpatient"),
            service.CoverageItemSpec("OUTPATIENT", "Outpatient", "outpatient", Decimal("5000")),
        ],
        premium_bands=[
            service.PremiumBandSpec(0, 30, Decimal("300")),
            service.PremiumBandSpec(31, 50, Decimal("600")),
            service.PremiumBandSpec(51, 65, Decimal("1200")),
        ],
    )
    args.update(over)
    return service.create_product(session, **args)


def make_customer(session: Session, *, birth: dt.date = dt.date(1990, 3, 7), **over: Any) -> Customer:
    """A customer with a valid ID number and phone."""
    args: dict[str, Any] = dict(
        name="李伟", id_number=resident_id(birth), phone=phone(), email="li.wei@example.cn", city="杭州"
    )
    args.update(over)
    return service.create_customer(session, **args)


def healthy_answers(**yes: tuple[str, ...]) -> list[DeclarationAnswer]:
    """A complete declaration: 'no' everywhere except the questions given with diagnoses."""
    codes = ["cancer", "chronic", "hospitalized_2y", "pending_investigation", "smoker"]
    return [DeclarationAnswer(c, c in yes, yes.get(c, ())) for c in codes]


def make_quote(
    session: Session,
    *,
    customer: Customer,
    product: Product,
    today: dt.date,
    answers: list[DeclarationAnswer] | None = None,
) -> Quote:
    """An underwritten quote starting today."""
    return service.create_quote(
        session,
        principal=ADMIN,
        customer_id=customer.id,
        product_id=product.id,
        start_date=today,
        answers=answers or healthy_answers(),
        today=today,
    )


def make_policy(
    session: Session, *, today: dt.date, customer: Customer | None = None, product: Product | None = None
) -> Policy:
    """An issued policy (creating customer and product when not given)."""
    customer = customer or make_customer(session)
    product = product or make_product(session)
    quote = make_quote(session, customer=customer, product=product, today=today)
    now = dt.datetime.combine(today, dt.time(10), dt.UTC)
    return service.issue_policy(session, principal=ADMIN, quote_id=quote.id, today=today, now=now)
