"""Demo claims in every state, each driven the way its actors would drive it.

Showcase claims (one per scenario, each on a claimant sold a policy for it) walk the
claims domain's whole map: a fast claim paid, one paid and closed, one waiting for a
document, one under review, one approved, one partly approved with its explanation of
benefits, one rejected, one rejected and reopened on appeal, one under investigation
because a partner insurer's shared flag matched, with an assessor firm's signed survey,
one direct-billed by the hospital with its EIP-712 signed bill, and a draft. (``submitted``
is a passing state: submission routes a claim on at once, so it shows in every submitted
claim's timeline.) Background claims on the policy history fill the adjuster's queue.

Customers upload real small PDFs and PNGs, sealed into the document store as an upload
is; medical ones become ledger records. Every step is taken at the claims desk
(:mod:`opsure.demo.desk`), through the services, with its audit entry.
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

from core.settings import Settings
from opsure.demo.clock import DemoClock
from opsure.demo.desk import DemoDesk
from opsure.demo.files import pdf, png
from opsure.demo.partners import DemoPartner
from opsure.demo.payments import bank_day
from opsure.demo.policies import sell_policy
from opsure.demo.risk import publish
from partners.models import AssignmentKind, SignedRecord
from partners.risk import ConsortiumKey
from resolvers.claims import service
from resolvers.claims.models import Claim, ClaimState, DocumentKind
from resolvers.claims.service import LineItemSpec
from resolvers.claims.storage import Storage
from resolvers.policies.models import Policy, PolicyStatus, Product

__all__ = ["ClaimsLoaded", "load_claims"]

HOSPITALS = ("浙江大学医学院附属第一医院", "北京协和医院", "四川大学华西医院", "复旦大学附属中山医院",
             "中山大学附属第一医院", "华中科技大学同济医学院附属协和医院")
DIAGNOSES = ("J18.9", "K35.8", "S52.5", "A09.9", "N39.0", "J20.9", "K80.2")
#: The covered category background claims use, per demo product.
CATEGORY = {"MEDI-BASIC": "inpatient", "OUTPATIENT-PLUS": "outpatient", "CRITICAL-CARE": "inpatient"}
SIGNATURE_VALIDITY = dt.timedelta(days=30)


@dataclass
class ClaimsLoaded:
    """The showcase claims by scenario, the signed records they carry, and the background count."""

    showcase: dict[str, Claim] = field(default_factory=dict)
    signed: dict[str, SignedRecord] = field(default_factory=dict)
    background: int = 0


def _invoice(claim: Claim) -> bytes:
    lines = [f"Claim {claim.number}", f"Admission {claim.admission_date}  Discharge {claim.discharge_date}",
             f"Diagnosis (ICD-10) {claim.diagnosis_code}", f"Total CNY {claim.claimed_amount}"]
    return pdf("Medical invoice (demo)", lines)


def _summary(claim: Claim) -> bytes:
    return pdf("Discharge summary (demo)", [f"Claim {claim.number}", f"Diagnosis {claim.diagnosis_code}",
                                            "Condition on discharge: stable", "Follow-up in two weeks"])


def _id_card() -> bytes:
    return png(96, 60, (178, 34, 52), (236, 236, 228))


def _lines(*parts: tuple[str, str, str]) -> list[LineItemSpec]:
    return [LineItemSpec(code, category, Decimal(amount), 1, "") for code, category, amount in parts]


def _deadline(at: dt.datetime) -> int:
    return int((at + SIGNATURE_VALIDITY).timestamp())


class _Showcase:
    """The scenarios; each sells its claimant a policy, then drives one claim."""

    def __init__(self, desk: DemoDesk, rng: random.Random, fake: Faker, products: dict[str, Product],
                 partners: dict[str, DemoPartner], loaded: ClaimsLoaded) -> None:
        self.desk, self.rng, self.fake, self.products = desk, rng, fake, products
        self.partners, self.loaded = partners, loaded

    def _policy(self, product: str, started_days_ago: int) -> Policy:
        return sell_policy(self.desk.session, self.rng, self.desk.clock, fake=self.fake,
                           product=self.products[product], started_days_ago=started_days_ago)

    def _fast(self, days_ago: int) -> Claim:
        d = self.desk
        claim = d.report(self._policy("OUTPATIENT-PLUS", 200), event_days_ago=days_ago + 2, stay_days=0,
                         reported_days_ago=days_ago, hospital=HOSPITALS[0], diagnosis="J20.9",
                         items=_lines(("CONSULT-01", "outpatient", "300.00"), ("LAB-07", "outpatient", "520.00")))
        d.upload(claim, DocumentKind.INVOICE, "invoice.pdf", _invoice(claim), days_ago=days_ago)
        return d.submit(claim, days_ago=days_ago)

    def fast_claim_paid(self) -> Claim:
        return self._fast(7)

    def closed(self) -> Claim:
        claim = self._fast(18)
        d = self.desk
        bank_day(d.session, d.clock, d.settings.data_dir, days_ago=16)  # its payout settles: PAID, then closed
        return d.move(claim, ClaimState.CLOSED, days_ago=10, reason="paid in full; no further bills expected")

    def documents_pending(self) -> Claim:
        d = self.desk
        claim = d.report(self._policy("OUTPATIENT-PLUS", 150), event_days_ago=5, stay_days=0, reported_days_ago=3,
                         hospital=HOSPITALS[1], diagnosis="A09.9",
                         items=_lines(("CONSULT-02", "outpatient", "260.00"), ("DRUG-11", "outpatient", "148.50")))
        d.upload(claim, DocumentKind.ID_CARD, "id-card.png", _id_card(), days_ago=3)
        return d.submit(claim, days_ago=3)

    def _reviewed(self, days_ago: int, items: list[LineItemSpec]) -> Claim:
        d = self.desk
        claim = d.report(self._policy("CRITICAL-CARE", 300), event_days_ago=days_ago + 6, stay_days=5,
                         reported_days_ago=days_ago, hospital=HOSPITALS[2], diagnosis="K35.8", items=items)
        d.upload(claim, DocumentKind.INVOICE, "invoice.pdf", _invoice(claim), days_ago=days_ago)
        d.upload(claim, DocumentKind.DISCHARGE_SUMMARY, "discharge-summary.pdf", _summary(claim), days_ago=days_ago)
        return d.submit(claim, days_ago=days_ago)

    def under_review(self) -> Claim:
        return self._reviewed(4, _lines(("SURG-12", "inpatient", "6400.00"), ("BED-01", "inpatient", "1600.00")))

    def approved(self) -> Claim:
        claim = self._reviewed(9, _lines(("SURG-12", "inpatient", "7200.00"), ("BED-01", "inpatient", "1500.00")))
        return self.desk.adjudicate(claim, days_ago=3, note="operation note and invoice agree")

    def partially_approved(self) -> Claim:
        claim = self._reviewed(8, _lines(("SURG-12", "inpatient", "5200.00"), ("BED-01", "inpatient", "900.00"),
                                         ("DENT-03", "dental", "1200.00")))
        return self.desk.adjudicate(claim, days_ago=2, note="dental treatment is not covered by this product")

    def _waiting(self, days_ago: int) -> Claim:
        d = self.desk
        claim = d.report(self._policy("CRITICAL-CARE", 50), event_days_ago=days_ago + 3, stay_days=2,
                         reported_days_ago=days_ago, hospital=HOSPITALS[3], diagnosis="K80.2",
                         items=_lines(("BED-01", "inpatient", "1200.00"), ("SURG-04", "inpatient", "1800.00")))
        d.upload(claim, DocumentKind.INVOICE, "invoice.pdf", _invoice(claim), days_ago=days_ago)
        claim = d.submit(claim, days_ago=days_ago)
        return d.adjudicate(claim, days_ago=days_ago - 2, note="event inside the 90-day waiting period")

    def rejected(self) -> Claim:
        return self._waiting(6)

    def reopened(self) -> Claim:
        return self.desk.move(self._waiting(9), ClaimState.REOPENED, days_ago=1,
                              reason="appeal: the customer sent records of symptoms before the policy began")

    def investigating(self) -> Claim:
        d = self.desk
        policy = self._policy("MEDI-BASIC", 180)
        publish(d.session, self.partners["insurer"], d.consortium, customer_id=policy.customer_id,
                flag_code="STAGED_ACCIDENT", level="high", at=d.clock.at(30, 16))
        claim = d.report(policy, event_days_ago=12, stay_days=6, reported_days_ago=5, hospital=HOSPITALS[4],
                         diagnosis="S52.5", items=_lines(("SURG-20", "inpatient", "9800.00"),
                                                         ("BED-01", "inpatient", "2400.00"),
                                                         ("DRUG-30", "drugs", "600.00")))
        d.upload(claim, DocumentKind.INVOICE, "invoice.pdf", _invoice(claim), days_ago=5)
        d.upload(claim, DocumentKind.DISCHARGE_SUMMARY, "discharge-summary.pdf", _summary(claim), days_ago=5)
        claim = d.submit(claim, days_ago=5)
        assessor = self.partners["assessorFirm"]
        d.assign(assessor, AssignmentKind.SURVEY, claim.number, days_ago=4, investigation_id=claim.id)
        findings = pdf("Survey findings (demo)", [f"Case {claim.number}", "Hospital records checked on site",
                                                  "Injury consistent with the reported fall"])
        at = d.clock.at(2, 17)
        assert assessor.signer is not None
        self.loaded.signed["surveyReport"] = d.signed(assessor, "SurveyReport", {
            "investigationId": claim.id, "caseReference": claim.number,
            "findingsCommitment": "0x" + hashlib.sha256(findings).hexdigest(), "conclusionCode": 2,
            "assessor": assessor.signer.address, "nonce": 1, "deadline": _deadline(at)}, at=at)
        return claim

    def direct_billed(self) -> Claim:
        d = self.desk
        hospital = self.partners["hospital"]
        assert hospital.signer is not None
        policy = self._policy("CRITICAL-CARE", 260)
        d.assign(hospital, AssignmentKind.HOSPITAL_BILL, policy.number, days_ago=9)
        self._credit_report(policy, days_ago=8)
        items = _lines(("BED-01", "inpatient", "1200.00"), ("SURG-04", "inpatient", "2400.00"),
                       ("NURSE-02", "inpatient", "600.00"))
        discharge, at = d.clock.day(5), d.clock.at(4, 11)
        message: dict[str, object] = {
            "caseReference": policy.number, "billNumber": f"XH-{discharge:%Y%m%d}-0001", "amountFen": 420000,
            "itemsCommitment": service.items_commitment(items), "issuedOn": discharge.isoformat(),
            "hospital": hospital.signer.address, "nonce": 1, "deadline": _deadline(at)}

        claim = d.direct_bill(hospital, message, items, admission=d.clock.day(8), discharge=discharge,
                              diagnosis="K35.8", at=at)
        assert claim.signed_record_id is not None
        self.loaded.signed["hospitalBill"] = d.session.get_one(SignedRecord, claim.signed_record_id)
        return claim

    def _credit_report(self, policy: Policy, *, days_ago: int) -> None:
        d, bureau = self.desk, self.partners["creditProvider"]
        assert bureau.signer is not None
        case = f"ADV-{policy.number}"
        d.assign(bureau, AssignmentKind.CREDIT_REPORT, case, days_ago=days_ago)
        at = d.clock.at(days_ago, 15)
        report = pdf("Credit report (demo)", [f"Case {case}", "Score band 3 of 5"])
        self.loaded.signed["creditReport"] = d.signed(bureau, "CreditReport", {
            "caseReference": case, "reportReference": f"CR-{d.clock.day(days_ago):%Y%m%d}-0001", "scoreBand": 3,
            "reportCommitment": "0x" + hashlib.sha256(report).hexdigest(), "issuedOn": d.clock.day(days_ago).isoformat(),
            "bureau": bureau.signer.address, "nonce": 1, "deadline": _deadline(at)}, at=at)

    def draft(self) -> Claim:
        return self.desk.report(self._policy("OUTPATIENT-PLUS", 100), event_days_ago=2, stay_days=0,
                                reported_days_ago=1, hospital=HOSPITALS[5], diagnosis="N39.0",
                                items=_lines(("CONSULT-01", "outpatient", "180.00")))


def _background(desk: DemoDesk, rng: random.Random, count: int, products: dict[int, str], *,
                exclude: set[int]) -> int:
    """Claims on the policy history (not on ``exclude``'s customers): mostly fast claims, some waiting
    for documents, under review or decided and paid."""
    candidates = list(desk.session.scalars(
        select(Policy).where(Policy.status == PolicyStatus.ACTIVE, Policy.period_start <= desk.clock.day(60))
        .order_by(Policy.id)))
    seen = set(exclude)
    made = 0
    for policy in rng.sample(candidates, len(candidates)):
        if made >= count:
            break
        if policy.customer_id in seen:
            continue  # one claim per customer: no duplicate suspicion between background claims
        seen.add(policy.customer_id)
        product = products[policy.product_id]
        category = CATEGORY[product]
        days_ago = rng.randrange(3, 40)
        # a small bill would vanish in MEDI-BASIC's 10,000 deductible: its claims are large (adjuster's queue)
        total = rng.randrange(11_000, 28_000) if product == "MEDI-BASIC" else rng.randrange(300, 4800)
        items = _lines(("CONSULT-01", category, f"{total * 0.3:.2f}"), ("TREAT-05", category, f"{total * 0.7:.2f}"))
        claim = desk.report(policy, event_days_ago=days_ago + 2, stay_days=rng.choice((0, 0, 1, 2)),
                            reported_days_ago=days_ago, hospital=rng.choice(HOSPITALS), diagnosis=rng.choice(DIAGNOSES),
                            items=items)
        fate = rng.random()
        if fate >= 0.15:
            desk.upload(claim, DocumentKind.INVOICE, "invoice.pdf", _invoice(claim), days_ago=days_ago)
        claim = desk.submit(claim, days_ago=days_ago)
        if fate >= 0.85 and claim.state in (ClaimState.UNDER_REVIEW, ClaimState.INVESTIGATING) and days_ago > 3:
            claim = desk.adjudicate(claim, days_ago=days_ago - 2, note="checked against the invoice")
            if claim.state in (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED) and claim.approved_amount:
                desk.pay(claim, days_ago=days_ago - 3)
        made += 1
    return made


def load_claims(session: Session, rng: random.Random, clock: DemoClock, *, fake: Faker, settings: Settings,
                storage: Storage, consortium: ConsortiumKey, partners: dict[str, DemoPartner],
                background: int) -> ClaimsLoaded:
    """Every showcase scenario, then ``background`` claims on the policy history."""
    desk = DemoDesk(session, clock, settings, storage, consortium)
    products = {p.code: p for p in session.scalars(select(Product))}
    loaded = ClaimsLoaded()
    show = _Showcase(desk, rng, fake, products, partners, loaded)
    scenarios = {
        "fastClaimPaid": show.fast_claim_paid, "closed": show.closed, "documentsPending": show.documents_pending,
        "underReview": show.under_review, "approved": show.approved, "partiallyApproved": show.partially_approved,
        "rejected": show.rejected, "reopened": show.reopened, "investigating": show.investigating,
        "directBilled": show.direct_billed, "draft": show.draft,
    }
    for name, scenario in scenarios.items():
        loaded.showcase[name] = scenario()
    loaded.background = _background(desk, rng, background, {p.id: p.code for p in products.values()},
                                    exclude={c.customer_id for c in loaded.showcase.values()})
    return loaded
