"""Alert rules over HTTP: typed refusals, pending -> firing after the grace period -> resolved on a simulated
clock, signed webhooks, history; forecasts and a forecast rule firing on a spike."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.auth import Role
from core.db import transaction
from core.egress import EgressPolicy, egress_client
from core.event_stream import drain
from core.event_stream.outbox import EVENTS
from core.settings import Settings
from partners.webhooks import verify_signature
from resolvers.analytics.alerts import deliver_notifications
from resolvers.analytics.events import ANALYTICS_CONSUMER
from resolvers.analytics.jobs import alerts_job
from tests.analytics.test_analytics_api import _book
from tests.factories import make_customer, make_policy, make_product
from tests.partner_factories import WebhookReceiver

pytestmark = pytest.mark.timeout(120)

CREATE = """mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) {
  rule { id key state kind metric threshold graceMinutes webhookUrl } webhookSecret errors { field code } } }"""
RULE = """query($id: ID!) { alertRule(id: $id) { state lastValue
  history { totalCount edges { node { fromState toState value } } } } }"""
FORECAST = """query($m: MetricKey!, $end: Date!, $h: Int!, $d: Int!) {
  analyticsForecast(metric: $m, end: $end, historyDays: $d, horizon: $h) { model level end
  points { day mean low high } } }"""
BEIJING_8PM = dt.datetime(2026, 11, 11, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Plain http and the loopback receiver allowed (operator-controlled), as partner webhook tests do."""
    return settings.with_(extra={**settings.extra, "analytics.webhooks_allow_insecure": "1"},
                          egress_allow=("127.0.0.1/32",))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver().start()
    yield r
    r.stop()


def test_bad_rules_are_refused_with_every_error(gql: Any, session_factory: Any) -> None:
    _book(session_factory)
    out = gql(Role.ANALYST)(CREATE, {"i": {"key": "Bad Key", "metric": "LOSS_RATIO", "kind": "THRESHOLD",
                                           "windowDays": 0, "graceMinutes": -1, "filter": {"products": ["NOPE"]},
                                           "webhookUrl": "http://10.0.0.1/hook"}})["createAlertRule"]
    assert out["rule"] is None
    assert {e["code"] for e in out["errors"]} == {"INVALID_KEY", "WINDOW_OUT_OF_RANGE", "GRACE_OUT_OF_RANGE",
                                                  "THRESHOLD_REQUIRED", "UNKNOWN_PRODUCT", "BAD_URL"}
    ratio = gql(Role.ANALYST)(CREATE, {"i": {"key": "lr", "metric": "LOSS_RATIO", "kind": "FORECAST"}})
    assert [e["code"] for e in ratio["createAlertRule"]["errors"]] == ["FORECAST_UNSUPPORTED"]
    refused = gql(Role.AGENT).post(CREATE, {"i": {"key": "x1", "metric": "LOSS_RATIO", "kind": "FORECAST"}}).json()
    assert refused.get("data") is None


