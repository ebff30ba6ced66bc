"""Demo products, customers and their policy history (sold, renewed, endorsed, ended).

Every row goes through the policies services; a customer whose generated identity the
service refuses (a colliding ID number, an age outside the bands) is drawn again.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from core.errors import DomainError
from opsure.demo.actors import SYSTEM, audit
from opsure.demo.clock import DemoClock
from resolvers.policies import service
from resolvers.policies.models import Policy, Product
from resolvers.policies.underwriting import DeclarationAnswer
from schema.relay import encode_global_id

__all__ = ["DEMO_PRODUCTS", "ensure_products", "load_policies", "sell_policy"]

DEMO_PRODUCTS: list[dict[str, Any]] = [
    {
        "code": "MEDI-BASIC",
        "name": "百万医疗险 基础版",
        "annual_limit": Decimal("3000000"),
        "deductible": Decimal("10000"),
        "copay_rate": Decimal("0.0"),
        "waiting_period_days": 30,
        "items": [
            ("INPATIENT", "住院医疗", "inpatient", None),
            ("SPECIAL_OUTPATIENT", "特殊门诊", "outpatient", None),
            ("DRUGS", "院外特药", "drugs", Decimal("1000000")),
        ],
        "bands": [
            (0, 17, "268"),
            (18, 30, "298"),
            (31, 40, "398"),
            (41, 50, "698"),
            (51, 60, "1298"),
            (61, 65, "2198"),
        ],
    },
    {
        "code": "OUTPATIENT-PLUS",
        "name": "门急诊医疗险",
        "annual_limit": Decimal("20000"),
        "deductible": Decimal("100"),
        "copay_rate": Decimal("0.2"),
        "waiting_period_days": 30,
        "items": [
            ("OUTPATIENT", "门急诊", "outpatient", Decimal("20000")),
            ("DENTAL", "齿科", "dental", Decimal("2000")),
        ],
        "bands": [(0, 17, "899"), (18, 40, "699"), (41, 60, "1199"), (61, 65, "1899")],
    },
    {
        "code": "CRITICAL-CARE",
        "name": "重疾医疗险",
        "annual_limit": Decimal("1000000"),
        "deductible": Decimal("0"),
        "copay_rate": Decimal("0.1"),
        "waiting_period_days": 90,
        "items": [
            ("CRITICAL_INPATIENT", "重疾住院", "inpatient", None),
            ("PROTON", "质子重离子", "special", Decimal("1000000")),
        ],
        "bands": [(0, 30, "199"), (31, 50, "499"), (51, 65, "1499")],
    },
]

CHRONIC = ["E11.9", "I10", "J45.9", "K21.9", "M54.5"]
#: Districts of the demo's claimants (Hangzhou, Beijing, Shanghai, Shenzhen).
REGIONS = ("330106", "110101", "310104", "440305")


def _answers(rng: random.Random) -> list[DeclarationAnswer]:
    chronic = rng.random() < 0.12
    hosp = rng.random() < 0.08
    return [
        DeclarationAnswer("cancer", rng.random() < 0.01, ()),
        DeclarationAnswer("chronic", chronic, (rng.choice(CHRONIC),) if chronic else ()),
        DeclarationAnswer("hospitalized_2y", hosp, ("J18.9",) if hosp else ()),
        DeclarationAnswer("pending_investigation", False),
        DeclarationAnswer("smoker", rng.random() < 0.2),
    ]


def ensure_products(session: Session) -> tuple[list[Product], int]:
    """The demo products (created where missing), oldest first, and how many were created."""
    existing = {p.code for p in session.scalars(select(Product))}
    created = 0
    for spec in DEMO_PRODUCTS:
        if spec["code"] in existing:
            continue
        service.create_product(
            session,
            code=spec["code"],
            name=spec["name"],
            annual_limit=spec["annual_limit"],
            deductible=spec["deductible"],
            copay_rate=spec["copay_rate"],
            waiting_period_days=spec["waiting_period_days"],
            coverage_items=[service.CoverageItemSpec(c, n, cat, sub) for c, n, cat, sub in spec["items"]],
            premium_bands=[service.PremiumBandSpec(a, b, Decimal(p)) for a, b, p in spec["bands"]],
        )
        created += 1
    return list(session.scalars(select(Product).order_by(Product.id))), created


def load_policies(
    session: Session, rng: random.Random, clock: DemoClock, *, fake: Faker, customers: int, years: int, seed: int,
) -> dict[str, int]:
    """Create the products, ``customers`` customers and policies issued over ``years`` years; returns counts."""
    today = clock.today
    products, created = ensure_products(session)
    counts = {
        "products": created,
        "customers": 0,
        "quotes": 0,
        "policies": 0,
        "surrendered": 0,
        "cancelled": 0,
        "lapsed": 0,
        "renewed": 0,
        "endorsements": 0,
        "declined": 0,
    }
    start_window = today - dt.timedelta(days=365 * years)
    attempts = 0
    while counts["customers"] < customers and attempts < customers * 3:
        attempts += 1
        done = dict.fromkeys(counts, 0)
        try:
            with session.begin_nested():  # one customer and their policies, or nothing of them
                _customer_with_policies(session, rng, fake, products, done, seed=seed, n=counts["customers"] + 1,
                                        today=today, start_window=start_window, years=years)
        except DomainError:
            continue  # a generated identity collided or a phone failed validation: draw again
        for key, value in done.items():
            counts[key] += value
    service.expire_due_policies(session, today=today, limit=1_000_000)
    return counts


def _customer_with_policies(
    session: Session, rng: random.Random, fake: Faker, products: list[Product], counts: dict[str, int], *,
    seed: int, n: int, today: dt.date, start_window: dt.date, years: int,
) -> None:
    cust = service.create_customer(
        session,
        name=fake.name(),
        id_number=fake.ssn(min_age=1, max_age=64),  # type: ignore[call-arg]
        phone=fake.phone_number(),
        email=fake.email() if rng.random() < 0.6 else None,
        city=fake.city_name(),
    )
    counts["customers"] += 1
    audit(session, SYSTEM, "loadDemoCustomer", {"seed": seed, "n": n}, target=encode_global_id("Customer", cust.id))
    for _ in range(rng.choice((1, 1, 1, 2))):
        product = rng.choice(products)
        day = start_window + dt.timedelta(days=rng.randrange(0, 365 * years - 30))
        now = dt.datetime.combine(day, dt.time(9, 0), dt.UTC) + dt.timedelta(minutes=rng.randrange(600))
        try:
            with session.begin_nested():
                quote = service.create_quote(session, principal=SYSTEM, customer_id=cust.id, product_id=product.id,
                                             start_date=day, answers=_answers(rng), today=day)
        except DomainError:
            continue  # e.g. age outside the product's bands
        counts["quotes"] += 1
        if quote.status.value == "declined":
            counts["declined"] += 1
            continue
        policy = service.issue_policy(session, principal=SYSTEM, quote_id=quote.id, today=day, now=now)
        counts["policies"] += 1
        fate = rng.random()
        if fate < 0.04:
            service.cancel_in_cooling_off(session, principal=SYSTEM, policy_id=policy.id, expected_version=None,
                                          today=day + dt.timedelta(days=rng.randrange(1, 10)))
            counts["cancelled"] += 1
        elif fate < 0.12 and policy.period_end > day + dt.timedelta(days=40):
            when = day + dt.timedelta(days=rng.randrange(30, max(31, min(300, (today - day).days or 31))))
            if when <= policy.period_end and when <= today:
                service.surrender_policy(session, principal=SYSTEM, policy_id=policy.id, expected_version=None,
                                         today=when, reason="customer request")
                counts["surrendered"] += 1
        elif fate < 0.15:
            service.lapse_policy(session, principal=SYSTEM, policy_id=policy.id, expected_version=None,
                                 today=min(today, day + dt.timedelta(days=60)), reason="premium unpaid")
            counts["lapsed"] += 1
        elif fate < 0.75 and policy.period_end < today:
            renew_day = policy.period_end - dt.timedelta(days=rng.randrange(0, 30))
            renewed = service.renew_policy(session, principal=SYSTEM, policy_id=policy.id, expected_version=None,
                                           today=renew_day, now=dt.datetime.combine(renew_day, dt.time(10), dt.UTC))
            counts["renewed"] += 1
            counts["policies"] += 1
            if rng.random() < 0.2:
                service.endorse_contact(session, principal=SYSTEM, policy_id=renewed.id, expected_version=None,
                                        phone=fake.phone_number(), email=None, today=renew_day)
                counts["endorsements"] += 1
        if rng.random() < 0.1 and policy.status.value == "active":
            service.endorse_beneficiary(session, principal=SYSTEM, policy_id=policy.id, expected_version=None,
                                        name=fake.name(), relationship=rng.choice(("spouse", "child", "parent")),
                                        today=day)
            counts["endorsements"] += 1


def _resident_id(rng: random.Random, today: dt.date) -> str:
    birth = today - dt.timedelta(days=rng.randrange(26 * 365, 48 * 365))
    body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def sell_policy(
    session: Session, rng: random.Random, clock: DemoClock, *, fake: Faker, product: Product, started_days_ago: int,
) -> Policy:
    """A new adult customer (26-48 years old) and a policy of ``product`` that started ``started_days_ago``."""
    start = clock.day(started_days_ago)
    for _ in range(10):
        try:
            with session.begin_nested():
                customer = service.create_customer(
                    session, name=fake.name(), id_number=_resident_id(rng, clock.today),
                    phone=f"1{rng.choice((38, 39, 50, 86))}{rng.randrange(10**8):08d}", email=fake.email(),
                    city=fake.city_name())
                break
        except DomainError:
            continue  # the drawn ID number exists already: draw again
    else:
        raise RuntimeError("could not draw a new demo customer")
    audit(session, SYSTEM, "createCustomer", {"customerId": customer.id}, target=encode_global_id("Customer", customer.id))
    quote = service.create_quote(session, principal=SYSTEM, customer_id=customer.id, product_id=product.id,
                                 start_date=start, answers=[DeclarationAnswer(c, False) for c in
                                                            ("cancer", "chronic", "hospitalized_2y",
                                                             "pending_investigation", "smoker")], today=start)
    policy = service.issue_policy(session, principal=SYSTEM, quote_id=quote.id, today=start,
                                  now=dt.datetime.combine(start, dt.time(2), dt.UTC))
    audit(session, SYSTEM, "issuePolicy", {"quoteId": quote.id}, target=encode_global_id("Policy", policy.id))
    return policy
