"""Demo advances: customers in hospital get money before their claim is settled.

Each scenario sells its customer a CRITICAL-CARE policy; the demo credit provider, assigned
the case ``ADV-<policy number>``, signs a credit report (EIP-712, committed to the ledger);
an agent applies for the customer with it. Bands 3 and up are paid first; the payout goes
through the rail's batch file and the demo's bank answers it (``opsure.demo.payments``).
Scenarios: one repaying (PAID, a transfer recorded), one kept whole from its claim's payment
(CLOSED by the offset), one OVERDUE, one DEFAULTED after the grace period (the overdue job
ran on today's date, with a 20-day grace: the demo's history is 57 days long), one waiting
for review (band 2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.settings import Settings
from opsure.demo.actors import ADJUSTER, audit
from opsure.demo.clock import DemoClock
from opsure.demo.desk import DemoDesk
from opsure.demo.files import pdf
from opsure.demo.partners import DemoPartner
from opsure.demo.payments import bank_day, ensure_account
from opsure.demo.policies import sell_policy
from partners.models import AssignmentKind
from partners.risk import ConsortiumKey
from resolvers.advances import service
from resolvers.advances.models import Advance
from resolvers.claims.models import ClaimState, DocumentKind
from resolvers.claims.service import LineItemSpec
from resolvers.claims.storage import Storage
from resolvers.policies.models import Policy, Product
from schema.relay import encode_global_id

__all__ = ["AdvancesLoaded", "load_advances"]

#: The demo's partners signed up 57 days ago, so its oldest advance is 56 days old: the overdue job runs
#: with a 20-day grace period here (30 by default, ``advances.grace_days``) to show a default.
DEMO_GRACE_DAYS = 20
#: Applies for customers in hospital.
AGENT = Principal(subject="demo:agent-liu", role=Role.AGENT)


@dataclass
class AdvancesLoaded:
    """The demo's advances by scenario."""

    advances: dict[str, Advance] = field(default_factory=dict)


def _gid(advance: Advance) -> str:
    return encode_global_id("Advance", advance.id)


