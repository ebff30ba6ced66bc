"""Routing: oldest waiting first to the least loaded qualified agent, capacity never exceeded (also by
concurrent assigners on PostgreSQL), transfers between teams, reassignment of silent assignees."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db import transaction
from core.errors import DomainError
from resolvers.service import routing, service
from resolvers.service.models import ACTIVE_STATES, ServiceAgent, WorkOrder, WorkOrderState, WorkOrderType
from tests.service_factories import AGENT, LEAD, T0, agent_principal, make_agent, open_order, policy_holder


def _loads(s: Any) -> dict[int, tuple[int, int, int]]:
    """Each agent's (stored load, capacity, orders actually held)."""
    held = dict(s.execute(select(WorkOrder.assignee_id, func.count()).where(
        WorkOrder.assignee_id.is_not(None), WorkOrder.state.in_(ACTIVE_STATES)).group_by(WorkOrder.assignee_id)).all())
    return {a.id: (a.load, a.capacity, held.get(a.id, 0)) for a in s.scalars(select(ServiceAgent))}


def test_the_oldest_waiting_order_goes_first_to_the_least_loaded_agent(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        busy, idle = make_agent(s, capacity=2), make_agent(s, capacity=2)
        other_team = make_agent(s, team="claims-care", skills=("claims",), capacity=5)
        first = open_order(s, policy, now=T0)
        service.transition(s, principal=LEAD, work_order_id=first.id, to_state=WorkOrderState.OPEN, now=T0)
        routing.assign(s, principal=LEAD, work_order_id=first.id, agent_id=busy.id, now=T0)
        orders = [open_order(s, policy, now=T0 + dt.timedelta(minutes=m)) for m in (3, 1, 2)]
    with transaction(session_factory) as s:
        assert routing.route_waiting(s, now=T0 + dt.timedelta(minutes=5)) == (3, 0)
    with transaction(session_factory) as s:
        by_id = {o.id: service.get_work_order(s, principal=AGENT, work_order_id=o.id) for o in orders}
        # minutes 1 and 2 (oldest) went first: idle (0) then busy/idle alternately by load; minute 3 last
        assert by_id[orders[1].id].assignee_id == idle.id
        assert {o.assignee_id for o in by_id.values()} <= {busy.id, idle.id}
        loads = _loads(s)
        assert loads[busy.id][0] == 2 and loads[idle.id][0] == 2 and loads[other_team.id][0] == 0
        assert all(load == held <= cap for load, cap, held in loads.values())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(capacities=st.lists(st.integers(0, 4), min_size=1, max_size=5), orders=st.integers(0, 14),
       skills=st.lists(st.sampled_from(["general", "policy"]), min_size=1, max_size=14))
def test_a_round_never_exceeds_capacity_and_leaves_the_rest_waiting(session_factory: Any, capacities: list[int],
                                                                    orders: int, skills: list[str]) -> None:
    with transaction(session_factory) as s:
        s.execute(WorkOrder.__table__.update().where(WorkOrder.state.in_(ACTIVE_STATES))
                  .values(state=WorkOrderState.CLOSED))  # examples share a database: start from an empty queue
        policy = policy_holder(s)
        agents = [make_agent(s, capacity=c, skills=("general",) if i % 2 else ("general", "policy"))
                  for i, c in enumerate(capacities)]
        made = [open_order(s, policy, type=WorkOrderType.POLICY_CHANGE if skills[i % len(skills)] == "policy"
                           else WorkOrderType.CONSULTATION) for i in range(orders)]
    with transaction(session_factory) as s:
        assigned, left = routing.route_waiting(s, now=T0)
    assert assigned + left == len(made)
    with transaction(session_factory) as s:
        loads = _loads(s)
        for agent in agents:
            load, cap, held = loads[agent.id]
            assert load == held <= cap
        if left:  # nobody qualified has room for what is left
            waiting = s.scalars(select(WorkOrder).where(WorkOrder.id.in_([o.id for o in made]),
                                                        WorkOrder.assignee_id.is_(None))).all()
            for order in waiting:
                assert all(loads[a.id][0] == a.capacity or order.skill not in a.skills for a in agents)


def test_assigning_beyond_capacity_is_refused(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        agent = make_agent(s, capacity=1)
        a, b = open_order(s, policy), open_order(s, policy)
        routing.assign(s, principal=LEAD, work_order_id=a.id, agent_id=agent.id, now=T0)
    with pytest.raises(DomainError) as caught, transaction(session_factory) as s:
        routing.assign(s, principal=LEAD, work_order_id=b.id, agent_id=agent.id, now=T0)
    assert caught.value.code == "AGENT_FULL"
    with pytest.raises(DomainError) as lower, transaction(session_factory) as s:
        make_agent(s, subject=agent.subject, capacity=0)
    assert lower.value.code == "CAPACITY_BELOW_LOAD"


def test_concurrent_assigners_never_exceed_capacity(session_factory: Any) -> None:
    """Eight threads race to give eight orders to one agent with room for three (real concurrency on PG)."""
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        agent = make_agent(s, capacity=3)
        orders = [open_order(s, policy).id for _ in range(8)]
    barrier, outcomes = threading.Barrier(len(orders)), []

    def give(order_id: int) -> None:
        barrier.wait()
        try:
            with transaction(session_factory) as s:
                routing.assign(s, principal=LEAD, work_order_id=order_id, agent_id=agent.id, now=T0)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=give, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 3, outcomes
    with transaction(session_factory) as s:
        assert _loads(s)[agent.id] == (3, 3, 3)


def test_transfer_moves_an_order_to_another_team_and_frees_the_agent(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        front = make_agent(s, capacity=1)
        claims_care = make_agent(s, team="claims-care", skills=("claims",), capacity=1)
        order = open_order(s, policy)
        routing.assign(s, principal=agent_principal(front.subject), work_order_id=order.id, agent_id=None, now=T0)
        routing.transfer(s, principal=agent_principal(front.subject), work_order_id=order.id, team="claims-care",
                         skill="claims", now=T0)
    with transaction(session_factory) as s:
        assert _loads(s)[front.id][0] == 0
        assert routing.route_waiting(s, now=T0) == (1, 0)
        assert service.get_work_order(s, principal=AGENT, work_order_id=order.id).assignee_id == claims_care.id
    with pytest.raises(DomainError) as same, transaction(session_factory) as s:
        routing.transfer(s, principal=AGENT, work_order_id=order.id, team="claims-care", skill=None, now=T0)
    assert same.value.code == "SAME_QUEUE"


def test_a_silent_assignee_loses_the_order_to_another_agent(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        silent, other = make_agent(s, capacity=1), make_agent(s, capacity=1)
        order = open_order(s, policy)
        routing.assign(s, principal=LEAD, work_order_id=order.id, agent_id=silent.id, now=T0)
    with transaction(session_factory) as s:  # 59 business minutes: still theirs
        assert routing.reassign_silent(s, now=T0 + dt.timedelta(minutes=59)) == 0
    with transaction(session_factory) as s:
        assert routing.reassign_silent(s, now=T0 + dt.timedelta(minutes=61)) == 1
        assert routing.route_waiting(s, now=T0 + dt.timedelta(minutes=61)) == (1, 0)
    with transaction(session_factory) as s:
        assert service.get_work_order(s, principal=AGENT, work_order_id=order.id).assignee_id == other.id
        assert _loads(s)[silent.id][0] == 0


def test_an_agent_who_acts_keeps_the_order(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = policy_holder(s)
        agent = make_agent(s, capacity=1)
        order = open_order(s, policy)
        routing.assign(s, principal=agent_principal(agent.subject), work_order_id=order.id, agent_id=None, now=T0)
        service.add_comment(s, principal=agent_principal(agent.subject), work_order_id=order.id, body="在处理",
                            internal=True, now=T0 + dt.timedelta(minutes=50))
    with transaction(session_factory) as s:
        assert routing.reassign_silent(s, now=T0 + dt.timedelta(minutes=100)) == 0
