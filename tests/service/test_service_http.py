"""Over HTTP through the real app: a customer opens a work order, routing gives it to an agent within capacity,
an SLA breach escalates it on a simulated clock (jobs run as ``opsure jobs run`` runs them); a complaint goes
from intake to the customer's acknowledgement; customers read only their own orders and public comments;
hostile text comes back verbatim; agent consoles and customers follow their orders live (graphql-transport-ws)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.auth import Role
from core.clock import MovableClock, moved_clock
from core.db import transaction
from core.jobs import run_job
from core.settings import Settings
from opsure.runtime import Runtime
from resolvers.service import jobs as _jobs  # noqa: F401  (registers the jobs)
from resolvers.service import service
from resolvers.service.events import SERVICE_EVENT_TYPES
from schema.relay import encode_global_id
from tests.claim_factories import make_claim_policy, nodes
from tests.service_factories import AGENT, T0, make_agent, open_order
from tests.ws_client import open_ws, receive, subscribe

OPEN = """mutation($input: OpenWorkOrderInput!) { openWorkOrder(input: $input) {
  workOrder { id number state subject description priority } errors { field code } } }"""
COMMENT = """mutation($input: CommentOnWorkOrderInput!) { commentOnWorkOrder(input: $input) {
  comment { id body internal } workOrder { state } errors { field code } } }"""
MOVE = """mutation($input: MoveWorkOrderInput!) { moveWorkOrder(input: $input) {
  workOrder { state slaPaused } errors { field code } } }"""
STAFF = """query($id: ID!) { workOrder(id: $id) { state team escalationLevel firstResponseDueAt resolutionDueAt
  assignee { subject load capacity } policy { id } customer { id }
  breaches { totalCount edges { node { sla level dueAt } } }
  timeline { edges { node { kind toState detail } } } } }"""
CUSTOMER = """query($id: ID!) { workOrder(id: $id) { state subject description
  comments { totalCount edges { node { body internal byCustomer } } } timeline { edges { node { kind } } } } }"""
FILE = """mutation($input: FileComplaintInput!) { fileComplaint(input: $input) {
  workOrder { id type priority complaint { state severity regulatorDueAt causePolicy { id } causeAgent } }
  errors { field code } } }"""
RESOLVE = """mutation($input: ResolveComplaintInput!) { resolveComplaint(input: $input) {
  workOrder { state complaint { state outcome } } errors { code } } }"""
ACK = """mutation($input: AcknowledgeComplaintResolutionInput!) { acknowledgeComplaintResolution(input: $input) {
  workOrder { state closedAt complaint { state accepted } } errors { code } } }"""
HOSTILE = "<img src=x onerror=alert(1)> '); DROP TABLE work_order; -- 请尽快处理"


@pytest.fixture
def clock() -> Iterator[MovableClock]:
    with moved_clock(T0) as c:
        yield c


def _setup(session_factory: Any) -> dict[str, Any]:
    with transaction(session_factory) as s:
        mine, theirs = make_claim_policy(s, today=T0.date()), make_claim_policy(s, today=T0.date())
        agent = make_agent(s, subject="agent-test", capacity=1)
        other = open_order(s, theirs, principal=AGENT)
        s.flush()
        return {"policy": mine.id, "customer": mine.customer_id, "agent": agent.id, "other": other.id}


def test_an_order_is_routed_answered_and_escalated_when_its_sla_breaks(
        gql: Any, settings: Settings, engine: Any, session_factory: Any, clock: MovableClock) -> None:
    ids = _setup(session_factory)
    customer = gql(Role.CUSTOMER, customer_id=ids["customer"])
    agent, lead = gql(Role.AGENT), gql(Role.MANAGER)
    urgent = customer(OPEN, {"input": {"type": "CONSULTATION", "subject": "急", "priority": "URGENT"}})
    assert [e["code"] for e in urgent["openWorkOrder"]["errors"]] == ["NOT_ALLOWED_FOR_CUSTOMER"]  # agents raise it
    opened = customer(OPEN, {"input": {"type": "CONSULTATION", "subject": HOSTILE, "description": HOSTILE,
                                       "policyId": encode_global_id("Policy", ids["policy"])}})
    order = opened["openWorkOrder"]["workOrder"]
    assert opened["openWorkOrder"]["errors"] == [] and order["state"] == "NEW"
    assert (order["subject"], order["description"]) == (HOSTILE, HOSTILE)  # verbatim, nothing interpreted
    # routing: the other customer's older order goes first; the agent's one slot is then full
    assert run_job(engine, session_factory, settings.data_dir, "service.route", at=clock.now()) == 1
    staff = lead(STAFF, {"id": order["id"]})["workOrder"]
    assert staff["assignee"] is None and staff["team"] == "frontline"
    assert staff["policy"]["id"] == encode_global_id("Policy", ids["policy"])

    # no first response within 4 business hours (NORMAL): breach, escalated to the team lead; once only
    clock.advance(minutes=299)  # Monday 10:00 -> 14:59 Beijing: 3:59 business hours (lunch is off)
    assert run_job(engine, session_factory, settings.data_dir, "service.sla", at=clock.now()) == 0
    clock.advance(minutes=2)
    assert run_job(engine, session_factory, settings.data_dir, "service.sla", at=clock.now()) == 2  # and the other's
    assert run_job(engine, session_factory, settings.data_dir, "service.sla", at=clock.now()) == 0
    staff = lead(STAFF, {"id": order["id"]})["workOrder"]
    assert staff["escalationLevel"] == 1
    assert nodes(staff["breaches"]) == [{"sla": "FIRST_RESPONSE", "level": 1, "dueAt": staff["firstResponseDueAt"]}]
    assert [t["detail"] for t in nodes(staff["timeline"]) if t["kind"] == "ESCALATED"] == [["level=1", "to=TEAM_LEAD"]]
    listed = lead("{ workOrders(filter: {escalated: true}) { totalCount } }")["workOrders"]
    assert listed["totalCount"] == 2  # this order and the other customer's, both unanswered

    # the agent answers in public (the order opens), notes internally, and waits for the customer
    for body, internal in (("您好 正在核实。", False), ("客户情绪激动", True)):
        said = agent(COMMENT, {"input": {"workOrderId": order["id"], "body": body, "internal": internal}})
        assert said["commentOnWorkOrder"]["errors"] == []
    moved = agent(MOVE, {"input": {"workOrderId": order["id"], "state": "PENDING_CUSTOMER"}})["moveWorkOrder"]
    assert moved["workOrder"] == {"state": "PENDING_CUSTOMER", "slaPaused": True}
    seen = customer(CUSTOMER, {"id": order["id"]})["workOrder"]
    assert [c["body"] for c in nodes(seen["comments"])] == ["您好 正在核实。"]  # never the internal note
    assert seen["comments"]["totalCount"] == 1 and "SLA_BREACHED" not in {t["kind"] for t in nodes(seen["timeline"])}

    # three weeks pending on the customer: the clocks are stopped, nothing breaches
    clock.advance(days=21)
    assert run_job(engine, session_factory, settings.data_dir, "service.sla", at=clock.now()) == 1  # the other order's resolution
    assert lead(STAFF, {"id": order["id"]})["workOrder"]["breaches"]["totalCount"] == 1

    # bad input: skipping states, another customer's order, empty and oversized text
    skip = customer(MOVE, {"input": {"workOrderId": order["id"], "state": "CLOSED"}})["moveWorkOrder"]
    assert [e["code"] for e in skip["errors"]] == ["INVALID_TRANSITION"]
    theirs = encode_global_id("WorkOrder", ids["other"])
    assert customer("query($id: ID!) { workOrder(id: $id) { id } }", {"id": theirs}) == {"workOrder": None}
    assert customer("{ workOrders { totalCount } }")["workOrders"]["totalCount"] == 1
    refused = customer(COMMENT, {"input": {"workOrderId": theirs, "body": "hi"}})["commentOnWorkOrder"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]
    for body, code in (("   ", "EMPTY_TEXT"), ("长" * 4001, "TEXT_TOO_LONG")):
        bad = customer(COMMENT, {"input": {"workOrderId": order["id"], "body": body}})["commentOnWorkOrder"]
        assert [e["code"] for e in bad["errors"]] == [code]
    internal = customer(COMMENT, {"input": {"workOrderId": order["id"], "body": "x", "internal": True}})
    assert [e["code"] for e in internal["commentOnWorkOrder"]["errors"]] == ["NOT_ALLOWED_FOR_CUSTOMER"]
    forbidden = customer.post("query($id: ID!) { workOrder(id: $id) { team } }", {"id": order["id"]})
    assert forbidden.status_code == 400 and forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_complaint_from_intake_to_acknowledgement(gql: Any, session_factory: Any, clock: MovableClock) -> None:
    ids = _setup(session_factory)
    agent, customer = gql(Role.AGENT), gql(Role.CUSTOMER, customer_id=ids["customer"])
    filed = agent(FILE, {"input": {"channel": "PHONE", "category": "POLICY_CHANGE", "severity": "HIGH",
                                   "subject": "退保金额不对", "customerId": encode_global_id("Customer", ids["customer"]),
                                   "causePolicyId": encode_global_id("Policy", ids["policy"]),
                                   "causeAgent": "agent-zhang"}})["fileComplaint"]
    assert filed["errors"] == []
    order = filed["workOrder"]
    assert order["type"] == "COMPLAINT" and order["priority"] == "HIGH"
    assert order["complaint"]["state"] == "RECEIVED" and order["complaint"]["causeAgent"] == "agent-zhang"
    assert order["complaint"]["regulatorDueAt"].startswith("2026-12-08T16:00:00")  # 15 days: end of 12-08 Beijing
    ack = customer(ACK, {"input": {"workOrderId": order["id"], "accepted": True}})["acknowledgeComplaintResolution"]
    assert [e["code"] for e in ack["errors"]] == ["NOT_RESOLVED"]
    done = agent(RESOLVE, {"input": {"workOrderId": order["id"], "outcome": "PARTIALLY_UPHELD",
                                     "note": "已重新核算退保金额"}})["resolveComplaint"]
    assert done["errors"] == [] and done["workOrder"]["state"] == "RESOLVED"
    ack = customer(ACK, {"input": {"workOrderId": order["id"], "accepted": True}})["acknowledgeComplaintResolution"]
    assert ack["errors"] == [] and ack["workOrder"]["state"] == "CLOSED"
    assert ack["workOrder"]["complaint"] == {"state": "ACKNOWLEDGED", "accepted": True}
    again = agent(COMMENT, {"input": {"workOrderId": order["id"], "body": "补充"}})["commentOnWorkOrder"]
    assert [e["code"] for e in again["errors"]] == ["ORDER_CLOSED"]


# --- live updates --------------------------------------------------------------------------------

LIVE = """subscription($team: String, $queue: Boolean!) { workOrderEvents(team: $team, queueOnly: $queue) {
  type workOrderId state fromState } }"""
LIVE_STAFF = "subscription { workOrderEvents(queueOnly: true) { type workOrderId team agentId } }"





@pytest.mark.timeout(60)
def test_agent_consoles_and_customers_follow_their_orders_live(http: TestClient, runtime: Runtime,
                                                               session_factory: Any) -> None:
    with transaction(session_factory) as s:
        mine, theirs = make_claim_policy(s), make_claim_policy(s)
        agent = make_agent(s, subject="agent-live", capacity=5)
        ids = {"mine": mine.id, "theirs": theirs.id, "customer": mine.customer_id, "agent": agent.id}
    queue_cm, queue = open_ws(http, runtime, Role.AGENT)
    customer_cm, customer = open_ws(http, runtime, Role.CUSTOMER, customer_id=ids["customer"])
    now = dt.datetime.now(dt.UTC)
    try:
        subscribe(queue, "q", {"query": LIVE_STAFF}, types=SERVICE_EVENT_TYPES)
        subscribe(customer, "c", {"query": LIVE, "variables": {"team": None, "queue": False}}, types=SERVICE_EVENT_TYPES)
        with transaction(session_factory) as s:
            other = open_order(s, s.get(type(mine), ids["theirs"]), principal=AGENT, now=now)
            order = open_order(s, s.get(type(mine), ids["mine"]), principal=AGENT, now=now)
            pair = {"other": other.id, "order": order.id}
        with transaction(session_factory) as s:
            service.add_comment(s, principal=AGENT, work_order_id=pair["order"], body="内部", internal=True, now=now)
            service.add_comment(s, principal=AGENT, work_order_id=pair["order"], body="您好", internal=False, now=now)
        with transaction(session_factory) as s:
            from resolvers.service import routing
            routing.route_waiting(s, now=now)
        order_gid = encode_global_id("WorkOrder", pair["order"])
        seen = [receive(customer)["payload"]["data"]["workOrderEvents"] for _ in range(3)]
        assert [(e["type"], e["workOrderId"], e["state"]) for e in seen] == [
            ("OPENED", order_gid, "NEW"), ("COMMENTED", order_gid, "OPEN"), ("STATE_CHANGED", order_gid, "OPEN")] \
            or [(e["type"], e["state"]) for e in seen] == [("OPENED", "NEW"), ("STATE_CHANGED", "OPEN"),
                                                            ("COMMENTED", "OPEN")]
        staff = [receive(queue)["payload"]["data"]["workOrderEvents"] for _ in range(5)]
        kinds = [(e["type"], e["workOrderId"]) for e in staff]
        assert ("OPENED", encode_global_id("WorkOrder", pair["other"])) in kinds  # every customer's orders
        assigned = [e for e in staff if e["type"] == "ASSIGNED"]
        assert assigned and all(e["agentId"] == encode_global_id("ServiceAgent", ids["agent"]) for e in assigned)
        assert all(e["type"] != "COMMENTED" for e in staff)  # queueOnly
    finally:
        for cm in (queue_cm, customer_cm):
            cm.__exit__(None, None, None)
