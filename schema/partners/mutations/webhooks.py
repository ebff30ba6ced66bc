"""Mutations on webhook endpoints: registration (secret shown once), deactivation."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.egress import EgressPolicy
from core.roles import PARTNER_SELF_SERVICE
from partners import webhooks
from schema.context import Context
from schema.errors import run_mutation
from schema.partners.arguments import INPUT, acting_partner
from schema.partners.errors import DeactivateWebhookEndpointError, RegisterWebhookEndpointError
from schema.partners.inputs import RegisterWebhookEndpointInput
from schema.partners.types import WebhookEndpoint
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["DeactivateWebhookEndpointPayload", "RegisterWebhookEndpointPayload", "WebhookMutations"]


@strawberry.type(description="The result of registerWebhookEndpoint.")
@access(PUBLIC)
class RegisterWebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint (null when refused).")
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_...), shown this once: each delivery carries Opsure-Signature "
                    "t=<unix seconds>,v1=hex(HMAC-SHA256(secret, \"<t>.\" + body)).")
    errors: list[RegisterWebhookEndpointError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


@strawberry.type(description="The result of deactivateWebhookEndpoint.")
@access(PUBLIC)
class DeactivateWebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint, inactive (null when refused).")
    errors: list[DeactivateWebhookEndpointError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


def _insecure_webhooks(ctx: Context) -> bool:
    return ctx.settings.extra.get("partners.webhooks_allow_insecure", "") in {"1", "true", "yes"}


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Add a webhook endpoint (a partner: its own; managers name the partner): https on "
                         "a public host, at most 10 active. The signing secret is shown once.",
                         metadata=allow(PARTNER_SELF_SERVICE))
    def register_webhook_endpoint(
        self, info: Info[Context, Any], input: Annotated[RegisterWebhookEndpointInput, INPUT]
    ) -> RegisterWebhookEndpointPayload:
        ctx = info.context
        made, errors = run_mutation(info, "registerWebhookEndpoint", input, lambda s: webhooks.register_endpoint(
            s, principal=ctx.principal, partner_id=acting_partner(ctx, input.partner_id), url=input.url,
            events=[e.value for e in input.events], policy=EgressPolicy.from_settings(ctx.settings),
            allow_insecure=_insecure_webhooks(ctx), now=ctx.now()), codes=RegisterWebhookEndpointError,
            target=lambda r: None if r is None else encode_global_id("WebhookEndpoint", r[0].id))
        if made is None:
            return RegisterWebhookEndpointPayload(endpoint=None, secret=None, errors=errors)
        return RegisterWebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(made[0]), secret=made[1],
                                              errors=errors)

    @strawberry.mutation(description="Stop delivering to a webhook endpoint; its pending deliveries fail as "
                         "ENDPOINT_DEACTIVATED.", metadata=allow(PARTNER_SELF_SERVICE))
    def deactivate_webhook_endpoint(
        self, info: Info[Context, Any],
        endpoint_id: Annotated[strawberry.ID, strawberry.argument(description="The WebhookEndpoint's global id.")],
    ) -> DeactivateWebhookEndpointPayload:
        ctx = info.context
        row, errors = run_mutation(info, "deactivateWebhookEndpoint", {"endpointId": endpoint_id},
                                   lambda s: webhooks.deactivate_endpoint(
                                       s, principal=ctx.principal,
                                       endpoint_id=decode_global_id(endpoint_id, "WebhookEndpoint",
                                                                    field="endpointId")),
                                   codes=DeactivateWebhookEndpointError)
        return DeactivateWebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row) if row else None,
                                                errors=errors)
