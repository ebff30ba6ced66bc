"""Alert rules on metrics: evaluated by the worker, ok -> pending -> firing -> resolved, notified.

A THRESHOLD rule compares a metric's value over the last ``window_days`` business days
(bucket PERIOD, so a ratio is the ratio of the window) with its threshold; a FORECAST rule
checks yesterday's daily value against the prediction interval forecast from the days before
(``forecast.anomaly``). A breach must last ``grace_minutes`` before the rule fires (a blip
that clears within the grace period only leaves a PENDING entry in the history); a firing rule
that no longer breaches is RESOLVED, and its next breach starts PENDING again. An undefined
value (a ratio over zero, no data) never breaches.

Firing and resolving append a domain event (``analytics.alert_changed``: the subscription) and,
when the rule names a webhook, an HMAC-signed POST (``Opsure-Signature: t=..,v1=..`` as
partner webhooks, with the rule's own secret shown once at creation) retried with backoff
by the ``analytics.alert_webhooks`` job through the egress guard.

Example::

    rule, secret = create_rule(session, principal=p, spec=AlertRuleSpec(key="loss-ratio-high",
                               metric="loss_ratio", window_days=30, operator=AlertOperator.GT,
                               threshold=Decimal("0.8")), now=now)
    evaluate_rules(session, now=now)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal
from core.clock import business_date
from core.db import transaction
from core.egress import EgressPolicy, check_url, is_guarded
from core.errors import ConflictError, NotFoundError, StaleVersionError, ValidationError, collect_errors
from partners.webhooks import SIGNATURE_HEADER, backoff_delay, sign
from resolvers.analytics import events
from resolvers.analytics.facts import AGE_BANDS
from resolvers.analytics.forecast import anomaly, forecastable
from resolvers.analytics.metrics import METRICS, Bucket
from resolvers.analytics.models import (
    AlertHistory,
    AlertKind,
    AlertNotification,
    AlertOperator,
    AlertRule,
    AlertState,
)
from resolvers.analytics.query import SeriesFilter, series
from resolvers.policies.facts import product_ids_by_code

__all__ = ["AlertRuleSpec", "DeliveryResult", "create_rule", "deliver_notifications", "evaluate_rule",
           "evaluate_rules", "get_rule", "history_query", "rules_query", "set_rule_active"]

_KEY = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
MAX_WINDOW_DAYS = 366
MAX_GRACE_MINUTES = 7 * 24 * 60
MAX_ATTEMPTS = 8
_COMPARE = {AlertOperator.GT: lambda v, t: v > t, AlertOperator.GTE: lambda v, t: v >= t,
            AlertOperator.LT: lambda v, t: v < t, AlertOperator.LTE: lambda v, t: v <= t}


@dataclass(frozen=True)
class AlertRuleSpec:
    """What a new rule watches (see module docstring)."""

    key: str
    metric: str
    kind: AlertKind = AlertKind.THRESHOLD
    window_days: int = 1
    operator: AlertOperator | None = None
    threshold: Decimal | None = None
    grace_minutes: int = 0
    products: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    webhook_url: str | None = None


def _validate(session: Session, spec: AlertRuleSpec, *, policy: EgressPolicy, allow_http: bool) -> str | None:
    url = None
    with collect_errors() as errors:
        if not _KEY.match(spec.key):
            errors.add(ValidationError("a key is 2-64 of a-z, 0-9, - and _ starting with a letter", field="key",
                                       code="INVALID_KEY"))
        elif session.scalar(select(AlertRule.id).where(AlertRule.key == spec.key)) is not None:
            errors.add(ConflictError(f"a rule {spec.key!r} exists", field="key", code="DUPLICATE_KEY"))
        if spec.metric not in METRICS:
            errors.add(ValidationError(f"no metric {spec.metric!r}", field="metric", code="UNKNOWN_METRIC"))
        if not 1 <= spec.window_days <= MAX_WINDOW_DAYS:
            errors.add(ValidationError(f"a window is 1 to {MAX_WINDOW_DAYS} days", field="windowDays",
                                       code="WINDOW_OUT_OF_RANGE"))
        if not 0 <= spec.grace_minutes <= MAX_GRACE_MINUTES:
            errors.add(ValidationError(f"a grace period is 0 to {MAX_GRACE_MINUTES} minutes", field="graceMinutes",
                                       code="GRACE_OUT_OF_RANGE"))
        if spec.kind is AlertKind.THRESHOLD:
            if spec.operator is None or spec.threshold is None:
                errors.add(ValidationError("a threshold rule needs an operator and a threshold", field="threshold",
                                           code="THRESHOLD_REQUIRED"))
        elif spec.metric in METRICS and not forecastable(spec.metric):
            errors.add(ValidationError(f"{spec.metric} is not forecast (only counts and amounts per day are)",
                                       field="metric", code="FORECAST_UNSUPPORTED"))
        unknown = sorted(set(spec.products) - set(product_ids_by_code(session, codes=spec.products)))
        if unknown:
            errors.add(ValidationError(f"no product {unknown[0]!r}", field="filter.products", code="UNKNOWN_PRODUCT"))
        bad_bands = sorted(set(spec.age_bands) - {b for b, _ in AGE_BANDS})
        if bad_bands:
            errors.add(ValidationError(f"no age band {bad_bands[0]!r}", field="filter.ageBands",
                                       code="UNKNOWN_AGE_BAND"))
        if spec.webhook_url is not None:
            try:
                url = check_url(spec.webhook_url, policy, allow_http=allow_http)
            except ValueError as exc:
                errors.add(ValidationError(str(exc), field="webhookUrl", code="BAD_URL"))
    return url


def create_rule(session: Session, *, principal: Principal, spec: AlertRuleSpec, now: dt.datetime,
                policy: EgressPolicy = EgressPolicy(), allow_http: bool = False) -> tuple[AlertRule, str | None]:
    """A new active rule (state OK) and its webhook signing secret, shown once (None without a webhook)."""
    url = _validate(session, spec, policy=policy, allow_http=allow_http)
    secret = "whsec_" + secrets.token_urlsafe(32) if url is not None else None
    filters = {k: list(v) for k, v in (("products", spec.products), ("age_bands", spec.age_bands),
                                        ("regions", spec.regions)) if v}
    rule = AlertRule(key=spec.key, metric=spec.metric, kind=spec.kind, window_days=spec.window_days,
                     operator=spec.operator if spec.kind is AlertKind.THRESHOLD else None,
                     threshold=spec.threshold if spec.kind is AlertKind.THRESHOLD else None,
                     grace_minutes=spec.grace_minutes, filters=filters, webhook_url=url, webhook_secret=secret,
                     active=True, state=AlertState.OK, state_since=now, created_by=principal.subject)
    session.add(rule)
    session.flush()
    return rule, secret


def get_rule(session: Session, *, rule_id: int, lock: bool = False) -> AlertRule:
    """A rule by id (NOT_FOUND when absent)."""
    stmt = select(AlertRule).where(AlertRule.id == rule_id)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFoundError("no such alert rule", field="ruleId")
    return row


def set_rule_active(session: Session, *, rule_id: int, active: bool, expected_version: int | None,
                    now: dt.datetime) -> AlertRule:
    """Pause or resume a rule; a paused rule is not evaluated and returns to OK."""
    rule = get_rule(session, rule_id=rule_id, lock=True)
    if expected_version is not None and expected_version != rule.version:
        raise StaleVersionError(f"the rule is at version {rule.version}", field="expectedVersion")
    if rule.active != active:
        rule.active = active
        if not active and rule.state is not AlertState.OK:
            _move(session, rule, AlertState.OK, now=now, value=rule.last_value)
        rule.breached_since = None
    session.flush()
    return rule


def rules_query(*, active: bool | None = None, states: Sequence[AlertState] = ()) -> Select[AlertRule]:
    """Rules, oldest first, filtered."""
    stmt = select(AlertRule)
    if active is not None:
        stmt = stmt.where(AlertRule.active.is_(active))
    if states:
        stmt = stmt.where(AlertRule.state.in_(list(states)))
    return stmt


def history_query(*, rule_id: int) -> Select[AlertHistory]:
    """A rule's state changes, oldest first."""
    return select(AlertHistory).where(AlertHistory.rule_id == rule_id)


