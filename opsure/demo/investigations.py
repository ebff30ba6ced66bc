"""Demo investigations in every state, driven through the investigations services as their actors would;
and the claims managers' qualification review of assessor firms (one due for review, one renewed).

Claims managers give the assessor firms their profiles (a second approved firm is registered
and reviewed here; the suspended one gets a profile but never work). The dispatch round opens
an investigation for every claim risk control sent to INVESTIGATING and offers it; an adjuster
sends seven claims from the review queue (claimants sold a policy here). Then, on background claims only (the claims
showcase keeps its states): one investigation is completed (trail, signed report, accepted),
one ends with its report rejected after asking for more, one waits for review, two are in
progress (one missed its first visit), one was declined and reassigned, and one offer
expired unanswered, so the SLA round escalated it and it waits for a firm again. Each action
leaves the audit entry of the mutation a client would have called.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal

from eth_account.signers.local import LocalAccount
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.settings import Settings
from opsure.demo.actors import ADJUSTER, CHECKER, MAKER, audit
from opsure.demo.claims import HOSPITALS
from opsure.demo.clock import DemoClock
from opsure.demo.desk import DemoDesk
from opsure.demo.files import pdf
from opsure.demo.partners import DemoPartner
from opsure.demo.policies import sell_policy
from opsure.demo.signing import demo_signer, sign
from partners import keys, review
from partners import service as registry
from partners.eip712 import Domain
from partners.models import Partner, PartnerKind
from partners.risk import ConsortiumKey
from resolvers.claims.models import DocumentKind
from resolvers.claims.service import LineItemSpec
from resolvers.claims.storage import Storage
from resolvers.investigations import dispatch, firms, qualification, service
from resolvers.investigations.models import (
    DeclineReason,
    EventKind,
    Investigation,
    InvestigationCheck,
    InvestigationState,
    ReviewOutcome,
)
from resolvers.investigations.qualification import QualificationDecision
from resolvers.policies.models import Product
from schema.relay import encode_global_id

__all__ = ["load_investigations"]

HANGZHOU, SHANGHAI, BEIJING, NANJING = "330100", "310100", "110100", "320100"


@dataclass(frozen=True)
class _Firm:
    partner_id: int
    code: str
    principal: Principal
    signer: LocalAccount


def _gid(inv: Investigation) -> str:
    return encode_global_id("Investigation", inv.id)


def _approved_firm(session: Session, clock: DemoClock, code: str, name: str, licence: str, until: dt.date,
                   seed: int) -> int:
    """An assessor firm registered by the agent and approved by the manager (maker-checker), with a signer key."""
    at = clock.at(45, 10)
    partner = registry.register_partner(
        session, principal=MAKER, code=code, name=name, kind=PartnerKind.ASSESSOR_FIRM,
        licences=[registry.LicenceSpec(licence, "演示国家金融监督管理总局", clock.day(400), until)], now=at)
    audit(session, MAKER, "registerPartner", {"code": partner.code, "kind": partner.kind.value},
          target=encode_global_id("Partner", partner.id))
    review.start_review(session, principal=CHECKER, partner_id=partner.id, now=at)
    review.approve(session, principal=CHECKER, partner_id=partner.id, now=at, note="licence checked")
    keys.register_key(session, principal=CHECKER, partner_id=partner.id, address=demo_signer(seed, code).address,
                      now=at)
    return partner.id


def _qualification_review(session: Session, clock: DemoClock, seed: int) -> None:
    """Claims managers' qualification review: one firm due for review (its licence ends in 20 days), one whose
    licence lapsed renewed with its new licence through the partner registry."""
    for code, name, licence, until in (("DEMO-ASSESSOR-4", "演示正衡公估", "NFRA-DEMO-0104", clock.day(-20)),
                                       ("DEMO-ASSESSOR-5", "演示信诚公估", "NFRA-DEMO-0105", clock.day(3))):
        pid = _approved_firm(session, clock, code, name, licence, until, seed)
        firms.set_profile(session, principal=CHECKER, partner_id=pid, regions=["440300"], capacity=10,
                          quality_score=Decimal("75"), now=clock.at(40, 10))
    lapsed = session.scalars(select(Partner).where(Partner.code == "DEMO-ASSESSOR-5")).one()
    firm_id = encode_global_id("Partner", lapsed.id)
    qualification.review_qualification(
        session, principal=CHECKER, partner_id=lapsed.id, decision=QualificationDecision.RENEW,
        licence=registry.LicenceSpec("NFRA-DEMO-0105-R", "演示国家金融监督管理总局", clock.day(1), clock.day(-365)),
        now=clock.at(1, 11))
    audit(session, CHECKER, "reviewFirmQualification", {"firmId": firm_id, "decision": "renew"}, target=firm_id)


def _second_firm(session: Session, clock: DemoClock, seed: int) -> _Firm:
    """Another assessor firm, through the maker-checker review, with a signer key."""
    at = clock.at(45, 10)
    partner = registry.register_partner(
        session, principal=MAKER, code="DEMO-ASSESSOR-3", name="演示衡信保险公估", kind=PartnerKind.ASSESSOR_FIRM,
        licences=[registry.LicenceSpec("NFRA-DEMO-0103", "演示国家金融监督管理总局", clock.day(400),
                                       clock.day(-700))], now=at)
    audit(session, MAKER, "registerPartner", {"code": partner.code, "kind": partner.kind.value},
          target=encode_global_id("Partner", partner.id))
    review.start_review(session, principal=CHECKER, partner_id=partner.id, now=at)
    review.approve(session, principal=CHECKER, partner_id=partner.id, now=at, note="licence checked")
    signer = demo_signer(seed, partner.code)
    keys.register_key(session, principal=CHECKER, partner_id=partner.id, address=signer.address, now=at)
    principal = Principal(subject="partner-client:demo-assessor-3", role=Role.PARTNER, partner_id=partner.id)
    return _Firm(partner.id, partner.code, principal, signer)


def _demo_firm(partner: DemoPartner) -> _Firm:
    assert partner.signer is not None
    return _Firm(partner.partner.id, partner.spec.code, partner.principal, partner.signer)


class _Desk:
    """The investigation steps of the demo, each with its audit entry."""

    def __init__(self, session: Session, clock: DemoClock, settings: Settings, domain: Domain,
                 firms_by_id: dict[int, _Firm]) -> None:
        self.s, self.clock, self.extra, self.domain, self.firms = session, clock, settings.extra, domain, firms_by_id
        self.nonce = 7_000_000

    def firm_of(self, inv: Investigation) -> _Firm:
        offer = service.get_assignment(self.s, principal=ADJUSTER, assignment_id=inv.current_assignment_id or 0)
        return self.firms[offer.partner_id]

    def accept(self, inv: Investigation, days_ago: int) -> _Firm:
        firm = self.firm_of(inv)
        service.accept_offer(self.s, principal=firm.principal, assignment_id=inv.current_assignment_id or 0,
                             now=self.clock.at(days_ago, 11), extra=self.extra)
        audit(self.s, firm.principal, "acceptInvestigationOffer",
              {"offerId": encode_global_id("InvestigationOffer", inv.current_assignment_id or 0)}, target=_gid(inv))
        return firm

    def trail(self, inv: Investigation, firm: _Firm, kind: EventKind, days_ago: int, *, note: str | None = None,
              finding: str | None = None) -> None:
        at = self.clock.at(days_ago, 15)
        row = service.record_trail_event(self.s, principal=firm.principal, investigation_id=inv.id, kind=kind,
                                         occurred_at=at - dt.timedelta(hours=1), note=note, finding_code=finding,
                                         firm_code=firm.code, now=at)
        audit(self.s, firm.principal, "recordInvestigationEvent", {"investigationId": _gid(inv), "kind": kind.value},
              target=encode_global_id("InvestigationTrailEvent", row.id))

    def report(self, inv: Investigation, firm: _Firm, days_ago: int, conclusion: int) -> None:
        self.nonce += 1
        message = {"investigationId": service.signed_id(inv.current_assignment_id or 0),
                   "caseReference": service.reference(inv.id), "findingsCommitment": "0x" + secrets.token_hex(32),
                   "conclusionCode": conclusion, "assessor": firm.signer.address.lower(), "nonce": self.nonce,
                   "deadline": int((self.clock.now + dt.timedelta(days=365)).timestamp())}
        typed, signature = sign(firm.signer, "SurveyReport", message, self.domain)
        service.submit_survey_report(self.s, principal=firm.principal, investigation_id=inv.id, domain=self.domain,
                                     typed_data=typed, signature=signature, now=self.clock.at(days_ago, 17))
        audit(self.s, firm.principal, "submitSurveyReport", {"investigationId": _gid(inv)}, target=_gid(inv))

    def review(self, inv: Investigation, outcome: ReviewOutcome, days_ago: int, note: str | None = None) -> None:
        service.review_report(self.s, principal=ADJUSTER, investigation_id=inv.id, outcome=outcome, note=note,
                              expected_version=None, now=self.clock.at(days_ago, 10), extra=self.extra)
        audit(self.s, ADJUSTER, "reviewInvestigation", {"investigationId": _gid(inv), "outcome": outcome.value},
              target=_gid(inv))


def load_investigations(session: Session, rng: random.Random, clock: DemoClock, *, fake: Faker, settings: Settings,
                        storage: Storage, consortium: ConsortiumKey, partners: dict[str, DemoPartner], domain: Domain,
                        seed: int, keep: set[int]) -> dict[str, int]:
    """Investigations in every state on claims not in ``keep`` (the showcase); returns their ids by scenario."""
    extra = settings.extra
    first, suspended = _demo_firm(partners["assessorFirm"]), partners["suspendedAssessor"]
    second = _second_firm(session, clock, seed)
    for partner_id, regions, capacity, quality in ((first.partner_id, [HANGZHOU, SHANGHAI, BEIJING], 40, "88"),
                                                   (second.partner_id, [HANGZHOU, NANJING], 20, "72"),
                                                   (suspended.partner.id, [HANGZHOU], 20, "95")):
        firms.set_profile(session, principal=CHECKER, partner_id=partner_id, regions=regions, capacity=capacity,
                          quality_score=Decimal(quality), now=clock.at(40, 10))
        audit(session, CHECKER, "setAssessorFirmProfile", {"firmId": encode_global_id("Partner", partner_id)},
              target=encode_global_id("AssessorFirmProfile", partner_id))
    dispatch.open_for_risky_claims(session, now=clock.at(10, 9), extra=extra)  # the risk step's claims
    desk = DemoDesk(session, clock, settings, storage, consortium)
    product = session.scalars(select(Product).where(Product.code == "CRITICAL-CARE")).one()
    for n in range(7):  # claims an adjuster sends to investigation from the review queue
        policy = sell_policy(session, rng, clock, fake=fake, product=product, started_days_ago=300)
        claim = desk.report(policy, event_days_ago=18, stay_days=5, reported_days_ago=12, hospital=HOSPITALS[n % 3],
                            diagnosis="K35.8", items=[LineItemSpec("SURG-12", "inpatient", Decimal(6100 + 100 * n), 1),
                                                      LineItemSpec("BED-01", "inpatient", Decimal("1500.00"), 5)])
        desk.upload(claim, DocumentKind.INVOICE, "invoice.pdf", pdf("Medical invoice (demo)", [
            f"Claim {claim.number}", f"Total CNY {claim.claimed_amount}"]), days_ago=12)
        claim = desk.submit(claim, days_ago=12)
        inv = service.request_investigation(
            session, principal=ADJUSTER, claim_id=claim.id, checks=[InvestigationCheck.HOSPITAL_VISIT,
                                                                    InvestigationCheck.BILLING],
            instructions="核对住院天数与床位记录", region=HANGZHOU, report_due_on=None, now=clock.at(10, 9),
            extra=extra)
        audit(session, ADJUSTER, "requestInvestigation", {"claimId": encode_global_id("Claim", claim.id)},
              target=_gid(inv))
    dispatch.dispatch_pending(session, now=clock.at(10, 10), extra=extra)
    steps = _Desk(session, clock, settings, domain, {first.partner_id: first, second.partner_id: second})
    mine = [i for i in session.scalars(service.investigations_query(ADJUSTER, states=(InvestigationState.ASSIGNED,))
                                       .order_by(Investigation.id)) if i.claim_id not in keep]
    completed, rejected, reported, visited, no_visit, declined, expiring = mine[:7]

    firm = steps.accept(completed, 9)
    steps.trail(completed, firm, EventKind.VISIT, 8, note="病房走访, 床位记录一致")
    steps.trail(completed, firm, EventKind.CALL, 8, note="与主治医生电话核实")
    steps.trail(completed, firm, EventKind.DOCUMENT, 7)
    steps.trail(completed, firm, EventKind.FINDING, 7, finding="STAY_CONFIRMED")
    steps.report(completed, firm, 6, conclusion=1)
    steps.review(completed, ReviewOutcome.ACCEPTED, 5)

    firm = steps.accept(rejected, 9)
    steps.trail(rejected, firm, EventKind.VISIT, 8)
    steps.report(rejected, firm, 7, conclusion=2)
    steps.review(rejected, ReviewOutcome.MORE_REQUESTED, 6, note="请补充医院收费明细")
    steps.trail(rejected, firm, EventKind.DOCUMENT, 5)
    steps.report(rejected, firm, 4, conclusion=2)
    steps.review(rejected, ReviewOutcome.REJECTED, 3, note="结论与收费明细不符")

    firm = steps.accept(reported, 8)
    steps.trail(reported, firm, EventKind.VISIT, 7)
    steps.trail(reported, firm, EventKind.FINDING, 6, finding="BILLING_MISMATCH")
    steps.report(reported, firm, 2, conclusion=3)

    firm = steps.accept(visited, 6)
    steps.trail(visited, firm, EventKind.VISIT, 5)
    steps.accept(no_visit, 6)  # no visit: the SLA round escalates it

    refuser = steps.firm_of(declined)
    service.decline_offer(session, principal=refuser.principal, assignment_id=declined.current_assignment_id or 0,
                          reason=DeclineReason.NO_CAPACITY, now=clock.at(9, 15))
    audit(session, refuser.principal, "declineInvestigationOffer", {"reason": "no_capacity"}, target=_gid(declined))
    service.assign(session, principal=ADJUSTER, investigation_id=declined.id, partner_id=None, expected_version=None,
                   now=clock.now - dt.timedelta(minutes=30), extra=extra)
    audit(session, ADJUSTER, "assignInvestigation", {"investigationId": _gid(declined)}, target=_gid(declined))

    dispatch.check_slas(session, now=clock.now)  # the offer of `expiring` lapsed days ago; no_visit missed its visit
    _qualification_review(session, clock, seed)  # after every dispatch: the two firms take no demo work
    done: dict[str, int] = {}
    for name, inv in (("completed", completed), ("reportRejected", rejected), ("reported", reported),
                      ("inProgress", visited), ("escalated", no_visit), ("reassigned", declined),
                      ("expired", expiring)):
        done[name] = inv.id
    return done
