"""Investigation factories: assessor firms with profiles and keys, claims to investigate, signed reports."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from decimal import Decimal
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from partners.models import Partner, PartnerKind
from resolvers.claims import service as claims
from resolvers.claims.models import Claim, ClaimState
from resolvers.investigations import firms, service
from resolvers.investigations.models import Investigation, InvestigationAssignment, InvestigationCheck
from tests.claim_factories import ADJUSTER, add_invoice, make_claim_policy, report
from tests.partner_factories import DEADLINE, make_key, make_partner, partner_principal, sign

MANAGER = Principal(subject="claims-manager", role=Role.MANAGER)
#: Monday 2026-11-23 10:00 in Beijing: a business day with business hours ahead.
T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
HANGZHOU = "330100"
_seq = itertools.count(1)

__all__ = ["ADJUSTER", "HANGZHOU", "MANAGER", "T0", "firm_principal", "make_firm", "request", "review_claim",
           "risky_claim", "survey_report"]


def make_firm(session: Session, *, regions: tuple[str, ...] = (HANGZHOU,), capacity: int = 5,
              quality: str = "80", kind: PartnerKind = PartnerKind.ASSESSOR_FIRM) -> tuple[Partner, LocalAccount]:
    """An approved assessor firm with a signer key and (for assessor firms) an investigation profile."""
    partner = make_partner(session, kind=kind)
    _, account = make_key(session, partner)
    if kind is PartnerKind.ASSESSOR_FIRM:
        firms.set_profile(session, principal=MANAGER, partner_id=partner.id, regions=regions, capacity=capacity,
                          quality_score=Decimal(quality), now=T0)
    return partner, account


def firm_principal(partner: Partner | int) -> Principal:
    """The firm's partner-token principal."""
    return partner_principal(partner)


def risky_claim(session: Session) -> Claim:
    """A claim on a three-day-old policy: risk control sends it to INVESTIGATING."""
    policy = make_claim_policy(session, issued_days_ago=5)
    claim = report(session, policy, days_ago=4)
    today = T0.date()
    claim = claims.submit_claim(session, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                                today=today, now=T0)
    assert claim.state is ClaimState.INVESTIGATING, claim.state
    return claim


def review_claim(session: Session) -> Claim:
    """A claim too large for fast-claim, waiting in UNDER_REVIEW."""
    policy = make_claim_policy(session)
    claim = report(session, policy, amount=Decimal("8000.00"),
                   items=[claims.LineItemSpec("SURG-1", "inpatient", Decimal("8000.00"), 1)])
    add_invoice(session, claim)
    claim = claims.submit_claim(session, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                                today=T0.date(), now=T0)
    assert claim.state is ClaimState.UNDER_REVIEW, claim.state
    return claim


def request(session: Session, claim: Claim, *, region: str | None = HANGZHOU, now: dt.datetime = T0,
            **over: Any) -> Investigation:
    """An adjuster's request for an investigation of ``claim``."""
    args: dict[str, Any] = dict(checks=[InvestigationCheck.HOSPITAL_VISIT, InvestigationCheck.BILLING],
                                instructions="visit the ward, check the bed days", region=region,
                                report_due_on=None)
    args.update(over)
    return service.request_investigation(session, principal=ADJUSTER, claim_id=claim.id, now=now, **args)


def survey_report(account: LocalAccount, inv: Investigation, offer: InvestigationAssignment,
                  **over: Any) -> tuple[dict[str, Any], str]:
    """A SurveyReport the firm signs for its live offer of ``inv``."""
    message: dict[str, Any] = {
        "investigationId": service.signed_id(offer.id), "caseReference": service.reference(inv.id),
        "findingsCommitment": "0x" + secrets.token_bytes(32).hex(), "conclusionCode": 1,
        "assessor": account.address.lower(), "nonce": 900_000 + next(_seq), "deadline": DEADLINE,
    }
    message.update(over)
    return sign(account, "SurveyReport", message)
