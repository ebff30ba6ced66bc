"""Subscriptions of the policies domain: live policy events."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.events import broker
from core.roles import POLICY_READERS
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
        async for ev in broker.subscribe("policy"):
            payload = ev.payload
            if not may_see_customer(ctx.principal, payload.get("customerId")):
                continue
            if only is not None and payload.get("policyId") != only:
                continue
            yield PolicyEvent(kind=PolicyEventKind(payload["kind"]),
                              policy_id=strawberry.ID(encode_global_id("Policy", payload["policyId"])))