class _Advances:
    def __init__(self, desk: DemoDesk, rng: random.Random, fake: Faker, product: Product,
                 bureau: DemoPartner) -> None:
        self.desk, self.rng, self.fake, self.product, self.bureau = desk, rng, fake, product, bureau
        self.nonce = 100

    def _policy(self, started_days_ago: int) -> Policy:
        return sell_policy(self.desk.session, self.rng, self.desk.clock, fake=self.fake, product=self.product,
                           started_days_ago=started_days_ago)

    def _report(self, policy: Policy, *, band: int, days_ago: int) -> int:
        d, bureau = self.desk, self.bureau
        assert bureau.signer is not None
        case = f"ADV-{policy.number}"
        d.assign(bureau, AssignmentKind.CREDIT_REPORT, case, days_ago=days_ago)
        at = d.clock.at(days_ago, 12)
        body = pdf("Credit report (demo)", [f"Case {case}", f"Score band {band} of 5"])
        self.nonce += 1
        return d.signed(bureau, "CreditReport", {
            "caseReference": case, "reportReference": f"CR-{d.clock.day(days_ago):%Y%m%d}-{self.nonce:04d}",
            "scoreBand": band, "reportCommitment": "0x" + hashlib.sha256(body).hexdigest(),
            "issuedOn": d.clock.day(days_ago).isoformat(), "bureau": bureau.signer.address, "nonce": self.nonce,
            "deadline": int((at + dt.timedelta(days=7)).timestamp())}, at=at).id

    def apply(self, *, days_ago: int, amount: str, band: int, settle: bool = True) -> Advance:
        """An agent applies for a customer admitted the day before, with a fresh credit report."""
        d = self.desk
        policy = self._policy(200 + days_ago)
        ensure_account(d.session, policy.customer_id)  # the account the advance is paid into
        report = self._report(policy, band=band, days_ago=days_ago)
        at = d.clock.at(days_ago, 14)
        advance = service.apply_advance(
            d.session, principal=AGENT, policy_id=policy.id, diagnosis_code="K35.8",
            admission_date=d.clock.day(days_ago + 1), hospital="浙江大学医学院附属第一医院",
            amount=Decimal(amount), credit_report_id=report, today=d.clock.day(days_ago), now=at,
            config=service.AdvanceConfig.from_extra(d.settings.extra))
        audit(d.session, AGENT, "applyAdvance", {"policyId": encode_global_id("Policy", policy.id),
                                                 "amount": amount}, target=_gid(advance))
        if settle:
            bank_day(d.session, d.clock, d.settings.data_dir, days_ago=max(days_ago - 1, 0))
        return advance

    def repaying(self) -> Advance:
        advance = self.apply(days_ago=20, amount="6000.00", band=4)
        d, key = self.desk, f"demo-repay-{advance.number}"
        service.record_repayment(d.session, principal=ADJUSTER, advance_id=advance.id, amount=Decimal("2000.00"),
                                 idempotency_key=key, channel=service.RepaymentChannel.TRANSFER,
                                 today=d.clock.day(5))
        audit(d.session, ADJUSTER, "recordAdvanceRepayment", {"advanceId": _gid(advance), "idempotencyKey": key},
              target=_gid(advance))
        return advance

    def offset(self) -> Advance:
        advance = self.apply(days_ago=25, amount="3000.00", band=5)
        d = self.desk
        policy = d.session.get_one(Policy, advance.policy_id)
        items = [LineItemSpec("SURG-04", "inpatient", Decimal("7400.00"), 1, ""),
                 LineItemSpec("BED-01", "inpatient", Decimal("1600.00"), 1, "")]
        claim = d.report(policy, event_days_ago=26, stay_days=6, reported_days_ago=18,
                         hospital="浙江大学医学院附属第一医院", diagnosis="K35.8", items=items)
        d.upload(claim, DocumentKind.INVOICE, "invoice.pdf", pdf("Medical invoice (demo)", [claim.number]),
                 days_ago=18)
        claim = d.submit(claim, days_ago=18)
        if claim.state in (ClaimState.UNDER_REVIEW, ClaimState.INVESTIGATING):
            claim = d.adjudicate(claim, days_ago=16, note="checked against the invoice and the advance")
        if claim.state in (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED):
            d.pay(claim, days_ago=15)  # the advance is kept from the payout; the rest goes to the bank
            bank_day(d.session, d.clock, d.settings.data_dir, days_ago=14)
        return advance

    def in_review(self) -> Advance:
        return self.apply(days_ago=2, amount="1500.00", band=2, settle=False)


def load_advances(session: Session, clock: DemoClock, *, settings: Settings, storage: Storage,
                  consortium: ConsortiumKey, seed: int, partners: dict[str, DemoPartner]) -> AdvancesLoaded:
    """Every advance scenario, then the overdue job on today's date (overdue and defaulted)."""
    desk = DemoDesk(session, clock, settings, storage, consortium)
    products = {p.code: p for p in session.scalars(select(Product))}
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 201)
    show = _Advances(desk, random.Random(seed + 201), fake, products["CRITICAL-CARE"], partners["creditProvider"])
    loaded = AdvancesLoaded()
    loaded.advances["repaying"] = show.repaying()
    loaded.advances["offset"] = show.offset()
    loaded.advances["overdue"] = show.apply(days_ago=40, amount="4500.00", band=3)  # first instalment 9 days late
    loaded.advances["defaulted"] = show.apply(days_ago=56, amount="2400.00", band=4)  # late since 25 days
    loaded.advances["inReview"] = show.in_review()
    service.mark_overdue(session, today=desk.clock.today, grace_days=DEMO_GRACE_DAYS)
    return loaded
