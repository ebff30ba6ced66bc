"""The claims domain's events: one typed payload per fact, appended in the transaction that made it.

Every event is about a Claim (aggregate ``Claim``, with the version committed with it) and is
visible to ``CLAIM_READERS`` (the readers of ``Claim``) unless it carries a field fewer roles may
read: a risk assessment carries ``Claim.riskLevel``/``riskScore``/``rulesVersion``, so only
``RISK_READERS`` see it (never a customer or a hospital). Subscribers scope rows themselves (a
customer's own claims, a hospital's billed ones: ``customer_id``, ``partner_id``).

Every move of the state machine appends exactly one event: ``claim.submitted``,
``claim.adjudicated`` (approved, partially approved, rejected), ``claim.paid``, or
``claim.state_changed`` for the other moves; each carries the states before and after and the
reason code, so a live queue reads every move the same way.

Example::

    moved(session, claim, ClaimState.DRAFT, ClaimState.SUBMITTED, actor=principal, reason=reason)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from sqlalchemy.orm import Session

from core.auth import Principal
from core.event_stream import Actor, Aggregate, EventPayload, append, readers, register_event_type
from core.roles import CLAIM_READERS, RISK_READERS
from resolvers.claims.models import Claim, ClaimChannel, ClaimState, RiskLevel
from resolvers.claims.reasons import Reason, ReasonCode

__all__ = [
    "CLAIM_EVENT_TYPES",
    "ClaimAdjudicated",
    "ClaimFact",
    "ClaimMoved",
    "ClaimPaid",
    "ClaimReported",
    "ClaimRiskAssessed",
    "ClaimStateChanged",
    "ClaimSubmitted",
    "moved",
    "publish",
    "reported",
    "risk_assessed",
]


class ClaimFact(EventPayload):
    """What every claim event carries: the claim, its insured customer and billing hospital (if any)."""

    claim_id: int
    customer_id: int
    partner_id: int | None = None


class ClaimReported(ClaimFact):
    """A claim was reported (a draft)."""

    policy_id: int
    channel: ClaimChannel
    claimed_amount: Decimal


class ClaimMoved(ClaimFact):
    """A move of the state machine: the states before and after, and why (a code)."""

    from_state: ClaimState
    to_state: ClaimState
    reason_code: ReasonCode


class ClaimSubmitted(ClaimMoved):
    """A draft was submitted for assessment."""

    claimed_amount: Decimal


class ClaimAdjudicated(ClaimMoved):
    """A benefit decision: approved, partially approved or rejected (``to_state``)."""

    approved_amount: Decimal
    deductible_applied: Decimal


class ClaimPaid(ClaimMoved):
    """A payment made the claim paid; ``paid_amount`` is the total paid so far."""

    paid_amount: Decimal


class ClaimStateChanged(ClaimMoved):
    """Any other move (to review, documents pending, investigating, closed, reopened...)."""


class ClaimRiskAssessed(ClaimFact):
    """Risk control rated the claim: only risk readers see it (it carries the score)."""

    risk_level: Annotated[RiskLevel, readers(RISK_READERS, source="Claim.riskLevel")]
    risk_score: Annotated[float, readers(RISK_READERS, source="Claim.riskScore")]
    rules_version: Annotated[str | None, readers(RISK_READERS, source="Claim.rulesVersion")] = None


#: Every claims event type, by name.
CLAIM_EVENT_TYPES: dict[str, type[ClaimFact]] = {
    "claim.reported": ClaimReported,
    "claim.submitted": ClaimSubmitted,
    "claim.risk_assessed": ClaimRiskAssessed,
    "claim.adjudicated": ClaimAdjudicated,
    "claim.paid": ClaimPaid,
    "claim.state_changed": ClaimStateChanged,
}
for _name, _cls in CLAIM_EVENT_TYPES.items():
    register_event_type(_name, 1, _cls, aggregate="Claim", readers=CLAIM_READERS)

_DECIDED = frozenset({ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.REJECTED})


def _actor(actor: Principal | Actor) -> Actor:
    return actor if isinstance(actor, Actor) else Actor.of(actor)


def publish(session: Session, claim: Claim, payload: ClaimFact, *, actor: Principal | Actor) -> None:
    """Append ``payload`` about ``claim`` to the session's transaction (with the version it commits)."""
    append(session, payload, aggregate=Aggregate("Claim", claim.id), actor=_actor(actor), versioned=claim)


def reported(session: Session, claim: Claim, *, actor: Principal | Actor) -> None:
    """``claim.reported`` for a new draft."""
    publish(session, claim, ClaimReported(
        claim_id=claim.id, customer_id=claim.customer_id, partner_id=claim.partner_id, policy_id=claim.policy_id,
        channel=claim.channel, claimed_amount=claim.claimed_amount), actor=actor)


def moved(session: Session, claim: Claim, before: ClaimState, after: ClaimState, *, actor: Principal | Actor,
          reason: Reason) -> None:
    """The one event of a state move (its type follows the state reached)."""
    common: dict[str, Any] = {"claim_id": claim.id, "customer_id": claim.customer_id, "partner_id": claim.partner_id,
              "from_state": before, "to_state": after, "reason_code": reason.code}
    payload: ClaimMoved
    if after is ClaimState.SUBMITTED:
        payload = ClaimSubmitted(**common, claimed_amount=claim.claimed_amount)
    elif after in _DECIDED:
        payload = ClaimAdjudicated(**common, approved_amount=claim.approved_amount or Decimal(0),
                                   deductible_applied=claim.deductible_applied or Decimal(0))
    elif after is ClaimState.PAID:
        payload = ClaimPaid(**common, paid_amount=claim.paid_amount)
    else:
        payload = ClaimStateChanged(**common)
    publish(session, claim, payload, actor=actor)


def risk_assessed(session: Session, claim: Claim, *, actor: Principal | Actor) -> None:
    """``claim.risk_assessed`` once risk control has rated the claim (risk readers only)."""
    assert claim.risk_level is not None and claim.risk_score is not None
    publish(session, claim, ClaimRiskAssessed(
        claim_id=claim.id, customer_id=claim.customer_id, partner_id=claim.partner_id, risk_level=claim.risk_level,
        risk_score=float(claim.risk_score), rules_version=claim.rules_version), actor=actor)
