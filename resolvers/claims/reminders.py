"""Reminders of supplementary documents past due: a periodic job, idempotent per business day.

A request still unfulfilled after its due date, on a claim still waiting for documents,
is reminded once, then again every ``REMIND_EVERY_DAYS`` days: the customer reads the
reminder in the claim's timeline (DOCUMENT_REMINDED) and the request counts it.

Example::

    opsure jobs run claims.document_reminders --at 2026-07-01T09:00:00+08:00
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal, Role
from core.clock import business_date
from core.db import transaction
from core.jobs import job
from resolvers.claims.models import Claim, ClaimEventKind, ClaimState, DocumentRequest
from resolvers.claims.reasons import Reason, ReasonCode
from resolvers.claims.states import record_event

__all__ = ["REMIND_EVERY_DAYS", "remind_overdue", "send_document_reminders"]

REMIND_EVERY_DAYS = 3
_BATCH = 500
_REMINDER = Principal(subject="system:reminders", role=Role.ADMIN)


def remind_overdue(session: Session, *, at: dt.datetime, limit: int = _BATCH) -> int:
    """Remind up to ``limit`` requests past due on ``at``'s business date; how many were reminded."""
    today = business_date(at)
    again = today - dt.timedelta(days=REMIND_EVERY_DAYS)
    rows = session.execute(
        select(DocumentRequest, Claim).join(Claim, Claim.id == DocumentRequest.claim_id)
        .where(DocumentRequest.fulfilled_by_id.is_(None), DocumentRequest.due_on < today,
               Claim.state == ClaimState.DOCUMENTS_PENDING,
               or_(DocumentRequest.last_reminded_on.is_(None), DocumentRequest.last_reminded_on <= again))
        .order_by(DocumentRequest.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    for request, claim in rows:
        request.reminder_count = (request.reminder_count or 0) + 1
        request.last_reminded_on = today
        record_event(session, claim, actor=_REMINDER, kind=ClaimEventKind.DOCUMENT_REMINDED, at=at,
                     reason=Reason(ReasonCode.DOCUMENT_REMINDED, {"kind": request.kind, "dueOn": request.due_on}))
    session.flush()
    return len(rows)


@job("claims.document_reminders", "remind customers of supplementary documents past due (every 3 days)")
def send_document_reminders(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """One round of reminders, in batches until none is left for today."""
    total = 0
    while True:
        with transaction(sessions) as session:
            done = remind_overdue(session, at=at)
        total += done
        if done < _BATCH:
            return total
