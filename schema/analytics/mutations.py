"""Mutations of the analytics domain: alert rules (create, pause and resume)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.egress import EgressPolicy
from core.roles import ANALYTICS_READERS
from resolvers.analytics import service as m
from schema.analytics.errors import CreateAlertRuleError, SetAlertRuleActiveError
from schema.analytics.inputs import CreateAlertRuleInput, SetAlertRuleActiveInput
from schema.analytics.types import AlertRule
from schema.context import Context
from schema.errors import run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["AlertMutations", "CreateAlertRulePayload", "SetAlertRuleActivePayload"]

INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
RULE_DOC = "The rule as the mutation left it (null when refused)."
ERRORS_DOC = "Every refusal (empty on success): field, code, message."


@strawberry.type(description="The result of createAlertRule.")
@access(PUBLIC)
class CreateAlertRulePayload:
    rule: AlertRule | None = strawberry.field(description=RULE_DOC)
    webhook_secret: str | None = strawberry.field(description="The secret that signs the rule's webhook POSTs "
                                                              "(Opsure-Signature, HMAC-SHA256): shown this once; null "
                                                              "without a webhook.")
    errors: list[CreateAlertRuleError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of setAlertRuleActive.")
@access(PUBLIC)
class SetAlertRuleActivePayload:
    rule: AlertRule | None = strawberry.field(description=RULE_DOC)
    errors: list[SetAlertRuleActiveError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


def _insecure_webhooks(ctx: Context) -> bool:
    return ctx.settings.extra.get("analytics.webhooks_allow_insecure", "") in {"1", "true", "yes"}


def _target(result: Any) -> str | None:
    if result is None:
        return None
    row = result[0] if isinstance(result, tuple) else result
    return encode_global_id("AlertRule", row.id)


@strawberry.type
class AlertMutations:
    @strawberry.mutation(description="Create an alert rule on a metric (active at once; the worker evaluates it). "
                                     "Every input error at once.", metadata=allow(ANALYTICS_READERS))
    def create_alert_rule(self, info: Info[Context, Any],
                          input: Annotated[CreateAlertRuleInput, INPUT]) -> CreateAlertRulePayload:
        ctx = info.context
        f = input.filter
        spec = m.AlertRuleSpec(
            key=input.key, metric=m.MetricKey(input.metric).value, kind=m.AlertKind(input.kind),
            window_days=input.window_days,
            operator=m.AlertOperator(input.operator) if input.operator is not None else None,
            threshold=Decimal(repr(input.threshold)) if input.threshold is not None else None,
            grace_minutes=input.grace_minutes, products=tuple(f.products or ()) if f else (),
            age_bands=tuple(f.age_bands or ()) if f else (), regions=tuple(f.regions or ()) if f else (),
            webhook_url=input.webhook_url)
        made, errors = run_mutation(info, "createAlertRule", input, lambda s: m.create_rule(
            s, principal=ctx.principal, spec=spec, now=ctx.now(), policy=EgressPolicy.from_settings(ctx.settings),
            allow_http=_insecure_webhooks(ctx)), codes=CreateAlertRuleError, target=_target)
        if made is None:
            return CreateAlertRulePayload(rule=None, webhook_secret=None, errors=errors)
        return CreateAlertRulePayload(rule=AlertRule.from_row(made[0]), webhook_secret=made[1], errors=errors)

    @strawberry.mutation(description="Pause or resume an alert rule (a paused rule returns to OK).",
                         metadata=allow(ANALYTICS_READERS))
    def set_alert_rule_active(self, info: Info[Context, Any],
                              input: Annotated[SetAlertRuleActiveInput, INPUT]) -> SetAlertRuleActivePayload:
        ctx = info.context
        rule, errors = run_mutation(info, "setAlertRuleActive", input, lambda s: m.set_rule_active(
            s, rule_id=decode_global_id(input.rule_id, "AlertRule", field="ruleId"), active=input.active,
            expected_version=input.expected_version, now=ctx.now()), codes=SetAlertRuleActiveError, target=_target)
        return SetAlertRuleActivePayload(rule=AlertRule.from_row(rule) if rule is not None else None, errors=errors)
