"""Claim factories: policies old enough to claim on, tiny valid PDFs, and reported claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.clock import business_today
from resolvers.claims import service
from resolvers.claims.models import Claim, ClaimChannel, ClaimDocument, ClaimState, DocumentKind
from resolvers.policies.models import Policy
from tests.factories import make_customer, make_policy, make_product
from tests.payment_factories import add_account

ADJUSTER = Principal(subject="adjuster-claims", role=Role.ADJUSTER)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def customer_principal(customer_id: int) -> Principal:
    """A customer's principal."""
    return Principal(subject=f"customer-{customer_id}", role=Role.CUSTOMER, customer_id=customer_id)


def make_claim_policy(session: Session, *, issued_days_ago: int = 120, today: dt.date | None = None,
                      **product: Any) -> Policy:
    """An active policy issued ``issued_days_ago`` days before ``today`` (default: the real today)."""
    today = today or business_today()
    customer = make_customer(session)
    add_account(session, customer_id=customer.id)  # payouts go to the customer's bank account
    return make_policy(session, today=today - dt.timedelta(days=issued_days_ago),
                       customer=customer, product=make_product(session, **product))


def small_items() -> list[service.LineItemSpec]:
    """Inpatient 600 + outpatient 200 = 800."""
    return [service.LineItemSpec("BED-01", "inpatient", Decimal("600.00"), 3, "ward bed"),
            service.LineItemSpec("LAB-07", "outpatient", Decimal("200.00"), 1, "blood panel")]


def report(session: Session, policy: Policy, *, principal: Principal | None = None, today: dt.date | None = None,
           days_ago: int = 6, amount: Decimal = Decimal("800.00"), items: list[service.LineItemSpec] | None = None,
           hospital: str = "浙江大学医学院附属第一医院", diagnosis: str = "J18.9",
           channel: ClaimChannel = ClaimChannel.APP) -> Claim:
    """A draft claim reported by the policy's customer."""
    today = today or business_today()
    start = today - dt.timedelta(days=days_ago)
    return service.report_claim(
        session, principal=principal or customer_principal(policy.customer_id), policy_id=policy.id,
        event_date=start, admission_date=start, discharge_date=start + dt.timedelta(days=3), hospital=hospital,
        diagnosis_code=diagnosis, claimed_amount=amount, channel=channel,
        items=small_items() if items is None else items, today=today,
        now=dt.datetime.combine(today, dt.time(9), dt.UTC))


def add_invoice(session: Session, claim: Claim) -> ClaimDocument:
    """An invoice document row on ``claim`` (no bytes in storage: enough for routing)."""
    doc = ClaimDocument(claim_id=claim.id, kind=DocumentKind.INVOICE, filename="invoice.pdf",
                        content_type="application/pdf", size=len(PDF), sha256=f"{claim.id:064x}",
                        storage_key=f"test/{claim.id}", uploaded_by="test")
    session.add(doc)
    session.flush()
    return doc


def make_approved_claim(session: Session, *, policy: Policy | None = None, amount: Decimal = Decimal("8000.00"),
                        note: str = "") -> Claim:
    """A claim an adjuster approved in full (too large for fast-claim, so it went to review first)."""
    today = business_today()
    now = dt.datetime.combine(today, dt.time(9), dt.UTC)
    policy = policy or make_claim_policy(session)
    claim = report(session, policy, amount=amount, items=[service.LineItemSpec("SURG-1", "inpatient", amount, 1)])
    add_invoice(session, claim)
    claim = service.submit_claim(session, principal=ADJUSTER, claim_id=claim.id, expected_version=None, today=today,
                                 now=now)
    assert claim.state is ClaimState.UNDER_REVIEW, claim.state
    claim = service.adjudicate_claim(session, principal=ADJUSTER, claim_id=claim.id, expected_version=None, now=now,
                                     note=note)
    assert claim.state is ClaimState.APPROVED, claim.state
    return claim


def nodes(connection: dict[str, Any]) -> list[Any]:
    """The nodes of a connection in a GraphQL answer (``{edges {node {...}}}``), in page order."""
    return [edge["node"] for edge in connection["edges"]]
