"""Analytics over graphql-transport-ws: a live metric sent at once and when it changes; alerts firing, live."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from core.event_stream import drain, process_tail
from opsure.runtime import Runtime
from resolvers.analytics import service as analytics
from resolvers.analytics.events import ANALYTICS_CONSUMER
from resolvers.analytics.jobs import alerts_job
from tests.factories import ADMIN, make_policy
from tests.ws_client import open_ws, receive

pytestmark = pytest.mark.timeout(60)
LIVE = "subscription { liveMetric(metric: POLICIES_ISSUED, everySeconds: 2) { metric day value } }"
ALERTS = "subscription { analyticsAlerts { ruleKey metric fromState toState value } }"


def test_a_live_metric_is_sent_at_once_and_when_it_changes(http: TestClient, runtime: Runtime,
                                                            session_factory: Any) -> None:
    cm, ws = open_ws(http, runtime, Role.ANALYST)
    try:
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": LIVE}})
        first = receive(ws)["payload"]["data"]["liveMetric"]
        assert first == {"metric": "POLICIES_ISSUED", "day": business_today().isoformat(), "value": 0.0}
        with transaction(session_factory) as s:
            make_policy(s, today=business_today())
        drain(session_factory, ANALYTICS_CONSUMER)
        assert receive(ws)["payload"]["data"]["liveMetric"]["value"] == 1.0
    finally:
        cm.__exit__(None, None, None)


def test_an_alert_firing_reaches_its_subscribers(http: TestClient, runtime: Runtime, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        make_policy(s, today=business_today())
        analytics.create_rule(s, principal=ADMIN, spec=analytics.AlertRuleSpec(
            key="any-sale", metric="policies_issued", operator=analytics.AlertOperator.GTE,
            threshold=Decimal(1)), now=dt.datetime.now(dt.UTC))
    drain(session_factory, ANALYTICS_CONSUMER)
    cm, ws = open_ws(http, runtime, Role.MANAGER)
    try:
        before = process_tail().subscriber_count({"analytics.alert_changed"})
        ws.send_json({"id": "a", "type": "subscribe", "payload": {"query": ALERTS}})
        deadline = time.monotonic() + 10
        while process_tail().subscriber_count({"analytics.alert_changed"}) <= before:
            assert time.monotonic() < deadline, "the subscription never reached the tail"
            time.sleep(0.01)
        alerts_job(session_factory, dt.datetime.now(dt.UTC))
        got = receive(ws)["payload"]["data"]["analyticsAlerts"]
        assert got == {"ruleKey": "any-sale", "metric": "POLICIES_ISSUED", "fromState": "PENDING",
                       "toState": "FIRING", "value": 1.0}
    finally:
        cm.__exit__(None, None, None)
