"""A realistic synthetic data set: customers, products and two years of policy history."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from faker import Faker
from sqlalchemy import select

from core.audit import append_audit, digest_input
from core.auth import Principal, Role
from core.clock import business_today
from core.db import transaction
from core.errors import DomainError
from opsure.runtime import Runtime
from resolvers.policies import service
from resolvers.policies.models import Product
from resolvers.policies.underwriting import DeclarationAnswer

__all__ = ["DEMO_PRODUCTS", "load_demo"]

SYSTEM = Principal(subject="demo-loader", role=Role.ADMIN)

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


def _answers(rng: random.Random) -> list[DeclarationAnswer]:
    chronic = rng.random() < 0.12
    hosp = rng.random() < 0.08
    return [
        DeclarationAnswer("cancer", rng.random() < 0.01, ("C50.9",) if False else ()),
        DeclarationAnswer("chronic", chronic, (rng.choice(CHRONIC),) if chronic else ()),
        DeclarationAnswer("hospitalized_2y", hosp, ("J18.9",) if hosp else ()),
        DeclarationAnswer("pending_investigation", False),
        DeclarationAnswer("smoker", rng.random() < 0.2),
    ]


def load_demo(
    runtime: Runtime, *, customers: int = 500, years: int = 2, seed: int = 7, today: dt.date | None = None
) -> dict[str, int]:
    """Create products, customers and policies issued over ``years`` (deterministic by seed)."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    today = today or business_today()
    counts = {
        "products": 0,
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
    with transaction(runtime.session_factory) as s:
        existing = {p.code for p in s.scalars(select(Product))}
        for spec in DEMO_PRODUCTS:
            if spec["code"] in existing:
                continue
            service.create_product(
                s,
                code=spec["code"],
                name=spec["name"],
                annual_limit=spec["annual_limit"],
                deductible=spec["deductible"],
                copay_rate=spec["copay_rate"],
                waiting_period_days=spec["waiting_period_days"],
                coverage_items=[service.CoverageItemSpec(c, n, cat, sub) for c, n, cat, sub in spec["items"]],
                premium_bands=[service.PremiumBandSpec(a, b, Decimal(p)) for a, b, p in spec["bands"]],
            )
            counts["products"] += 1
        products = list(s.scalars(select(Product).order_by(Product.id)))
    start_window = today - dt.timedelta(days=365 * years)
    made = 0
    attempts = 0
    while made < customers and attempts < customers * 3:
        attempts += 1
        try:
            with transaction(runtime.session_factory) as s:
                cust = service.create_customer(
                    s,
                    name=fake.name(),
                    id_number=fake.ssn(min_age=1, max_age=64),  # type: ignore[call-arg]
                    phone=fake.phone_number(),
                    email=fake.email() if rng.random() < 0.6 else None,
                    city=fake.city_name(),
                )
                made += 1
                counts["customers"] += 1
                append_audit(s, actor=SYSTEM.subject, role=SYSTEM.role.value if SYSTEM.role else None,
                             action="loadDemoCustomer", input_digest=digest_input({"seed": seed, "n": made}),
                             target=f"Customer:{cust.id}")
                for _ in range(rng.choice((1, 1, 1, 2))):
                    product = rng.choice(products)
                    day = start_window + dt.timedelta(days=rng.randrange(0, 365 * years - 30))
                    now = dt.datetime.combine(day, dt.time(9, 0), dt.UTC) + dt.timedelta(
                        minutes=rng.randrange(600)
                    )
                    try:
                        quote = service.create_quote(
                            s,
                            principal=SYSTEM,
                            customer_id=cust.id,
                            product_id=product.id,
                            start_date=day,
                            answers=_answers(rng),
                            today=day,
                        )
                    except DomainError:
                        continue  # e.g. age outside the product's bands
                    counts["quotes"] += 1
                    if quote.status.value == "declined":
                        counts["declined"] += 1
                        continue
                    policy = service.issue_policy(s, principal=SYSTEM, quote_id=quote.id, today=day, now=now)
                    counts["policies"] += 1
                    fate = rng.random()
                    if fate < 0.04:
                        service.cancel_in_cooling_off(
                            s,
                            principal=SYSTEM,
                            policy_id=policy.id,
                            expected_version=None,
                            today=day + dt.timedelta(days=rng.randrange(1, 10)),
                        )
                        counts["cancelled"] += 1
                    elif fate < 0.12 and policy.period_end > day + dt.timedelta(days=40):
                        when = day + dt.timedelta(
                            days=rng.randrange(30, max(31, min(300, (today - day).days or 31)))
                        )
                        if when <= policy.period_end and when <= today:
                            service.surrender_policy(
                                s,
                                principal=SYSTEM,
                                policy_id=policy.id,
                                expected_version=None,
                                today=when,
                                reason="customer request",
                            )
                            counts["surrendered"] += 1
                    elif fate < 0.15:
                        service.lapse_policy(
                            s,
                            principal=SYSTEM,
                            policy_id=policy.id,
                            expected_version=None,
                            today=min(today, day + dt.timedelta(days=60)),
                            reason="premium unpaid",
                        )
                        counts["lapsed"] += 1
                    elif fate < 0.75 and policy.period_end < today:
                        renew_day = policy.period_end - dt.timedelta(days=rng.randrange(0, 30))
                        renewed = service.renew_policy(
                            s,
                            principal=SYSTEM,
                            policy_id=policy.id,
                            expected_version=None,
                            today=renew_day,
                            now=dt.datetime.combine(renew_day, dt.time(10), dt.UTC),
                        )
                        counts["renewed"] += 1
                        counts["policies"] += 1
                        if rng.random() < 0.2:
                            service.endorse_contact(
                                s,
                                principal=SYSTEM,
                                policy_id=renewed.id,
                                expected_version=None,
                                phone=fake.phone_number(),
                                email=None,
                                today=renew_day,
                            )
                            counts["endorsements"] += 1
                    if rng.random() < 0.1 and policy.status.value == "active":
                        service.endorse_beneficiary(
                            s,
                            principal=SYSTEM,
                            policy_id=policy.id,
                            expected_version=None,
                            name=fake.name(),
                            relationship=rng.choice(("spouse", "child", "parent")),
                            today=day,
                        )
                        counts["endorsements"] += 1
        except DomainError:
            continue  # a generated identity collided or a phone failed validation: draw again
    with transaction(runtime.session_factory) as s:
        service.expire_due_policies(s, today=today, limit=1_000_000)
    return counts