def _filters(rule: AlertRule) -> SeriesFilter:
    return SeriesFilter.from_stored(rule.filters)


def _move(session: Session, rule: AlertRule, to: AlertState, *, now: dt.datetime, value: Decimal | None,
          low: Decimal | None = None, high: Decimal | None = None) -> AlertHistory:
    entry = AlertHistory(rule_id=rule.id, at=now, from_state=rule.state, to_state=to, value=value, low=low, high=high)
    session.add(entry)
    rule.state, rule.state_since = to, now
    session.flush()
    if to in (AlertState.FIRING, AlertState.RESOLVED):
        events.alert_changed(session, rule, entry)
        if rule.webhook_url is not None:
            body = json.dumps({"event": f"alert.{to.value}", "rule": rule.key, "metric": rule.metric,
                               "kind": rule.kind.value, "at": now.isoformat(),
                               "value": None if value is None else str(value),
                               "threshold": None if rule.threshold is None else str(rule.threshold),
                               "low": None if low is None else str(low), "high": None if high is None else str(high)},
                              separators=(",", ":"), sort_keys=True)
            session.add(AlertNotification(rule_id=rule.id, history_id=entry.id, body=body, status="pending",
                                          attempts=0, next_attempt_at=now))
    return entry


def _breach(session: Session, rule: AlertRule, now: dt.datetime) -> tuple[bool, Decimal | None, Decimal | None,
                                                                           Decimal | None]:
    today = business_date(now)
    if rule.kind is AlertKind.FORECAST:
        a = anomaly(session, metric=rule.metric, day=today - dt.timedelta(days=1),
                    history_days=max(rule.window_days, 28), filters=_filters(rule))
        return a.outside, a.actual, a.low, a.high
    s = series(session, metric=rule.metric, start=today - dt.timedelta(days=rule.window_days - 1), end=today,
               bucket=Bucket.PERIOD, filters=_filters(rule))
    value = s.points[0].value if s.points else None
    assert rule.operator is not None and rule.threshold is not None
    return (value is not None and bool(_COMPARE[rule.operator](value, Decimal(rule.threshold)))), value, None, None


