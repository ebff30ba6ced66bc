"""Demo claims operations: two rule versions, a QA round and reviews, as their actors would do them.

A risk manager drafts a second version of the claim-risk rule set (the built-in one plus a
rule for large weekend admissions), tests it against the last 50 submitted claims and
publishes it, so the library shows two published versions with the new one live (claims
keep the version that judged them). Then the QA sampling round draws a share of each
adjuster's and product's decided claims, and a QA reviewer scores a few of them, one with
findings. A claims manager sets the first product's inpatient flow template, assigns the oldest
claims under review to the demo adjuster, and the reminder round reminds documents past due.
Each action leaves the audit entry of the mutation a client would have called.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from opsure.demo.actors import ADJUSTER, CHECKER, audit
from opsure.demo.clock import DemoClock
from resolvers.claims.assignment import assign_claim
from resolvers.claims.models import Claim, ClaimState, DocumentKind
from resolvers.claims.ops import qa, templates
from resolvers.claims.ops.models import ClaimType, QaFinding, QaSample, QaStatus
from resolvers.claims.reminders import remind_overdue
from resolvers.claims.risk import rules_service
from resolvers.claims.risk.rules import available_versions, builtin_document
from resolvers.policies.models import Product
from schema.relay import encode_global_id

__all__ = ["QA_REVIEWER", "RISK_MANAGER", "OpsDemo", "load_claims_ops"]

#: The risk manager who manages the rule library (a manager: RULE_MANAGERS).
RISK_MANAGER = CHECKER
#: The QA reviewer who scores sampled claims.
QA_REVIEWER = Principal(subject="demo:qa-liu", role=Role.QA)
DEMO_LABEL = "2026.07-demo"
_WEEKEND_RULE = {
    "_id": "r11", "_description": "A large bill for a weekend admission.", "amount": "> 20000", "items": "",
    "policyDays": "", "claims365": "", "dup": "", "dx": "", "maxShare": "", "reportDelay": "", "sharedFlags": "",
    "weekend": "true", "code": "'WEEKEND_LARGE_ADMISSION'", "score": "20", "level": "'medium'",
    "message": "'A large bill for a weekend admission.'",
}


@dataclass(frozen=True)
class OpsDemo:
    """What the operations demo left: the new live version's label, its test, the QA samples drawn."""

    label: str
    tested: int
    would_change: int
    sampled: int
    reviewed: int


def _draft_document() -> dict[str, object]:
    document = copy.deepcopy(builtin_document(available_versions()[-1]))
    document.pop("version", None)
    table = next(n["content"] for n in document["nodes"] if n["type"] == "decisionTableNode")
    table["rules"].append(dict(_WEEKEND_RULE))
    return document


def _flow_template_and_queue(session: Session, clock: DemoClock) -> None:
    """The first product's inpatient flow (invoice and discharge summary, investigation above 50,000), the review
    queue's oldest claims assigned to the demo adjuster, and a reminder round for documents past due."""
    product = session.scalars(select(Product).order_by(Product.id)).first()
    if product is not None:
        templates.set_template(session, principal=RISK_MANAGER, product_id=product.id, claim_type=ClaimType.INPATIENT,
                               required_documents=[DocumentKind.INVOICE, DocumentKind.DISCHARGE_SUMMARY],
                               investigate_above=Decimal("50000"))
        audit(session, RISK_MANAGER, "setClaimFlowTemplate", {"productId": product.id, "claimType": "INPATIENT"})
    waiting = session.scalars(select(Claim).where(Claim.state == ClaimState.UNDER_REVIEW, Claim.assignee.is_(None))
                              .order_by(Claim.id).limit(3))
    for claim in waiting:
        assign_claim(session, principal=RISK_MANAGER, claim_id=claim.id, assignee=ADJUSTER.subject,
                     expected_version=None)
        audit(session, RISK_MANAGER, "assignClaim", {"claimId": claim.id, "assignee": ADJUSTER.subject},
              target=encode_global_id("Claim", claim.id))
    remind_overdue(session, at=clock.now)


def load_claims_ops(session: Session, rng: random.Random, clock: DemoClock) -> OpsDemo:
    """Draft, test and publish a second rule version; draw QA samples and review some."""
    now = clock.now
    draft = rules_service.draft_version(session, principal=RISK_MANAGER, label=DEMO_LABEL, document=_draft_document(),
                                        description="adds WEEKEND_LARGE_ADMISSION (weekend admission, bill > 20,000)",
                                        now=now)
    version_id = encode_global_id("ClaimRuleVersion", draft.id)
    audit(session, RISK_MANAGER, "draftClaimRuleVersion", {"label": DEMO_LABEL}, target=version_id)
    report = rules_service.test_version(session, principal=RISK_MANAGER, version_id=draft.id, last=50, now=now)
    audit(session, RISK_MANAGER, "testClaimRuleVersion", {"versionId": version_id, "last": 50}, target=version_id)
    rules_service.publish_version(session, principal=RISK_MANAGER, version_id=draft.id,
                                  expected_version=draft.version, now=now)
    audit(session, RISK_MANAGER, "publishClaimRuleVersion", {"versionId": version_id}, target=version_id)
    _flow_template_and_queue(session, clock)
    sampled = qa.draw_samples(session, at=now, config=qa.QaConfig(share=0.1))
    pending = list(session.scalars(select(QaSample).where(QaSample.status == QaStatus.PENDING)
                                   .order_by(QaSample.id).limit(4)))
    for i, sample in enumerate(pending):
        findings = [QaFinding.POOR_REASON] if i == 0 else []
        score = 80 if findings else rng.choice((95, 100))
        findings = findings if score < 100 else []
        if score < 100 and not findings:
            findings = [QaFinding.SLA_MISSED]
        qa.record_review(session, principal=QA_REVIEWER, sample_id=sample.id, score=score, findings=findings,
                         note="demo review", now=now)
        audit(session, QA_REVIEWER, "recordQaReview", {"sampleId": sample.id, "score": score},
              target=encode_global_id("ClaimQaSample", sample.id))
    return OpsDemo(label=DEMO_LABEL, tested=len(report.results), would_change=report.changed, sampled=sampled,
                   reviewed=len(pending))