def test_threshold_rule_fires_after_its_grace_period_and_resolves(gql: Any, session_factory: Any,
                                                                   receiver: WebhookReceiver) -> None:
    _book(session_factory)  # 2,400 yuan written on Double 11
    made = gql(Role.MANAGER)(CREATE, {"i": {
        "key": "double11-premium", "metric": "WRITTEN_PREMIUM", "kind": "THRESHOLD", "windowDays": 1,
        "operator": "GT", "threshold": 2000, "graceMinutes": 10, "webhookUrl": receiver.url}})["createAlertRule"]
    assert made["errors"] == [] and made["rule"]["state"] == "OK" and made["webhookSecret"].startswith("whsec_")
    rule_id, secret = made["rule"]["id"], made["webhookSecret"]
    states = []
    for minutes in (0, 5, 11):  # breached at 20:00 Beijing; fires once breached for 10 minutes
        alerts_job(session_factory, BEIJING_8PM + dt.timedelta(minutes=minutes))
        states.append(gql(Role.ANALYST)(RULE, {"id": rule_id})["alertRule"]["state"])
    assert states == ["PENDING", "PENDING", "FIRING"]
    alerts_job(session_factory, BEIJING_8PM + dt.timedelta(days=1))  # the next business day: nothing written
    read = gql(Role.ANALYST)(RULE, {"id": rule_id})["alertRule"]
    assert read["state"] == "RESOLVED" and read["lastValue"] == 0.0
    moves = [(e["node"]["fromState"], e["node"]["toState"]) for e in read["history"]["edges"]]
    assert moves == [("OK", "PENDING"), ("PENDING", "FIRING"), ("FIRING", "RESOLVED")]
    with egress_client(EgressPolicy.from_entries(["127.0.0.1/32"]), timeout=5) as client:
        sent = deliver_notifications(session_factory, client, now=BEIJING_8PM + dt.timedelta(days=1))
        again = deliver_notifications(session_factory, client, now=BEIJING_8PM + dt.timedelta(days=1))
    assert (sent.delivered, again.delivered) == (2, 0)
    bodies = [json.loads(body) for _, body in receiver.calls]
    assert [b["event"] for b in bodies] == ["alert.firing", "alert.resolved"] and bodies[0]["value"] == "2400.00"
    assert all(verify_signature(secret, h["opsure-signature"], body) for h, body in receiver.calls)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(EVENTS).where(EVENTS.c.type == "analytics.alert_changed")) == 2


def _daily_book(session_factory: Any, days: int, spike: int) -> dt.date:
    """Two or three policies a day (a weekly pattern) for ``days`` days, then ``spike`` on the last day."""
    start = dt.date(2026, 9, 1)
    with transaction(session_factory) as s:
        product = make_product(s, code="PF")
        for i in range(days):
            day = start + dt.timedelta(days=i)
            for _ in range(spike if i == days - 1 else 2 + (day.weekday() >= 5)):
                make_policy(s, today=day, product=product, customer=make_customer(s))
    drain(session_factory, ANALYTICS_CONSUMER)
    return start + dt.timedelta(days=days - 1)


def test_forecast_intervals_and_a_forecast_rule_firing_on_a_spike(gql: Any, session_factory: Any) -> None:
    last = _daily_book(session_factory, 43, spike=15)
    analyst = gql(Role.ANALYST)
    f = analyst(FORECAST, {"m": "POLICIES_ISSUED", "end": (last - dt.timedelta(days=1)).isoformat(), "h": 7,
                           "d": 42})["analyticsForecast"]
    assert f["model"].startswith("ETS") and len(f["points"]) == 7 and f["level"] == 0.95
    assert all(p["low"] <= p["mean"] <= p["high"] for p in f["points"])
    assert all(1.0 < p["mean"] < 4.0 for p in f["points"])  # two a weekday, three a weekend day
    assert f["points"][0]["high"] < 15  # the spike is far outside the interval
    bad = analyst.post(FORECAST, {"m": "LOSS_RATIO", "end": last.isoformat(), "h": 7, "d": 42}).json()
    assert bad["errors"][0]["extensions"]["code"] == "FORECAST_UNSUPPORTED"
    short = analyst.post(FORECAST, {"m": "POLICIES_ISSUED", "end": last.isoformat(), "h": 7, "d": 10}).json()
    assert short["errors"][0]["extensions"]["code"] == "NOT_ENOUGH_HISTORY"
    rule = analyst(CREATE, {"i": {"key": "issuance-anomaly", "metric": "POLICIES_ISSUED", "kind": "FORECAST",
                                  "windowDays": 42}})["createAlertRule"]["rule"]
    day_after = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(2), dt.UTC)  # 10:00 Beijing
    alerts_job(session_factory, day_after)
    read = analyst(RULE, {"id": rule["id"]})["alertRule"]
    assert read["state"] == "FIRING" and read["lastValue"] == 15.0