def evaluate_rule(session: Session, rule: AlertRule, *, now: dt.datetime) -> AlertState:
    """One evaluation of an active rule; its state after it."""
    breached, value, low, high = _breach(session, rule, now)
    rule.last_value, rule.last_evaluated_at = value, now
    grace = dt.timedelta(minutes=rule.grace_minutes)
    if breached:
        rule.breached_since = rule.breached_since or now
        if rule.state in (AlertState.OK, AlertState.RESOLVED):
            _move(session, rule, AlertState.PENDING, now=now, value=value, low=low, high=high)
        if rule.state is AlertState.PENDING and now - rule.breached_since >= grace:
            _move(session, rule, AlertState.FIRING, now=now, value=value, low=low, high=high)
    else:
        rule.breached_since = None
        if rule.state is AlertState.PENDING:
            _move(session, rule, AlertState.OK, now=now, value=value, low=low, high=high)
        elif rule.state is AlertState.FIRING:
            _move(session, rule, AlertState.RESOLVED, now=now, value=value, low=low, high=high)
    session.flush()
    return rule.state


def evaluate_rules(session: Session, *, now: dt.datetime) -> int:
    """Evaluate every active rule once; how many changed state."""
    changed = 0
    for rule in session.scalars(rules_query(active=True).order_by(AlertRule.id).with_for_update()).all():
        before = rule.state
        if evaluate_rule(session, rule, now=now) is not before:
            changed += 1
    return changed


@dataclass
class DeliveryResult:
    """What one delivery round did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    codes: list[int] = field(default_factory=list)


def deliver_notifications(sessions: sessionmaker[Session], client: httpx.Client, *, now: dt.datetime,
                          limit: int = 100) -> DeliveryResult:
    """POST every due notification once (signed); record delivered, retry-at (backoff) or failed."""
    if not is_guarded(client):
        raise TypeError("alert webhooks are delivered only through core.egress.egress_client")
    result = DeliveryResult()
    with sessions() as s:
        due = s.execute(select(AlertNotification.id, AlertRule.webhook_url, AlertRule.webhook_secret,
                               AlertNotification.body)
                        .join(AlertRule, AlertRule.id == AlertNotification.rule_id)
                        .where(AlertNotification.status == "pending", AlertNotification.next_attempt_at <= now)
                        .order_by(AlertNotification.id).limit(limit)).tuples().all()
    for nid, url, secret, body in due:
        status: int | None = None
        error: str | None = None
        if url is None or secret is None:
            error = "NO_WEBHOOK"
        else:
            data = body.encode()
            headers = {"content-type": "application/json", "user-agent": "Opsure-Alerts/1",
                       "opsure-delivery": f"alert-{nid}", SIGNATURE_HEADER.lower(): sign(secret, int(time.time()), data)}
            try:
                with client.stream("POST", url, content=data, headers=headers) as response:
                    status = response.status_code
                if not 200 <= status < 300:
                    error = "HTTP_STATUS"
            except httpx.HTTPError:
                error = "DELIVERY_FAILED"
        with transaction(sessions) as s:
            row = s.get(AlertNotification, nid)
            assert row is not None
            row.attempts += 1
            row.last_status_code, row.last_error = status, error
            if error is None:
                row.status, row.delivered_at = "delivered", now
                result.delivered += 1
            elif row.attempts >= MAX_ATTEMPTS or error == "NO_WEBHOOK":
                row.status = "failed"
                result.failed += 1
            else:
                row.next_attempt_at = now + dt.timedelta(seconds=backoff_delay(row.attempts, base=30.0, cap=3600.0,
                                                                               jitter=0.1))
                result.retried += 1
        if status is not None:
            result.codes.append(status)
    return result
