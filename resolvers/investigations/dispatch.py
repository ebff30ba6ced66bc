"""The periodic rounds of the investigations domain, as services over one session (jobs call them).

* :func:`open_for_risky_claims` — every INVESTIGATING claim without an open investigation gets
  one (the risk step routes HIGH risk there; the hook is ``service.request_for_risk``).
* :func:`dispatch_pending` — every PENDING investigation, oldest first, is offered to the best
  firm with room, in one pass: the profiles are locked once, loads counted once, and each
  choice updates the chosen firm's load in memory, so capacity holds for the whole round.
* :func:`check_slas` — offers not accepted in time expire (the investigation waits for another
  firm), a missed first visit or report escalates; each miss once (a unique row per miss).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from core.errors import DomainError
from core.event_stream import Actor
from core.pagination import PageRequest
from partners import assignments as partner_assignments
from partners import loaders as partner_loaders
from partners.assignments import AssignmentKind
from resolvers.claims.queue import QueueFilter, list_queue
from resolvers.claims.service import ClaimState
from resolvers.investigations import events, firms, service
from resolvers.investigations.models import (
    AssignmentHow,
    AssignmentState,
    Investigation,
    InvestigationAssignment,
    InvestigationEscalation,
    InvestigationState,
    SlaKind,
)
from resolvers.investigations.sla import SlaPolicy

__all__ = ["check_slas", "dispatch_pending", "open_for_risky_claims"]

_JOB = Actor.system("investigations")
log = logging.getLogger("opsure.investigations")
_PAGE = 500


def open_for_risky_claims(session: Session, *, now: dt.datetime, extra: dict[str, str] | None = None) -> int:
    """Open an investigation for every INVESTIGATING claim that has none open; returns how many."""
    opened, after = 0, None
    while True:
        page = list_queue(session, principal=service.SYSTEM, page=PageRequest(first=_PAGE, after=after),
                          filter=QueueFilter(states=(ClaimState.INVESTIGATING,)))
        for claim in page.items:
            rules = [h["code"] for h in claim.risk_hints or () if h.get("source") == "rule"]
            try:
                with session.begin_nested():  # one claim's refusal (e.g. CALENDAR_UNKNOWN_YEAR) stops no other
                    found = service.request_for_risk(session, claim_id=claim.id, rules=rules or ["MODEL_SCORE"],
                                                     now=now, extra=extra)
            except DomainError as exc:
                log.warning("no investigation opened for claim %s: %s %s", claim.id, exc.code, exc.message)
                continue
            opened += found is not None
        if not page.has_next:
            return opened
        after = page.end_cursor


def dispatch_pending(session: Session, *, now: dt.datetime, extra: dict[str, str] | None = None,
                     limit: int | None = None) -> tuple[int, int]:
    """Offer pending investigations to firms in one pass; returns (offered, left without a firm).

    Bulk: pending rows are read and locked as plain rows (no entities in the session), offers are
    inserted and the investigations updated by one executemany each; only the partners
    registry's survey assignments are made one by one, through its service.
    """
    sla = SlaPolicy.from_extra(extra)
    i = Investigation
    stmt = (select(i.id, i.region, i.claim_id, i.version).where(i.state == InvestigationState.PENDING)
            .order_by(i.id).with_for_update(skip_locked=True))
    pending = list(session.execute(stmt.limit(limit) if limit else stmt).tuples())
    if not pending:
        return 0, 0
    profiles = firms.lock_profiles(session)
    slots = firms.slots(session, profiles, declined_of=[row[0] for row in pending])
    regions = firms.by_region(slots.values())
    chosen: list[tuple[int, int, int, int]] = []  # investigation, claim, version, firm
    for inv_id, region, claim_id, version in pending:
        slot = firms.choose(regions.get(region, ()), region=region, investigation_id=inv_id)
        if slot is None:
            continue
        slot.load += 1
        chosen.append((inv_id, claim_id, version, slot.partner_id))
    if not chosen:
        return 0, len(pending)
    due = sla.accept_due(now)
    a = cast(Table, InvestigationAssignment.__table__)
    offer_ids = [int(r[0]) for r in session.execute(insert(a).returning(a.c.id, sort_by_parameter_order=True), [
        {"investigation_id": inv_id, "partner_id": firm, "how": AssignmentHow.AUTO, "state": AssignmentState.OFFERED,
         "assigned_by": service.SYSTEM.subject, "offered_at": now, "accept_due_at": due, "more_requested": 0}
        for inv_id, _, _, firm in chosen])]
    registry_ids = []
    # the registry reads each firm by primary key: held here, they stay in the identity map (it holds
    # entities weakly), so that read costs no query
    held_firms = partner_loaders.partners_by_id(session, sorted({firm for _, _, _, firm in chosen}))
    for (inv_id, _, _, firm), offer_id in zip(chosen, offer_ids, strict=True):
        row = partner_assignments.create_assignment(
            session, principal=service.SYSTEM, partner_id=firm, kind=AssignmentKind.SURVEY,
            case_reference=service.reference(inv_id), investigation_id=service.signed_id(offer_id), now=now)
        registry_ids.append(row.id)
        session.expunge(row)  # keeps the identity map small: every savepoint snapshots it
    del held_firms
    session.execute(update(a).where(a.c.id == bindparam("oid")).values(partner_assignment_id=bindparam("rid"))
                    .execution_options(synchronize_session=False),
                    [{"oid": o, "rid": r} for o, r in zip(offer_ids, registry_ids, strict=True)])
    t = cast(Table, Investigation.__table__)
    session.execute(update(t).where(t.c.id == bindparam("iid"), t.c.version == bindparam("v")).values(
        state=InvestigationState.ASSIGNED, current_assignment_id=bindparam("oid"), accept_due_at=due,
        visit_due_at=None, version=bindparam("v2"), updated_at=now).execution_options(synchronize_session=False),
        [{"iid": inv_id, "v": version, "v2": version + 1, "oid": offer_id}
         for (inv_id, _, version, _), offer_id in zip(chosen, offer_ids, strict=True)])
    for key in [identity_key(Investigation, inv_id) for inv_id, _, _, _ in chosen]:
        held = session.identity_map.get(key)
        if held is not None:  # an entity of this session (requested in the same transaction) reads the new row
            session.expire(held)
    for (inv_id, claim_id, version, firm), offer_id in zip(chosen, offer_ids, strict=True):
        events.publish_for(session, inv_id, version + 1, events.InvestigationAssigned(
            investigation_id=inv_id, claim_id=claim_id, state=InvestigationState.ASSIGNED, assignment_id=offer_id,
            partner_id=firm, how=AssignmentHow.AUTO), actor=_JOB)
    return len(chosen), len(pending) - len(chosen)


def _escalate(session: Session, inv: Investigation, sla: SlaKind, due_at: dt.datetime, assignment_id: int,
              now: dt.datetime) -> bool:
    """Record one missed SLA (False when it was recorded already)."""
    level = inv.escalation_level + 1
    try:
        with session.begin_nested():
            session.add(InvestigationEscalation(investigation_id=inv.id, assignment_id=assignment_id, sla=sla,
                                                due_at=due_at, at=now, level=level))
            session.flush()
    except IntegrityError:
        return False
    inv.escalation_level = level
    session.flush()
    events.publish(session, inv, events.InvestigationEscalated(
        investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, sla=sla, due_at=due_at, level=level),
        actor=_JOB)
    return True


def _not_escalated(sla: SlaKind) -> Any:
    e = InvestigationEscalation
    return ~exists().where(and_(e.investigation_id == Investigation.id, e.sla == sla,
                                e.assignment_id == Investigation.current_assignment_id))


def check_slas(session: Session, *, now: dt.datetime) -> int:
    """Expire late offers and escalate missed visits and reports; returns how many misses it recorded."""
    misses = 0
    a = InvestigationAssignment
    late = list(session.scalars(select(Investigation).join(a, a.id == Investigation.current_assignment_id).where(
        Investigation.state == InvestigationState.ASSIGNED, a.state == AssignmentState.OFFERED,
        a.accept_due_at < now).order_by(Investigation.id).with_for_update(of=Investigation)))
    for inv in late:
        assignment_id = inv.current_assignment_id
        assert assignment_id is not None and inv.accept_due_at is not None
        due = inv.accept_due_at
        session.execute(update(a).where(a.id == assignment_id, a.state == AssignmentState.OFFERED)
                        .values(state=AssignmentState.EXPIRED, ended_at=now).execution_options(synchronize_session=False))
        inv.state, inv.current_assignment_id, inv.accept_due_at = InvestigationState.PENDING, None, None
        session.flush()
        events.publish(session, inv, events.InvestigationStateChanged(
            investigation_id=inv.id, claim_id=inv.claim_id, state=inv.state, from_state=InvestigationState.ASSIGNED,
            partner_id=None), actor=_JOB)
        misses += _escalate(session, inv, SlaKind.ACCEPTANCE, due, assignment_id, now)
    no_visit = session.scalars(select(Investigation).where(
        Investigation.state == InvestigationState.IN_PROGRESS, Investigation.first_visit_at.is_(None),
        Investigation.visit_due_at < now, _not_escalated(SlaKind.FIRST_VISIT)).order_by(Investigation.id))
    for inv in list(no_visit):
        assert inv.visit_due_at is not None and inv.current_assignment_id is not None
        misses += _escalate(session, inv, SlaKind.FIRST_VISIT, inv.visit_due_at, inv.current_assignment_id, now)
    no_report = session.scalars(select(Investigation).where(
        Investigation.state.in_((InvestigationState.ASSIGNED, InvestigationState.IN_PROGRESS)),
        Investigation.report_due_at < now, _not_escalated(SlaKind.REPORT)).order_by(Investigation.id))
    for inv in list(no_report):
        assert inv.report_due_at is not None and inv.current_assignment_id is not None
        misses += _escalate(session, inv, SlaKind.REPORT, inv.report_due_at, inv.current_assignment_id, now)
    return misses
