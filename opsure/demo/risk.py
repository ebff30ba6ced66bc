"""Shared risk flags the demo insurer publishes on blinded ID numbers of demo customers.

The insurer blinds on its own side with the consortium key (``<data_dir>/keys/consortium.key``)
and publishes through the partners service, so each flag is a ledger record like any other.
The claims scenarios publish the one flag a claim's risk profile then matches; this module
adds a few more on customers without claims, for the risk look-ups to find.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsure.demo.actors import audit
from opsure.demo.clock import DemoClock
from opsure.demo.partners import DemoPartner
from partners import risk
from partners.models import RiskFlag
from resolvers.claims.models import Claim
from resolvers.policies import service as policy_service
from resolvers.policies.models import Customer
from schema.relay import encode_global_id

__all__ = ["EXTRA_FLAGS", "load_risk_flags", "publish"]

#: Flags on customers without claims: (flag code, level).
EXTRA_FLAGS = (("FREQUENT_CLAIMANT", "medium"), ("DOCUMENT_FORGERY", "high"), ("UNDISCLOSED_CONDITION", "medium"))


def publish(session: Session, insurer: DemoPartner, consortium: risk.ConsortiumKey, *, customer_id: int,
            flag_code: str, level: str, at: dt.datetime) -> RiskFlag:
    """The insurer blinds the customer's ID number and publishes a flag on it."""
    id_number = policy_service.customer_id_number(session, customer_id=customer_id)
    if id_number is None:
        raise ValueError(f"customer {customer_id} has no ID number")
    blinded = consortium.blind(id_number)
    flag = risk.publish_flag(session, principal=insurer.principal, blinded_id=blinded, flag_code=flag_code,
                             level=level, now=at)
    audit(session, insurer.principal, "publishRiskFlag", {"blindedId": blinded, "flagCode": flag_code,
                                                          "level": level}, target=encode_global_id("RiskFlag", flag.id))
    return flag


def load_risk_flags(session: Session, rng: random.Random, clock: DemoClock, *, insurer: DemoPartner,
                    consortium: risk.ConsortiumKey) -> list[RiskFlag]:
    """Publish :data:`EXTRA_FLAGS` on customers who have no claim (drawn by ``rng``)."""
    without_claims = list(session.scalars(
        select(Customer.id).where(~select(Claim.id).where(Claim.customer_id == Customer.id).exists())
        .order_by(Customer.id)))
    chosen = rng.sample(without_claims, min(len(EXTRA_FLAGS), len(without_claims)))
    return [publish(session, insurer, consortium, customer_id=cid, flag_code=code, level=level,
                    at=clock.at(25 - n, 16))
            for n, (cid, (code, level)) in enumerate(zip(chosen, EXTRA_FLAGS, strict=False))]
