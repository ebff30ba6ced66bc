"""The policies domain's events: one typed payload per fact, appended in the transaction that made it.

Every event is about a Policy (aggregate ``Policy``, its id and version after the change) and is
visible to ``POLICY_READERS`` (the readers of ``Policy``); subscribers scope rows themselves (a
customer sees only their own policies' events). Payloads carry ids, dates and amounts, never a
personal field: an endorsement names the fields it changed, not their values.

Example::

    publish(session, policy, PolicyIssued(policy_id=p.id, customer_id=p.customer_id, ...), actor=principal)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from core.auth import Principal
from core.event_stream import Actor, Aggregate, EventPayload, append, register_event_type
from core.roles import POLICY_READERS
from resolvers.policies.models import (
    Endorsement,
    EndorsementField,
    EndorsementKind,
    Policy,
    PolicyEventKind,
    Quote,
    UnderwritingOutcome,
)

__all__ = [
    "EXPIRY_ACTOR",
    "KIND_OF_TYPE",
    "POLICY_EVENT_TYPES",
    "PolicyCancelled",
    "PolicyEndorsed",
    "PolicyExpired",
    "PolicyIssued",
    "PolicyLapsed",
    "PolicyRenewed",
    "PolicySurrendered",
    "QuoteDecided",
    "QuoteRequested",
    "ended",
    "endorsed",
    "issued",
    "publish",
    "quote_decided",
    "quoted",
    "renewed",
]

#: Who expires policies: the worker's job, acting on its own.
EXPIRY_ACTOR = Actor.system("policies.expire")


class PolicyFact(EventPayload):
    """What every policy event carries: the policy and its customer (subscribers scope by it)."""

    policy_id: int
    customer_id: int


class PolicyIssued(PolicyFact):
    """A quote was bound into a new policy."""

    product_id: int
    period_start: dt.date
    period_end: dt.date
    premium: Decimal


class PolicyRenewed(PolicyFact):
    """A policy was renewed into a new one (``policy_id``: the new policy)."""

    renewed_from_id: int
    product_id: int
    period_start: dt.date
    period_end: dt.date
    premium: Decimal


class PolicyEnded(PolicyFact):
    """A policy ended on a business date, with its refund (0 when none)."""

    ended_on: dt.date
    refund: Decimal


class PolicyCancelled(PolicyEnded):
    """Cancelled in the cooling-off period (void from the start, full refund)."""


class PolicySurrendered(PolicyEnded):
    """Surrendered by the policyholder (unearned premium less expenses refunded)."""


class PolicyLapsed(PolicyEnded):
    """Lapsed for unpaid premium (no refund)."""


class PolicyExpired(PolicyFact):
    """The period ended without renewal."""

    ended_on: dt.date


class PolicyEndorsed(PolicyFact):
    """An endorsement changed the policy; it names the fields changed, never their values."""

    endorsement_id: int
    kind: EndorsementKind
    changed: tuple[EndorsementField, ...]


#: Every policies event type: name -> (payload class, the PolicyEventKind subscribers see).
POLICY_EVENT_TYPES: dict[str, type[PolicyFact]] = {
    "policy.issued": PolicyIssued,
    "policy.renewed": PolicyRenewed,
    "policy.cancelled": PolicyCancelled,
    "policy.surrendered": PolicySurrendered,
    "policy.lapsed": PolicyLapsed,
    "policy.expired": PolicyExpired,
    "policy.endorsed": PolicyEndorsed,
}
for _name, _cls in POLICY_EVENT_TYPES.items():
    register_event_type(_name, 1, _cls, aggregate="Policy", readers=POLICY_READERS)

#: How ``policyEvents`` names each type (endorsements by their kind).
KIND_OF_TYPE: dict[str, PolicyEventKind] = {
    "policy.issued": PolicyEventKind.ISSUED,
    "policy.renewed": PolicyEventKind.RENEWED,
    "policy.cancelled": PolicyEventKind.CANCELLED,
    "policy.surrendered": PolicyEventKind.SURRENDERED,
    "policy.lapsed": PolicyEventKind.LAPSED,
    "policy.expired": PolicyEventKind.EXPIRED,
}

_ENDED: dict[PolicyEventKind, type[PolicyEnded]] = {
    PolicyEventKind.CANCELLED: PolicyCancelled,
    PolicyEventKind.SURRENDERED: PolicySurrendered,
    PolicyEventKind.LAPSED: PolicyLapsed,
}


def _actor(actor: Principal | Actor) -> Actor:
    return actor if isinstance(actor, Actor) else Actor.of(actor)


def publish(session: Session, policy: Policy, payload: PolicyFact, *, actor: Principal | Actor) -> None:
    """Append ``payload`` about ``policy`` to the session's transaction (with the version it commits)."""
    append(session, payload, aggregate=Aggregate("Policy", policy.id), actor=_actor(actor), versioned=policy)


