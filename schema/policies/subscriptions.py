"""Subscriptions of the policies domain: live policy events, from the process's event tail.

Every ``policy.*`` event committed by any process reaches the tail of this one; a subscriber
gets those its role may see (the event's readers), then only its own rows (a customer's policies).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.event_stream import process_tail
from core.roles import POLICY_READERS
from resolvers.policies.events import KIND_OF_TYPE, POLICY_EVENT_TYPES, PolicyEndorsed, PolicyFact
from resolvers.policies.models import PolicyEventKind
from resolvers.policies.scoping import may_see_customer
from schema.context import Context
from schema.permissions import allow
from schema.policies.types import PolicyEvent
from schema.relay import decode_global_id, encode_global_id

__all__ = ["PoliciesSubscription"]


@strawberry.type
class PoliciesSubscription:
    @strawberry.subscription(description="Live policy events from now on (graphql-transport-ws); customers receive "
                             "only their own policies' events.", metadata=allow(POLICY_READERS))
    async def policy_events(
        self, info: Info[Context, Any],
        policy_id: Annotated[strawberry.ID | None, strawberry.argument(
            description="Only this policy's events (global id); default: every visible policy's.")] = None,
    ) -> AsyncGenerator[PolicyEvent, None]:
        ctx = info.context
        only = decode_global_id(policy_id, "Policy", field="policyId") if policy_id else None
        role = ctx.principal.role.value if ctx.principal.role else None
        async for ev in process_tail().subscribe(types=POLICY_EVENT_TYPES, aggregate_type="Policy", role=role):
            payload = ev.payload
            assert isinstance(payload, PolicyFact)
            if not may_see_customer(ctx.principal, payload.customer_id):
                continue
            if only is not None and payload.policy_id != only:
                continue
            yield PolicyEvent(kind=_kind(ev.type, payload),
                              policy_id=strawberry.ID(encode_global_id("Policy", payload.policy_id)))


def _kind(event_type: str, payload: PolicyFact) -> PolicyEventKind:
    if isinstance(payload, PolicyEndorsed):
        return PolicyEventKind(f"endorsed_{payload.kind.value}")
    return KIND_OF_TYPE[event_type]
