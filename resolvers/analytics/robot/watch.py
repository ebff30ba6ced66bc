"""The watch list: the robot scores customers and keeps those at or above its threshold under watch.

``scan`` scores a page of customers (features from the policies and claims read services, shared
flags from the consortium look-up) and records, for each at or above the model's threshold, a
WATCHING entry with its score and reasons (codes and raw values, rendered per role by the API,
never prose); a watched customer whose score falls below the threshold less ``HYSTERESIS`` is
CLEARED. Becoming watched or cleared appends ``analytics.watch_changed`` (risk readers: the
alerting hook, and what the claims risk profile reads through ``watch_entry``).

The worker's ``analytics.risk_robot`` job scans every customer once per business date.

Example::

    scan(session, customer_ids=[7, 8], today=date(2026, 11, 28), now=now, flags={7: 2})
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.event_stream import Actor, Aggregate, append
from resolvers.analytics.events import WatchChanged
from resolvers.analytics.models import WatchEntry, WatchStatus
from resolvers.analytics.robot.features import customer_features
from resolvers.analytics.robot.model import robot_model

__all__ = ["HYSTERESIS", "ScanResult", "WatchChanged", "WatchStatus", "scan", "watch_entry", "watch_query"]

HYSTERESIS = 0.1
ROBOT_ACTOR = Actor.system("analytics.risk_robot")


@dataclass
class ScanResult:
    """What one scan did."""

    scored: int = 0
    watched: int = 0
    cleared: int = 0


def watch_entry(session: Session, *, customer_id: int) -> WatchEntry | None:
    """The customer's watch entry (None when never watched)."""
    return session.scalar(select(WatchEntry).where(WatchEntry.customer_id == customer_id))


def watch_query(*, statuses: Sequence[WatchStatus] = ()) -> Select[WatchEntry]:
    """Watch entries, oldest first, filtered by status."""
    stmt = select(WatchEntry)
    return stmt.where(WatchEntry.status.in_(list(statuses))) if statuses else stmt


def _changed(session: Session, entry: WatchEntry) -> None:
    append(session, WatchChanged(customer_id=entry.customer_id, status=entry.status.value, score=entry.score,
                                 reason_codes=tuple(code for code, _ in entry.reasons)),
           aggregate=Aggregate("RiskWatch", entry.id), actor=ROBOT_ACTOR)


def scan(session: Session, *, customer_ids: Sequence[int], today: dt.date, now: dt.datetime,
         flags: Mapping[int, int] | Callable[[int], int] | None = None) -> ScanResult:
    """Score these customers and update the watch list (see module docstring)."""
    model = robot_model()
    result = ScanResult()
    if callable(flags):
        flags = {cid: flags(cid) for cid in customer_ids}
    entries = {e.customer_id: e for e in session.scalars(
        select(WatchEntry).where(WatchEntry.customer_id.in_(sorted(set(customer_ids)))).with_for_update())}
    for f in customer_features(session, customer_ids=customer_ids, today=today, flags=flags):
        s = model.score(f)
        result.scored += 1
        entry = entries.get(f.customer_id)
        reasons = [[code, value] for code, value in s.reasons]
        if s.probability >= model.threshold:
            if entry is None:
                entry = WatchEntry(customer_id=f.customer_id, status=WatchStatus.WATCHING, score=s.probability,
                                   reasons=reasons, model_version=model.version, flagged_at=now, scored_at=now)
                session.add(entry)
                session.flush()
                _changed(session, entry)
                result.watched += 1
                continue
            if entry.status is WatchStatus.CLEARED:
                entry.status, entry.flagged_at, entry.cleared_at = WatchStatus.WATCHING, now, None
                _changed(session, entry)
                result.watched += 1
        elif entry is not None and entry.status is WatchStatus.WATCHING \
                and s.probability < model.threshold - HYSTERESIS:
            entry.status, entry.cleared_at = WatchStatus.CLEARED, now
            _changed(session, entry)
            result.cleared += 1
        if entry is not None:
            entry.score, entry.reasons, entry.model_version, entry.scored_at = s.probability, reasons, model.version, now
    session.flush()
    return result
