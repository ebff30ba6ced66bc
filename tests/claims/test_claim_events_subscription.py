"""claimEvents over graphql-transport-ws: a live queue sees every move of the claims it may read, risk ratings
only for risk readers, filtered by claim and by the states a queue watches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from opsure.runtime import Runtime
from resolvers.claims import service
from resolvers.claims.events import CLAIM_EVENT_TYPES
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, add_invoice, make_claim_policy, report
from tests.ws_client import open_ws, receive, subscribe

pytestmark = pytest.mark.timeout(60)
SUBSCRIBE = """subscription($states: [ClaimState!]) { claimEvents(states: $states) {
  type claimId fromState toState } }"""
RISK = "subscription { claimEvents { type claimId riskLevel } }"





def _submit(session_factory: Any, claim_id: int) -> None:
    with transaction(session_factory) as s:
        service.submit_claim(s, principal=ADJUSTER, claim_id=claim_id, expected_version=None,
                             today=business_today(), now=dt.datetime.now(dt.UTC))


def test_a_live_queue_sees_its_moves_and_customers_only_their_own(
        http: TestClient, runtime: Runtime, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        mine, other = make_claim_policy(s), make_claim_policy(s)
        a = report(s, mine, amount=Decimal("6000.00"), items=[service.LineItemSpec("S", "inpatient",
                                                                                   Decimal("6000.00"))])
        add_invoice(s, a)
        b = report(s, other)
        add_invoice(s, b)
        ids = {"a": a.id, "b": b.id, "customer": mine.customer_id}
    queue_cm, queue = open_ws(http, runtime, Role.ADJUSTER)
    risk_cm, risk = open_ws(http, runtime, Role.MANAGER)
    customer_cm, customer = open_ws(http, runtime, Role.CUSTOMER, customer_id=ids["customer"])
    try:
        subscribe(queue, "q", {"query": SUBSCRIBE, "variables": {"states": ["UNDER_REVIEW"]}}, types=CLAIM_EVENT_TYPES)
        subscribe(risk, "r", {"query": RISK}, types=CLAIM_EVENT_TYPES)
        subscribe(customer, "c", {"query": SUBSCRIBE, "variables": {}}, types=CLAIM_EVENT_TYPES)
        _submit(session_factory, ids["b"])  # another customer's claim: fast-claim, never UNDER_REVIEW
        _submit(session_factory, ids["a"])  # 6,000 in one line: medium risk, to review
        a_id = encode_global_id("Claim", ids["a"])
        assert receive(queue)["payload"]["data"]["claimEvents"] == {
            "type": "STATE_CHANGED", "claimId": a_id, "fromState": "SUBMITTED", "toState": "UNDER_REVIEW"}
        seen = [receive(customer)["payload"]["data"]["claimEvents"] for _ in range(2)]
        assert [(e["type"], e["claimId"], e["toState"]) for e in seen] == [
            ("SUBMITTED", a_id, "SUBMITTED"), ("STATE_CHANGED", a_id, "UNDER_REVIEW")]
        rated = receive(risk)["payload"]["data"]["claimEvents"]
        while rated["claimId"] != a_id or rated["type"] != "RISK_ASSESSED":  # b's events, a's submission
            assert rated["riskLevel"] is None or rated["type"] == "RISK_ASSESSED"
            rated = receive(risk)["payload"]["data"]["claimEvents"]
        assert rated["riskLevel"] == "MEDIUM"
    finally:
        for cm in (queue_cm, risk_cm, customer_cm):
            cm.__exit__(None, None, None)


def test_customers_may_not_select_the_risk_level(http: TestClient, runtime: Runtime) -> None:
    cm, ws = open_ws(http, runtime, Role.CUSTOMER, customer_id=1)
    try:
        ws.send_json({"id": "x", "type": "subscribe", "payload": {"query": RISK}})
        msg = receive(ws)
        assert msg["type"] == "error" and msg["payload"][0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        cm.__exit__(None, None, None)
