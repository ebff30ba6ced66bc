# ruff: noqa: RUF001
"""Demo customer service: agents with routing profiles, work orders in every state, a breached SLA,
complaints (one escalated, one resolved and acknowledged), driven through the service's own functions
as their actors would; each action leaves the audit entry of the mutation a client would have called.

Orders (customers of the demo's active policies, business hours in Beijing):

* a consultation waiting in the frontline queue, and one answered and open;
* a policy change pending on the customer (its SLA clocks stopped);
* a claim follow-up linked to a claim, resolved; a callback, closed;
* a duplicate merged into the open consultation;
* a health-service request pending on another team;
* an URGENT consultation nobody answered: the SLA round records its breach and escalates it;
* a complaint about a claim's delay escalated to a manager, and one about a policy change resolved
  (partially upheld) and acknowledged by the customer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from opsure.demo.actors import CHECKER, MAKER, audit
from opsure.demo.clock import DemoClock
from resolvers.claims.models import Claim
from resolvers.policies.models import Policy, PolicyStatus
from resolvers.service import breaches, complaints, routing, service
from resolvers.service.models import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintSeverity,
    WorkOrder,
    WorkOrderPriority,
    WorkOrderState,
    WorkOrderType,
)
from schema.relay import encode_global_id

__all__ = ["AGENTS", "load_service"]

S = WorkOrderState
#: (subject, team, skills, capacity) of the demo's service agents.
AGENTS = (
    ("demo:agent-wang", "frontline", ("general", "policy"), 8),
    ("demo:agent-li", "frontline", ("general",), 6),
    ("demo:agent-zhou", "claims-care", ("claims",), 6),
    ("demo:agent-sun", "complaints", ("complaints",), 4),
    ("demo:agent-wu", "health", ("health",), 4),
    ("demo:agent-zheng", "outbound", ("callback",), 4),
)


def _customer(policy: Policy) -> Principal:
    return Principal(subject=f"demo:customer-{policy.customer_id}", role=Role.CUSTOMER, customer_id=policy.customer_id)


def _gid(order: WorkOrder) -> str:
    return encode_global_id("WorkOrder", order.id)


def _open(s: Session, policy: Policy, type_: WorkOrderType, subject: str, description: str, at: dt.datetime, *,
          priority: WorkOrderPriority = WorkOrderPriority.NORMAL, claim_id: int | None = None,
          by: Principal | None = None) -> WorkOrder:
    who = by or _customer(policy)
    order = service.open_work_order(s, principal=who, type=type_, subject=subject, description=description, now=at,
                                    priority=priority, links=service.Links(policy_id=policy.id, claim_id=claim_id))
    audit(s, who, "openWorkOrder", {"type": type_.value, "subject": subject}, _gid(order))
    return order


def _say(s: Session, who: Principal, order: WorkOrder, body: str, at: dt.datetime, *, internal: bool = False) -> None:
    service.add_comment(s, principal=who, work_order_id=order.id, body=body, internal=internal, now=at)
    audit(s, who, "commentOnWorkOrder", {"workOrderId": _gid(order), "body": body}, _gid(order))


def _move(s: Session, who: Principal, order: WorkOrder, state: WorkOrderState, at: dt.datetime) -> None:
    service.transition(s, principal=who, work_order_id=order.id, to_state=state, now=at)
    audit(s, who, "moveWorkOrder", {"workOrderId": _gid(order), "state": state.name}, _gid(order))


def load_service(s: Session, rng: random.Random, clock: DemoClock) -> dict[str, int]:
    """Agents, work orders in every state, a breach, complaints; returns the showcase orders' ids."""
    for subject, team, skills, capacity in AGENTS:
        routing.set_agent(s, principal=CHECKER, subject=subject, team=team, skills=skills, capacity=capacity,
                          active=True, now=clock.at(30))
        audit(s, CHECKER, "setServiceAgent", {"subject": subject, "team": team})
    claim = s.scalar(select(Claim).order_by(Claim.id).limit(1))
    claimed = s.get(Policy, claim.policy_id) if claim is not None else None
    policies = [pol for pol in s.scalars(select(Policy).where(Policy.status == PolicyStatus.ACTIVE)
                                         .order_by(Policy.id).limit(40)) if pol is not claimed]
    rng.shuffle(policies)
    p = itertools.cycle(policies)  # a small demo has few customers: some ask twice
    agent = MAKER  # demo:agent-wang, frontline
    zhou = Principal(subject="demo:agent-zhou", role=Role.AGENT)
    made: dict[str, WorkOrder] = {}

    asker = next(p)
    made["open"] = _open(s, asker, WorkOrderType.CONSULTATION, "住院押金能否直付？", "下周住院，想了解直付医院。",
                         clock.at(3, 10))
    made["merged"] = _open(s, asker, WorkOrderType.CONSULTATION, "再问一次：直付", "同上", clock.at(3, 11))
    made["pending_customer"] = _open(s, next(p), WorkOrderType.POLICY_CHANGE, "变更联系电话",
                                     "手机号换了，请帮忙更新。", clock.at(3, 14))
    claim_id = claim.id if claim is not None else None
    made["resolved"] = _open(s, claimed or next(p), WorkOrderType.CLAIM_FOLLOW_UP, "理赔进度查询",
                             "<b>三周</b>了还没有结果 '; --", clock.at(4, 9), claim_id=claim_id)
    caller = next(p)
    made["closed"] = _open(s, caller, WorkOrderType.CALLBACK, "请回电", "工作日下午方便。", clock.at(6, 15))
    made["pending_internal"] = _open(s, next(p), WorkOrderType.HEALTH_SERVICE, "预约体检", "想预约年度体检。",
                                     clock.at(2, 10))
    made["waiting"] = _open(s, next(p), WorkOrderType.CONSULTATION, "保单犹豫期多久？", "刚买的保单。",
                            clock.at(0, 9))

    routing.route_waiting(s, now=clock.at(2, 16))  # the queues as they were two days ago
    _say(s, agent, made["open"], "您好，直付医院清单已发送到您的邮箱。", clock.at(2, 16, 30))
    merged = service.merge_work_orders(s, principal=agent, work_order_id=made["merged"].id,
                                       into_id=made["open"].id, now=clock.at(2, 16, 40))
    audit(s, agent, "mergeWorkOrders", {"workOrderId": _gid(made["merged"]), "intoId": _gid(merged)}, _gid(merged))
    _say(s, agent, made["pending_customer"], "请上传新手机号的实名认证截图。", clock.at(2, 17))
    _move(s, agent, made["pending_customer"], S.PENDING_CUSTOMER, clock.at(2, 17))
    _say(s, zhou, made["resolved"], "已催办，理赔款今日到账。", clock.at(2, 11))
    _move(s, zhou, made["resolved"], S.RESOLVED, clock.at(2, 11, 5))
    outbound = Principal(subject="demo:agent-zheng", role=Role.AGENT)
    _say(s, outbound, made["closed"], "已回电，客户问题已解答。", clock.at(5, 15))
    _move(s, outbound, made["closed"], S.RESOLVED, clock.at(5, 15, 5))
    _move(s, _customer(caller), made["closed"], S.CLOSED, clock.at(5, 16))
    health = Principal(subject="demo:agent-wu", role=Role.AGENT)
    _say(s, health, made["pending_internal"], "已联系体检中心排期。", clock.at(1, 10))
    _move(s, health, made["pending_internal"], S.PENDING_INTERNAL, clock.at(1, 10, 5))

    # an URGENT request nobody answers: the SLA round finds its first response missed and escalates it
    made["breached"] = _open(s, next(p), WorkOrderType.CONSULTATION, "急：医院要求今天缴费", "请尽快回复。",
                             clock.at(1, 9), priority=WorkOrderPriority.URGENT, by=agent)  # taken by phone

    # complaints: one about a claim's delay escalated to a manager; one resolved and acknowledged
    plaintiff = claimed or asker
    made["complaint"] = complaints.file_complaint(
        s, principal=agent, channel=ComplaintChannel.PHONE, category=ComplaintCategory.CLAIM_DELAY,
        severity=ComplaintSeverity.HIGH, subject="理赔拖延投诉", description="三周没有结果，要求说明原因。",
        now=clock.at(2, 14), links=service.Links(customer_id=plaintiff.customer_id), cause_claim_id=claim_id)
    audit(s, agent, "fileComplaint", {"category": "CLAIM_DELAY"}, _gid(made["complaint"]))
    complaints.escalate_complaint(s, principal=agent, work_order_id=made["complaint"].id, manager=CHECKER.subject,
                                  now=clock.at(2, 15))
    audit(s, agent, "escalateComplaint", {"workOrderId": _gid(made["complaint"])}, _gid(made["complaint"]))
    changed = next(p)
    made["complaint_done"] = complaints.file_complaint(
        s, principal=_customer(changed), channel=ComplaintChannel.APP, category=ComplaintCategory.POLICY_CHANGE,
        severity=ComplaintSeverity.MEDIUM, subject="批改后保费不对", description="变更地址后保费变了。",
        now=clock.at(5, 10), cause_policy_id=changed.id)
    complaints.resolve_complaint(s, principal=Principal(subject="demo:agent-sun", role=Role.AGENT),
                                 work_order_id=made["complaint_done"].id, outcome=ComplaintOutcome.PARTIALLY_UPHELD,
                                 note="已核实：保费差额将退回。", now=clock.at(4, 11))
    complaints.acknowledge_resolution(s, principal=_customer(changed), work_order_id=made["complaint_done"].id,
                                      accepted=True, now=clock.at(4, 15))
    audit(s, _customer(changed), "acknowledgeComplaintResolution", {"accepted": True}, _gid(made["complaint_done"]))

    breaches.check_breaches(s, now=clock.now)
    return {name: order.id for name, order in made.items()}
