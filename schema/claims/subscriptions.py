"""Subscriptions of the claims domain: live claim events for work queues, from the process's event tail.

Every ``claim.*`` event committed by any process reaches this process's tail; a subscriber gets
those its role may see (a risk assessment only reaches risk readers), then only the claims it
may read (a customer's own, a hospital's billed ones), optionally one claim's or a few states'.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.event_stream import process_tail
from core.roles import CLAIM_READERS, RISK_READERS
from resolvers.claims import models as m
from resolvers.claims.events import CLAIM_EVENT_TYPES, ClaimFact, ClaimMoved, ClaimRiskAssessed
from resolvers.claims.scoping import may_see_claim_of
from schema.claims.enums import ClaimState, RiskLevel
from schema.context import Context
from schema.permissions import access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["ClaimLiveEvent", "ClaimLiveEventType", "ClaimsSubscription"]


class _Type(enum.Enum):
    REPORTED = "claim.reported"
    SUBMITTED = "claim.submitted"
    RISK_ASSESSED = "claim.risk_assessed"
    ADJUDICATED = "claim.adjudicated"
    PAID = "claim.paid"
    STATE_CHANGED = "claim.state_changed"


ClaimLiveEventType: Any = strawberry.enum(_Type, name="ClaimLiveEventType", description="What happened to a claim.")
for _value, _doc in zip(ClaimLiveEventType.__strawberry_definition__.values, (
        "Reported (a draft).", "Submitted for assessment.", "Rated by risk control (risk readers only).",
        "Decided: approved, partially approved or rejected.", "Paid.",
        "Any other move (review, documents pending, investigating, closed, reopened)."), strict=True):
    _value.description = _doc


@strawberry.type(description="A claim event as a live queue reads it.")
@access(CLAIM_READERS)
class ClaimLiveEvent:
    type: ClaimLiveEventType = strawberry.field(description="What happened.")
    claim_id: strawberry.ID = strawberry.field(description="The claim's global id (read it with claim(id:)).")
    occurred_at: dt.datetime = strawberry.field(description="When it was committed.")
    from_state: ClaimState | None = strawberry.field(  # type: ignore[valid-type]
        description="The state before (moves only).")
    to_state: ClaimState | None = strawberry.field(  # type: ignore[valid-type]
        description="The state after (moves only; REPORTED: DRAFT).")
    risk_level: RiskLevel | None = strawberry.field(  # type: ignore[valid-type]
        metadata=allow(RISK_READERS), description="The level risk control gave (RISK_ASSESSED only).")


def _state_after(payload: ClaimFact) -> m.ClaimState | None:
    if isinstance(payload, ClaimMoved):
        return payload.to_state
    return m.ClaimState.DRAFT if not isinstance(payload, ClaimRiskAssessed) else None


@strawberry.type
class ClaimsSubscription:
    @strawberry.subscription(description="Live claim events from now on (graphql-transport-ws): every move of the "
                             "state machine and every risk rating, for work queues. Customers receive their own "
                             "claims' events, hospitals the claims they billed, staff every claim's.",
                             metadata=allow(CLAIM_READERS))
    async def claim_events(
        self, info: Info[Context, Any],
        claim_id: Annotated[strawberry.ID | None, strawberry.argument(
            description="Only this claim's events (global id); default: every visible claim's.")] = None,
        states: Annotated[list[ClaimState] | None, strawberry.argument(  # type: ignore[valid-type]
            description="Only moves into these states (e.g. a queue's UNDER_REVIEW); default: every event.")] = None,
    ) -> AsyncGenerator[ClaimLiveEvent, None]:
        ctx = info.context
        only = decode_global_id(claim_id, "Claim", field="claimId") if claim_id else None
        wanted = set(states or ())
        role = ctx.principal.role.value if ctx.principal.role else None
        async for ev in process_tail().subscribe(types=CLAIM_EVENT_TYPES, aggregate_type="Claim", role=role):
            payload = ev.payload
            assert isinstance(payload, ClaimFact)
            if not may_see_claim_of(ctx.principal, customer_id=payload.customer_id, partner_id=payload.partner_id):
                continue
            if only is not None and payload.claim_id != only:
                continue
            after = _state_after(payload)
            if wanted and after not in wanted:
                continue
            yield ClaimLiveEvent(
                type=_Type(ev.type), claim_id=strawberry.ID(encode_global_id("Claim", payload.claim_id)),
                occurred_at=ev.occurred_at, from_state=payload.from_state if isinstance(payload, ClaimMoved) else None,
                to_state=after, risk_level=payload.risk_level if isinstance(payload, ClaimRiskAssessed) else None)