def issued(session: Session, policy: Policy, *, actor: Principal | Actor) -> None:
    """``policy.issued`` for a new policy."""
    publish(session, policy, PolicyIssued(
        policy_id=policy.id, customer_id=policy.customer_id, product_id=policy.product_id,
        period_start=policy.period_start, period_end=policy.period_end, premium=policy.premium), actor=actor)


def renewed(session: Session, policy: Policy, *, actor: Principal | Actor) -> None:
    """``policy.renewed`` for the new policy of a renewal."""
    assert policy.renewed_from_id is not None
    publish(session, policy, PolicyRenewed(
        policy_id=policy.id, customer_id=policy.customer_id, renewed_from_id=policy.renewed_from_id,
        product_id=policy.product_id, period_start=policy.period_start, period_end=policy.period_end,
        premium=policy.premium), actor=actor)


def ended(session: Session, policy: Policy, kind: PolicyEventKind, *, actor: Principal | Actor) -> None:
    """``policy.cancelled|surrendered|lapsed|expired`` for a policy that just ended."""
    assert policy.ended_on is not None
    if kind is PolicyEventKind.EXPIRED:
        publish(session, policy, PolicyExpired(policy_id=policy.id, customer_id=policy.customer_id,
                                               ended_on=policy.ended_on), actor=actor)
        return
    publish(session, policy, _ENDED[kind](policy_id=policy.id, customer_id=policy.customer_id,
                                          ended_on=policy.ended_on, refund=policy.refund or Decimal(0)),
            actor=actor)


def endorsed(session: Session, policy: Policy, endorsement: Endorsement, changed: tuple[EndorsementField, ...], *,
             actor: Principal | Actor) -> None:
    """``policy.endorsed``: which fields an endorsement changed (names only)."""
    publish(session, policy, PolicyEndorsed(policy_id=policy.id, customer_id=policy.customer_id,
                                            endorsement_id=endorsement.id, kind=endorsement.kind, changed=changed),
            actor=actor)


# --- quotes: the health declaration underwritten, and an underwriter's decision -----------------------------


class QuoteRequested(EventPayload):
    """A quote was priced and its health declaration underwritten (the outcome, never the answers)."""

    quote_id: int
    customer_id: int
    product_id: int
    outcome: UnderwritingOutcome


class QuoteDecided(EventPayload):
    """An underwriter accepted or declined a quote referred to manual underwriting."""

    quote_id: int
    customer_id: int
    product_id: int
    accepted: bool


register_event_type("quote.requested", 1, QuoteRequested, aggregate="Quote", readers=POLICY_READERS)
register_event_type("quote.decided", 1, QuoteDecided, aggregate="Quote", readers=POLICY_READERS)


def quoted(session: Session, quote: Quote, *, actor: Principal | Actor) -> None:
    """``quote.requested`` for a quote just underwritten."""
    append(session, QuoteRequested(quote_id=quote.id, customer_id=quote.customer_id, product_id=quote.product_id,
                                   outcome=quote.outcome), aggregate=Aggregate("Quote", quote.id),
           actor=_actor(actor), versioned=quote)


def quote_decided(session: Session, quote: Quote, *, accepted: bool, actor: Principal | Actor) -> None:
    """``quote.decided`` for a referred quote an underwriter just decided."""
    append(session, QuoteDecided(quote_id=quote.id, customer_id=quote.customer_id, product_id=quote.product_id,
                                 accepted=accepted), aggregate=Aggregate("Quote", quote.id), actor=_actor(actor),
           versioned=quote)
