"""Routing of work orders to agents: queues by team and skill, capacity, oldest waiting first,
transfers between teams, and reassignment of orders whose assignee stays silent.

Capacity holds under any concurrency: an agent's ``load`` only grows by a conditional UPDATE
(``load + n <= capacity``), and a CHECK constraint backs it; a refused update refuses the
assignment (``AGENT_FULL``) or, in a bulk round, rolls the round back (``ROUTING_CONFLICT``).

* :func:`route_waiting` — one bulk round: every waiting order, oldest first, goes to the least
  loaded qualified agent with room; loads counted once, orders updated by one executemany.
* :func:`route_one` — the same choice for one order by SQL (what a request-by-request router does).
* :func:`assign` — by hand (a supervisor names the agent) or ``take`` (an agent takes it).
* :func:`transfer` — to another team's queue; :func:`reassign_silent` — the silence job.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from core.auth import Principal
from core.errors import ConflictError, InvalidTransitionError, NotFoundError, ValidationError, collect_errors
from core.event_stream import Actor
from core.roles import SERVICE_SUPERVISORS
from resolvers.service import events, service
from resolvers.service.models import (
    ACTIVE_STATES,
    ActivityKind,
    ServiceAgent,
    WorkOrder,
    WorkOrderActivity,
    WorkOrderState,
)
from resolvers.service.sla import SlaPolicy
from resolvers.service.states import check_editable

__all__ = ["ROUTABLE_STATES", "agent_of", "agents_query", "assign", "reassign_silent", "route_one", "route_waiting",
           "set_agent", "transfer"]

_JOB = Actor.system("service.routing")
#: Orders in these states wait for an agent when nobody holds them (pending on the customer: not yet).
ROUTABLE_STATES = (WorkOrderState.NEW, WorkOrderState.OPEN, WorkOrderState.PENDING_INTERNAL)
_MAX_SKILLS = 20


def agents_query(*, team: str | None = None) -> Any:
    """Agent profiles by id (optionally one team's)."""
    stmt = select(ServiceAgent)
    return stmt.where(ServiceAgent.team == team) if team else stmt


def agent_of(session: Session, subject: str) -> ServiceAgent | None:
    """The agent profile of a staff subject, if any."""
    return session.scalar(select(ServiceAgent).where(ServiceAgent.subject == subject))


def set_agent(session: Session, *, principal: Principal, subject: str, team: str, skills: Sequence[str],
              capacity: int, active: bool, now: dt.datetime) -> ServiceAgent:
    """Create or change an agent's routing profile (supervisors); capacity never below the load held now."""
    row = session.scalar(select(ServiceAgent).where(ServiceAgent.subject == subject).with_for_update()
                         .execution_options(populate_existing=True))
    with collect_errors() as errors:
        if not 1 <= len(subject) <= 200:
            errors.add(ValidationError("subject: 1-200 characters", field="subject"))
        service.check_queue_name(errors, team, "team")
        if not 1 <= len(skills) <= _MAX_SKILLS:
            errors.add(ValidationError(f"name 1-{_MAX_SKILLS} skills", field="skills", code="BAD_QUEUE"))
        for skill in skills:
            service.check_queue_name(errors, skill, "skills")
        if not 0 <= capacity <= 1000:
            errors.add(ValidationError("capacity: 0-1,000 orders", field="capacity", code="BAD_CAPACITY"))
        elif row is not None and capacity < row.load:
            errors.add(ValidationError(f"the agent holds {row.load} orders: capacity cannot go below it",
                                       field="capacity", code="CAPACITY_BELOW_LOAD"))
        errors.raise_if_any()
    if row is None:
        row = ServiceAgent(subject=subject, load=0)
        session.add(row)
    row.team, row.skills, row.capacity, row.active = team, sorted(set(skills)), capacity, active
    row.updated_by, row.updated_at = principal.subject, now
    session.flush()
    return row


def _take_slot(session: Session, agent_id: int, n: int = 1) -> bool:
    """Grow an agent's load by ``n`` if it stays within capacity (atomic; False when full)."""
    a = ServiceAgent
    done = session.execute(update(a).where(a.id == agent_id, a.active.is_(True), a.load + n <= a.capacity)
                           .values(load=a.load + n, version=a.version + 1)
                           .execution_options(synchronize_session=False))
    held = session.identity_map.get(identity_key(ServiceAgent, agent_id))
    if held is not None:
        session.expire(held)
    return bool(cast(Any, done).rowcount)


def _give(session: Session, order: WorkOrder, agent: ServiceAgent, *, how: str, actor: Principal | Actor,
          now: dt.datetime) -> None:
    if not _take_slot(session, agent.id):
        raise ConflictError(f"agent {agent.subject} holds as many orders as their capacity", field="agentId",
                            code="AGENT_FULL")
    service.release_slot(session, order)
    order.assignee_id, order.assigned_at, order.waiting_since, order.agent_active_at = agent.id, now, None, None
    session.flush()
    subject = actor.subject
    service.log_activity(session, order, ActivityKind.ASSIGNED, actor=subject, now=now, public=False,
                         agent=agent.id, how=how)
    events.publish(session, order, events.WorkOrderAssigned(**events.fact(order), agent_id=agent.id, how=how),
                   actor=actor if isinstance(actor, Actor) else Actor.of(actor))


def _qualified(agent: ServiceAgent, order: WorkOrder) -> bool:
    return agent.team == order.team and order.skill in agent.skills


def assign(session: Session, *, principal: Principal, work_order_id: int, agent_id: int | None,
           now: dt.datetime) -> WorkOrder:
    """Give an order to an agent: a supervisor names any qualified agent; an agent (``agent_id`` None)
    takes it themself. Capacity is checked atomically (``AGENT_FULL``)."""
    order = service.get_work_order(session, principal=principal, work_order_id=work_order_id, lock=True)
    check_editable(order.state)
    if order.state not in ACTIVE_STATES:
        raise InvalidTransitionError(f"a {order.state.name} order is not in a queue", field="workOrderId",
                                     code="INVALID_TRANSITION")
    if agent_id is None:
        agent = agent_of(session, principal.subject)
        if agent is None:
            raise NotFoundError("you have no agent profile", field="agentId", code="NO_AGENT_PROFILE")
    else:
        if principal.role not in SERVICE_SUPERVISORS:
            raise ValidationError("only team leads and managers assign orders to others", field="agentId",
                                  code="NOT_SUPERVISOR")
        agent = session.get(ServiceAgent, agent_id)
        if agent is None:
            raise NotFoundError("agent not found", field="agentId")
    if not agent.active or not _qualified(agent, order):
        raise ValidationError(f"the agent does not work the {order.team}/{order.skill} queue (or is inactive)",
                              field="agentId", code="AGENT_NOT_QUALIFIED")
    if order.assignee_id == agent.id:
        raise ConflictError("the agent holds this order already", field="agentId", code="ALREADY_ASSIGNED")
    _give(session, order, agent, how="manual" if agent_id is not None else "take", actor=principal, now=now)
    return order


def transfer(session: Session, *, principal: Principal, work_order_id: int, team: str, skill: str | None,
             now: dt.datetime) -> WorkOrder:
    """Move an order to another team's queue (it keeps its place: it waits since it was opened)."""
    order = service.get_work_order(session, principal=principal, work_order_id=work_order_id, lock=True)
    with collect_errors() as errors:
        with errors.check():
            check_editable(order.state)
        service.check_queue_name(errors, team, "team")
        if skill is not None:
            service.check_queue_name(errors, skill, "skill")
        if order.state not in ACTIVE_STATES:
            errors.add(InvalidTransitionError(f"a {order.state.name} order is not in a queue",
                                              field="workOrderId", code="INVALID_TRANSITION"))
        if team == order.team and (skill is None or skill == order.skill):
            errors.add(ValidationError("the order is in that queue already", field="team", code="SAME_QUEUE"))
        errors.raise_if_any()
    before, held = order.team, order.assignee_id
    service.release_slot(session, order)
    order.team, order.skill = team, skill or order.skill
    order.assignee_id, order.assigned_at, order.waiting_since = None, None, order.created_at
    session.flush()
    service.log_activity(session, order, ActivityKind.TRANSFERRED, actor=principal.subject, now=now, public=False,
                         from_team=before, team=team, skill=order.skill, agent=held)
    events.publish(session, order, events.WorkOrderTransferred(**events.fact(order), from_team=before,
                                                               skill=order.skill), actor=Actor.of(principal))
    return order


def route_one(session: Session, *, work_order_id: int, now: dt.datetime) -> bool:
    """Route one waiting order to the least loaded qualified agent with room (False: nobody has room)."""
    order = service.get_work_order(session, principal=service.SYSTEM, work_order_id=work_order_id, lock=True)
    if order.assignee_id is not None or order.state not in ROUTABLE_STATES:
        return False
    a = ServiceAgent
    candidates = [agent for agent in session.scalars(
        select(a).where(a.team == order.team, a.active.is_(True), a.load < a.capacity).order_by(a.load, a.id))
        if order.skill in agent.skills]
    candidates.sort(key=lambda agent: agent.id == order.skip_agent_id)  # the silent one last (stable)
    for agent in candidates:
        if _take_slot(session, agent.id):
            order.assignee_id, order.assigned_at, order.waiting_since = agent.id, now, None
            order.agent_active_at = None
            session.flush()
            service.log_activity(session, order, ActivityKind.ASSIGNED, actor=_JOB.subject, now=now, public=False,
                                 agent=agent.id, how="route")
            events.publish(session, order, events.WorkOrderAssigned(**events.fact(order), agent_id=agent.id,
                                                                    how="route"), actor=_JOB)
            return True
    return False


def route_waiting(session: Session, *, now: dt.datetime, limit: int | None = None) -> tuple[int, int]:
    """One bulk round: waiting orders, oldest first, to the least loaded qualified agent with room;
    returns (assigned, left waiting). Loads grow by conditional updates, so capacity holds even
    against a concurrent writer (then the round refuses with ROUTING_CONFLICT and changes nothing)."""
    w = WorkOrder
    stmt = (select(w.id, w.team, w.skill, w.skip_agent_id, w.version, w.customer_id, w.state)
            .where(w.assignee_id.is_(None), w.state.in_(ROUTABLE_STATES))
            .order_by(w.waiting_since, w.id).with_for_update(skip_locked=True))
    waiting = list(session.execute(stmt.limit(limit) if limit else stmt).tuples())
    if not waiting:
        return 0, 0
    a = ServiceAgent
    agents = list(session.execute(select(a.id, a.team, a.skills, a.load, a.capacity).where(
        a.active.is_(True), a.load < a.capacity, a.team.in_({row[1] for row in waiting})).order_by(a.id)
        .with_for_update()).tuples())
    heaps: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    room = {agent_id: capacity - load for agent_id, _, _, load, capacity in agents}
    load_of = {agent_id: load for agent_id, _, _, load, _ in agents}
    for agent_id, team, skills, load, _ in agents:
        for skill in skills:
            heaps[(team, skill)].append((load, agent_id))
    for entries in heaps.values():
        heapq.heapify(entries)
    chosen: list[tuple[Any, int]] = []
    for row in waiting:
        queue = heaps.get((row[1], row[2]))
        heap: list[tuple[int, int]] = queue if queue is not None else []
        skipped: list[tuple[int, int]] = []
        pick = None
        while heap:
            load, agent_id = heapq.heappop(heap)
            if room[agent_id] <= 0:
                continue  # full (through another skill's queue): drop it from this one
            if load != load_of[agent_id]:
                heapq.heappush(heap, (load_of[agent_id], agent_id))  # stale entry: re-rank
                continue
            if agent_id == row[3]:
                skipped.append((load, agent_id))
                continue
            pick = agent_id
            break
        if pick is None and skipped:  # only the agent it was taken from has room: better them than nobody
            pick = skipped.pop()[1]
        for item in skipped:
            heapq.heappush(heap, item)  # type: ignore[arg-type]
        if pick is None:
            continue
        room[pick] -= 1
        load_of[pick] += 1
        if room[pick] > 0:
            heapq.heappush(heap, (load_of[pick], pick))  # type: ignore[arg-type]
        chosen.append((row, pick))
    if not chosen:
        return 0, len(waiting)
    grown: dict[int, int] = defaultdict(int)
    for _, agent_id in chosen:
        grown[agent_id] += 1
    for agent_id, n in grown.items():
        if not _take_slot(session, agent_id, n):
            raise ConflictError("an agent's load changed during the round", code="ROUTING_CONFLICT")
    t = cast(Table, WorkOrder.__table__)
    done = session.execute(update(t).where(t.c.id == bindparam("oid"), t.c.version == bindparam("v")).values(
        assignee_id=bindparam("aid"), assigned_at=now, waiting_since=None, agent_active_at=None,
        version=bindparam("v2"), updated_at=now).execution_options(synchronize_session=False),
        [{"oid": row[0], "v": row[4], "v2": row[4] + 1, "aid": agent_id} for row, agent_id in chosen])
    if cast(Any, done).rowcount != len(chosen):
        raise ConflictError("a waiting order changed during the round", code="ROUTING_CONFLICT")
    for row, _ in chosen:
        held = session.identity_map.get(identity_key(WorkOrder, row[0]))
        if held is not None:
            session.expire(held)
    session.execute(insert(WorkOrderActivity), [
        {"work_order_id": row[0], "kind": ActivityKind.ASSIGNED, "actor": _JOB.subject, "at": now, "public": False,
         "from_state": None, "to_state": None, "detail": {"agent": str(agent_id), "how": "route"}}
        for row, agent_id in chosen])
    for row, agent_id in chosen:
        events.publish_for(session, row[0], row[4] + 1, events.WorkOrderAssigned(
            work_order_id=row[0], customer_id=row[5], team=row[1], state=row[6], assignee_id=agent_id,
            agent_id=agent_id, how="route"), actor=_JOB)
    return len(chosen), len(waiting) - len(chosen)


def reassign_silent(session: Session, *, now: dt.datetime, extra: dict[str, str] | None = None) -> int:
    """Take orders back from assignees silent past the limit (business time since they got the order or
    last acted on it); each waits again in its old place, its routing skipping that agent. Returns how many."""
    sla = SlaPolicy.from_extra(extra)
    w = WorkOrder
    cutoff = now - dt.timedelta(minutes=sla.silence_minutes)  # wall time >= business time: a superset
    candidates = session.scalars(select(w).where(
        w.assignee_id.is_not(None), w.state.in_(ROUTABLE_STATES), w.assigned_at < cutoff,
        (w.agent_active_at.is_(None)) | (w.agent_active_at < cutoff)).order_by(w.id).with_for_update(
        skip_locked=True))
    taken = 0
    for order in list(candidates):
        since = max(t for t in (order.assigned_at, order.agent_active_at) if t is not None)
        if sla.silence_limit(since) > now:
            continue
        agent_id = order.assignee_id
        assert agent_id is not None
        service.release_slot(session, order)
        order.assignee_id, order.assigned_at, order.skip_agent_id = None, None, agent_id
        order.waiting_since = order.created_at
        session.flush()
        service.log_activity(session, order, ActivityKind.UNASSIGNED, actor=_JOB.subject, now=now, public=False,
                             agent=agent_id, reason="SILENT")
        events.publish(session, order, events.WorkOrderUnassigned(**events.fact(order), agent_id=agent_id,
                                                                  reason="SILENT"), actor=_JOB)
        taken += 1
    return taken
