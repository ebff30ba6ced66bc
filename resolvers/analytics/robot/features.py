"""What the robot looks at per customer, from underwriting, policy servicing and claims (their read services).

Features (``FEATURES`` order), as of a business date:

* ``early_claims`` — claims whose event fell within 30 days after the policy's waiting period ended;
* ``endorse_then_claim`` — claims with an endorsement (beneficiary or contact) in the 60 days before;
* ``policies_90d`` — the most policies issued in any 90 days;
* ``claims_365`` — claims with an event in the last 365 days;
* ``claim_premium_ratio`` — log(1 + claimed in the last 365 days / premium written in the last 730);
* ``shared_flags`` — risk flags consortium insurers shared on the person (blinded id);
* ``declined_quotes`` — quotes declined or referred to manual underwriting.

Example::

    rows = customer_features(session, customer_ids=[7, 8], today=date(2026, 11, 28), flags={7: 1})
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from resolvers.claims.facts import ClaimBrief, customer_claims
from resolvers.policies.facts import CustomerHistory, customer_histories

__all__ = ["EARLY_DAYS", "ENDORSE_DAYS", "FEATURES", "CustomerFeatures", "customer_features", "features_of"]

FEATURES: tuple[str, ...] = ("early_claims", "endorse_then_claim", "policies_90d", "claims_365",
                             "claim_premium_ratio", "shared_flags", "declined_quotes")
EARLY_DAYS = 30
ENDORSE_DAYS = 60


@dataclass(frozen=True)
class CustomerFeatures:
    """One customer's feature values (``FEATURES`` order) and their raw counts for the reasons."""

    customer_id: int
    values: tuple[float, ...]

    def value(self, name: str) -> float:
        """One feature's value by name."""
        return self.values[FEATURES.index(name)]


def _max_in_window(times: Sequence[dt.date], days: int) -> int:
    best, start = 0, 0
    for end, day in enumerate(times):
        while (day - times[start]).days >= days:
            start += 1
        best = max(best, end - start + 1)
    return best


def features_of(customer_id: int, history: CustomerHistory, claims: Sequence[ClaimBrief], *, today: dt.date,
                shared_flags: int = 0) -> CustomerFeatures:
    """A customer's features from their history and claims (pure: the training data uses the same definitions)."""
    by_policy = {p.id: p for p in history.policies}
    early = 0
    endorse = 0
    for c in claims:
        p = by_policy.get(c.policy_id)
        if p is not None and 0 <= (c.event_date - (p.period_start + dt.timedelta(days=p.waiting_period_days))).days \
                <= EARLY_DAYS:
            early += 1
        if any(0 <= (c.event_date - on).days <= ENDORSE_DAYS for on, _ in history.endorsements):
            endorse += 1
    issued = sorted(p.issued_at.date() for p in history.policies)
    recent = [c for c in claims if 0 <= (today - c.event_date).days <= 365]
    claimed = sum((c.claimed_amount for c in recent), Decimal(0))
    premium = sum((p.premium for p in history.policies if (today - p.issued_at.date()).days <= 730), Decimal(0))
    ratio = math.log1p(float(claimed / premium) if premium > 0 else float(claimed > 0) * 10.0)
    return CustomerFeatures(customer_id, (float(early), float(endorse), float(_max_in_window(issued, 90)),
                                          float(len(recent)), ratio, float(shared_flags),
                                          float(history.declined_quotes)))


def customer_features(session: Session, *, customer_ids: Sequence[int], today: dt.date,
                      flags: Mapping[int, int] | None = None) -> list[CustomerFeatures]:
    """The features of these customers, read in three queries (``flags``: shared flags per customer)."""
    histories = customer_histories(session, customer_ids=customer_ids)
    claims = customer_claims(session, customer_ids=customer_ids)
    return [features_of(cid, histories[cid], claims.get(cid, []), today=today, shared_flags=(flags or {}).get(cid, 0))
            for cid in sorted(histories)]
