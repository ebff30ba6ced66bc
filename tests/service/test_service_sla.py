"""SLA clocks on the business calendar (public holidays off, adjusted workdays on), stopped while pending on
the customer; breaches recorded once each and escalated (team lead, then manager); complaints' regulator
deadline, escalation, resolution and acknowledgement."""

from __future__ import annotations

import datetime as dt
from typing import Any

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import default_calendar
from core.db import transaction
from core.errors import DomainError
from resolvers.service import breaches, complaints, service
from resolvers.service.models import (
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintSeverity,
    ComplaintState,
    SlaKind,
    WorkOrderPriority,
    WorkOrderState,
    WorkOrderType,
)
from resolvers.service.sla import SlaPolicy
from tests.claim_factories import customer_principal
from tests.service_factories import AGENT, LEAD, T0, file, open_order, policy_holder

BEIJING = dt.timezone(dt.timedelta(hours=8))
S = WorkOrderState


def test_a_first_response_due_over_national_day_lands_on_the_next_workday() -> None:
    sla = SlaPolicy()
    opened = dt.datetime(2026, 9, 30, 16, 0, tzinfo=BEIJING)  # 2 business hours left that day
    due = sla.due(opened, WorkOrderType.CONSULTATION, SlaKind.FIRST_RESPONSE, WorkOrderPriority.NORMAL)
    day = dt.date(2026, 10, 1)
    while not chinese_calendar.is_workday(day):
        day += dt.timedelta(days=1)
    assert due.astimezone(BEIJING) == dt.datetime.combine(day, dt.time(11), BEIJING)  # 2 h more from 09:00


def test_an_adjusted_weekend_workday_counts() -> None:
    adjusted = next(d for d in (dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(365))
                    if d.weekday() >= 5 and chinese_calendar.is_workday(d))
    before = adjusted - dt.timedelta(days=1)
    while not chinese_calendar.is_workday(before):
        before -= dt.timedelta(days=1)
    start = dt.datetime.combine(before, dt.time(17, 30), BEIJING)  # 30 business minutes left that day
    due = SlaPolicy().due(start, WorkOrderType.CONSULTATION, SlaKind.FIRST_RESPONSE, WorkOrderPriority.HIGH)
    assert due.astimezone(BEIJING) == dt.datetime.combine(adjusted, dt.time(9, 30), BEIJING)


@settings(max_examples=60, deadline=None)
@given(minutes=st.integers(0, 60 * 24 * 40), length=st.integers(1, 6000))
def test_the_business_time_between_start_and_due_is_the_sla_length(minutes: int, length: int) -> None:
    sla = SlaPolicy(minutes={(None, SlaKind.RESOLUTION, WorkOrderPriority.LOW): length})
    start = dt.datetime(2026, 9, 1, tzinfo=BEIJING) + dt.timedelta(minutes=minutes)
    due = sla.due(start, WorkOrderType.CONSULTATION, SlaKind.RESOLUTION, WorkOrderPriority.LOW)
    assert sla.calendar.business_time_between(start, due) == dt.timedelta(minutes=length)


def test_settings_override_lengths_and_deadlines() -> None:
    sla = SlaPolicy.from_extra({"service.sla.first_response.normal": "30",
                                "service.sla.complaint.first_response.normal": "10",
                                "service.complaint.decision_days": "10"})
    assert sla.length(WorkOrderType.CONSULTATION, SlaKind.FIRST_RESPONSE, WorkOrderPriority.NORMAL).seconds == 1800
    assert sla.length(WorkOrderType.COMPLAINT, SlaKind.FIRST_RESPONSE, WorkOrderPriority.NORMAL).seconds == 600
    assert sla.regulator_due(T0).astimezone(BEIJING) == dt.datetime(2026, 12, 4, tzinfo=BEIJING)


