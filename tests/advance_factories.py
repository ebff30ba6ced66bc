"""Advance factories: a credit provider's signed report for a policy's case, and applications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from core.auth import Principal, Role
from partners import signed_records
from partners.models import AssignmentKind, PartnerKind, SignedRecord
from resolvers.advances import service
from resolvers.advances.models import Advance
from resolvers.policies.models import Policy
from tests.partner_factories import (
    DOMAIN,
    credit_message,
    make_assignment,
    make_key,
    make_partner,
    partner_principal,
    sign,
)

AGENT = Principal(subject="agent-advances", role=Role.AGENT)
OFFICER = Principal(subject="adjuster-advances", role=Role.ADJUSTER)
CONFIG = service.AdvanceConfig()


def credit_report(session: Session, policy: Policy, *, band: int, issued_on: dt.date, now: dt.datetime,
                  case: str | None = None) -> SignedRecord:
    """A credit provider, assigned the policy's advance case, signs a report with ``band``."""
    bureau = make_partner(session, kind=PartnerKind.CREDIT_PROVIDER, now=now)
    _key, account = make_key(session, bureau, now=now)
    assignment = make_assignment(session, bureau, kind=AssignmentKind.CREDIT_REPORT,
                                 case_reference=case or f"ADV-{policy.number}", now=now)
    payload, signature = sign(account, "CreditReport", credit_message(
        assignment, account.address, scoreBand=band, issuedOn=issued_on.isoformat()))
    return signed_records.submit_signed_record(session, principal=partner_principal(bureau), domain=DOMAIN,
                                               typed_data=payload, signature=signature, now=now)


def apply(session: Session, policy: Policy, *, today: dt.date, now: dt.datetime, amount: Decimal = Decimal("3000.00"),
          report: SignedRecord | None = None, principal: Principal = AGENT,
          config: service.AdvanceConfig = CONFIG) -> Advance:
    """An agent applies for the policy's customer, admitted three days ago with pneumonia."""
    return service.apply_advance(
        session, principal=principal, policy_id=policy.id, diagnosis_code="J18.9",
        admission_date=today - dt.timedelta(days=3), hospital="浙江大学医学院附属第一医院", amount=amount,
        credit_report_id=report.id if report else None, today=today, now=now, config=config)


def balanced(advance: Advance) -> bool:
    """advanced = repaid + offset + outstanding + written off."""
    return advance.advanced == advance.repaid + advance.offset_amount + advance.outstanding + advance.written_off
