"""Mutations on webhook endpoints: registration (secret shown once), deactivation."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.egress import EgressPolicy
from core.roles import PARTNER_SELF_SERVICE
from partners import webhooks
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.partners.arguments import acting_partner
from schema.partners.inputs import RegisterWebhookEndpointInput
from schema.partners.types import WebhookEndpoint
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["WebhookEndpointPayload", "WebhookMutations"]


@strawberry.type
@access(PUBLIC)
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(description="The signing secret, shown once.")
    errors: list[UserError]


def _insecure_webhooks(ctx: Context) -> bool:
    return ctx.settings.extra.get("partners.webhooks_allow_insecure", "") in {"1", "true", "yes"}


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Add a webhook endpoint (https, a public host); the signing secret is "
                                     "shown once.",
                         metadata=allow(PARTNER_SELF_SERVICE))
    def register_webhook_endpoint(
        self, info: Info[Context, Any], input: RegisterWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        ctx = info.context
        made, errors = run_mutation(info, "registerWebhookEndpoint", input, lambda s: webhooks.register_endpoint(
            s, principal=ctx.principal, partner_id=acting_partner(ctx, input.partner_id), url=input.url,
            events=input.events, policy=EgressPolicy.from_settings(ctx.settings),
            allow_insecure=_insecure_webhooks(ctx), now=ctx.now()),
            target=lambda r: None if r is None else encode_global_id("WebhookEndpoint", r[0].id))
        if made is None:
            return WebhookEndpointPayload(endpoint=None, secret=None, errors=errors)
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(made[0]), secret=made[1], errors=errors)

    @strawberry.mutation(description="Stop delivering to a webhook endpoint.", metadata=allow(PARTNER_SELF_SERVICE))
    def deactivate_webhook_endpoint(self, info: Info[Context, Any], endpoint_id: strawberry.ID) -> WebhookEndpointPayload:
        ctx = info.context
        row, errors = run_mutation(info, "deactivateWebhookEndpoint", {"endpointId": endpoint_id},
                                   lambda s: webhooks.deactivate_endpoint(
                                       s, principal=ctx.principal,
                                       endpoint_id=decode_global_id(endpoint_id, "WebhookEndpoint",
                                                                    field="endpointId")))
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row) if row else None, secret=None,
                                      errors=errors)