def test_pending_on_the_customer_stops_the_clocks(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        order = open_order(s, policy)
        service.add_comment(s, principal=AGENT, work_order_id=order.id, body="请补充材料", internal=False, now=T0)
        due = order.resolution_due_at
        service.transition(s, principal=AGENT, work_order_id=order.id, to_state=S.PENDING_CUSTOMER, now=T0)
    later = T0 + dt.timedelta(days=20)  # weeks waiting for the customer: no breach
    with transaction(session_factory) as s:
        assert breaches.check_breaches(s, now=later) == 0
        service.add_comment(s, principal=customer_principal(policy.customer_id), work_order_id=order.id,
                            body="已上传", internal=False, now=later)
        resumed = service.get_work_order(s, principal=AGENT, work_order_id=order.id)
        assert resumed.state is S.OPEN and resumed.paused_at is None
        assert due is not None and resumed.resolution_due_at is not None
        cal = default_calendar()
        assert cal.business_time_between(later, resumed.resolution_due_at) == cal.business_time_between(T0, due)
        assert resumed.next_response_due_at is not None  # the customer wrote: an answer is due


def test_breaches_are_recorded_once_and_escalate_team_lead_then_manager(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        order = open_order(s, policy_holder(s), principal=AGENT, priority=WorkOrderPriority.URGENT)
    first = T0 + dt.timedelta(minutes=31)
    with transaction(session_factory) as s:
        assert breaches.check_breaches(s, now=first) == 1
        assert breaches.check_breaches(s, now=first) == 0  # idempotent
    with transaction(session_factory) as s:
        assert breaches.check_breaches(s, now=T0 + dt.timedelta(days=2)) == 1  # resolution (8 business hours)
        got = service.get_work_order(s, principal=AGENT, work_order_id=order.id)
        assert got.escalation_level == 2
    assert [breaches.escalation_target(n, SlaKind.FIRST_RESPONSE) for n in (1, 2)] == ["TEAM_LEAD", "MANAGER"]


def test_a_complaint_gets_the_regulators_deadline_and_goes_through_acknowledgement(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        order = file(s, policy, cause_policy_id=policy.id, cause_agent="agent-rude")
        complaint = complaints.complaint_of(s, order)
        assert complaint.regulator_due_at.astimezone(BEIJING) == dt.datetime(2026, 12, 9, tzinfo=BEIJING)
        assert order.resolution_due_at is not None and order.resolution_due_at <= complaint.regulator_due_at
        assert order.priority is WorkOrderPriority.NORMAL and complaint.state is ComplaintState.RECEIVED
    me = customer_principal(policy.customer_id)
    with pytest.raises(DomainError) as early, transaction(session_factory) as s:
        complaints.acknowledge_resolution(s, principal=me, work_order_id=order.id, accepted=True, now=T0)
    assert early.value.code == "NOT_RESOLVED"
    with transaction(session_factory) as s:
        complaints.escalate_complaint(s, principal=AGENT, work_order_id=order.id, manager="manager-li", now=T0)
        complaints.resolve_complaint(s, principal=AGENT, work_order_id=order.id, outcome=ComplaintOutcome.UPHELD,
                                     note="已加急处理并补偿", now=T0 + dt.timedelta(hours=1))
    with transaction(session_factory) as s:  # disputed: handled again
        complaints.acknowledge_resolution(s, principal=me, work_order_id=order.id, accepted=False, now=T0)
        assert service.get_work_order(s, principal=me, work_order_id=order.id).state is S.OPEN
        complaints.resolve_complaint(s, principal=AGENT, work_order_id=order.id, outcome=ComplaintOutcome.UPHELD,
                                     note="再次核实", now=T0 + dt.timedelta(hours=2))
        complaints.acknowledge_resolution(s, principal=me, work_order_id=order.id, accepted=True, now=T0)
    with transaction(session_factory) as s:
        got = service.get_work_order(s, principal=me, work_order_id=order.id)
        row = complaints.complaint_of(s, got)
        assert got.state is S.CLOSED and row.state is ComplaintState.ACKNOWLEDGED and row.accepted is True


def test_a_critical_complaint_goes_to_a_manager_and_a_missed_regulator_deadline_escalates(
        session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        critical = file(s, policy, severity=ComplaintSeverity.CRITICAL)
        plain = file(s, policy, channel=ComplaintChannel.APP)
        assert critical.priority is WorkOrderPriority.URGENT
        assert complaints.complaint_of(s, critical).state is ComplaintState.ESCALATED
    with transaction(session_factory) as s:
        complaints.extend_deadline(s, principal=LEAD, work_order_id=plain.id, now=T0)
        with pytest.raises(DomainError):
            complaints.extend_deadline(s, principal=LEAD, work_order_id=plain.id, now=T0)
    with transaction(session_factory) as s:
        assert breaches.check_breaches(s, now=T0 + dt.timedelta(days=32)) >= 2
        row = complaints.complaint_of(s, service.get_work_order(s, principal=AGENT, work_order_id=plain.id))
        assert row.state is ComplaintState.ESCALATED and row.escalated_to == "MANAGER"


@settings(max_examples=80, deadline=None)
@given(minutes=st.integers(0, 60 * 24 * 700), length=st.integers(0, 10_000))
def test_the_remembering_calendar_answers_as_the_core_calendar(minutes: int, length: int) -> None:
    plain = default_calendar()
    memo = SlaPolicy().calendar
    start = dt.datetime(2025, 6, 1, tzinfo=BEIJING) + dt.timedelta(minutes=minutes)
    amount = dt.timedelta(minutes=length)
    assert memo.add_business_hours(start, amount) == plain.add_business_hours(start, amount)
    assert memo.is_business_day(start.date()) is plain.is_business_day(start.date())
    assert memo.business_time_between(start, start + amount) == plain.business_time_between(start, start + amount)
