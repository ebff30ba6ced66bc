"""SLA policies of work orders and the regulator's complaint deadlines, on the business calendar.

Lengths are business time (``core.calendar``: Beijing business hours, Chinese public holidays
off, adjusted workdays on). Defaults per priority, in business minutes:

============  ==============  =============  ==========
priority      first response  next response  resolution
============  ==============  =============  ==========
URGENT        30              60             480 (1 day)
HIGH          60              120            960 (2 days)
NORMAL        240             480            2400 (5 days)
LOW           480             960            4800 (10 days)
============  ==============  =============  ==========

Settings ``extra`` override them: ``service.sla.<kind>.<priority>`` for every type, or
``service.sla.<type>.<kind>.<priority>`` for one type (kind: first_response, next_response,
resolution; minutes of business time), e.g. ``service.sla.complaint.first_response.normal=120``.

Complaints (``Complaint.regulator_due_at``): the decision is due ``service.complaint.decision_days``
[15] calendar days after receipt (the close of that day in Beijing), as the NFRA's measures on
consumer complaints (银行保险机构消费投诉处理管理办法, 2020) ask as we read them (compliance confirms
the figures; both are settings); an extension for a
complex case moves it to ``service.complaint.extended_days`` [30]. Severity sets the order's
priority (LOW, MEDIUM: NORMAL; HIGH: HIGH; CRITICAL: URGENT) and CRITICAL complaints, and those
the regulator forwards, go to a manager at intake. The resolution SLA of a complaint is never
later than its regulator deadline.

While an order is PENDING_CUSTOMER its clocks stop: on resuming, each running due time moves
on by the business time that was left when it stopped (:meth:`SlaPolicy.resume`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from core.calendar import BusinessCalendar, default_calendar
from resolvers.service.models import ComplaintSeverity, SlaKind, WorkOrderPriority, WorkOrderType

__all__ = ["DEFAULT_MINUTES", "SEVERITY_PRIORITY", "MemoCalendar", "SlaPolicy", "memo_calendar"]

P = WorkOrderPriority
#: Business minutes per (kind, priority).
DEFAULT_MINUTES: dict[tuple[SlaKind, WorkOrderPriority], int] = {
    (SlaKind.FIRST_RESPONSE, P.URGENT): 30, (SlaKind.FIRST_RESPONSE, P.HIGH): 60,
    (SlaKind.FIRST_RESPONSE, P.NORMAL): 240, (SlaKind.FIRST_RESPONSE, P.LOW): 480,
    (SlaKind.NEXT_RESPONSE, P.URGENT): 60, (SlaKind.NEXT_RESPONSE, P.HIGH): 120,
    (SlaKind.NEXT_RESPONSE, P.NORMAL): 480, (SlaKind.NEXT_RESPONSE, P.LOW): 960,
    (SlaKind.RESOLUTION, P.URGENT): 480, (SlaKind.RESOLUTION, P.HIGH): 960,
    (SlaKind.RESOLUTION, P.NORMAL): 2400, (SlaKind.RESOLUTION, P.LOW): 4800,
}
#: A complaint's severity decides its work order's priority.
SEVERITY_PRIORITY: dict[ComplaintSeverity, WorkOrderPriority] = {
    ComplaintSeverity.LOW: P.NORMAL, ComplaintSeverity.MEDIUM: P.NORMAL, ComplaintSeverity.HIGH: P.HIGH,
    ComplaintSeverity.CRITICAL: P.URGENT,
}


@dataclass(frozen=True)
class MemoCalendar(BusinessCalendar):
    """``core.calendar``'s calendar, remembering each day's answer and business windows (same results).

    SLA clocks ask the same few hundred days again and again; the library's look-up and the
    day's window instants are computed once per day (and time zone).
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "_days", {})
        object.__setattr__(self, "_day_windows", {})

    def is_business_day(self, day: dt.date) -> bool:
        days: dict[dt.date, bool] = self._days  # type: ignore[attr-defined]
        found = days.get(day)
        if found is None:
            found = days[day] = super().is_business_day(day)
        return found

    def _windows(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        key = (day, self.tz.key)
        memo: dict[tuple[dt.date, str], list[tuple[dt.datetime, dt.datetime]]] = self._day_windows  # type: ignore[attr-defined]
        found = memo.get(key)
        if found is None:
            found = memo[key] = super()._windows(day)
        return found


@cache
def memo_calendar(base: BusinessCalendar) -> MemoCalendar:
    """The remembering twin of ``base`` (one per distinct calendar configuration)."""
    return MemoCalendar(hours=base.hours, zone=base.zone, extra_holidays=base.extra_holidays,
                        extra_workdays=base.extra_workdays)


@dataclass(frozen=True)
class SlaPolicy:
    """SLA lengths by type, kind and priority, the complaint deadlines, and the calendar."""

    minutes: dict[tuple[WorkOrderType | None, SlaKind, WorkOrderPriority], int] = field(default_factory=dict)
    decision_days: int = 15
    extended_days: int = 30
    #: Business minutes an assignee may stay silent before the order is reassigned.
    silence_minutes: int = 60
    calendar: BusinessCalendar = field(default_factory=lambda: memo_calendar(default_calendar()))

    @classmethod
    def from_extra(cls, extra: dict[str, str] | None) -> SlaPolicy:
        """The policy of the settings' ``extra`` (see the module docstring for the keys)."""
        extra = extra or {}
        minutes: dict[tuple[WorkOrderType | None, SlaKind, WorkOrderPriority], int] = {}
        for key, value in extra.items():
            parts = key.split(".")
            if parts[:2] != ["service", "sla"] or len(parts) not in (4, 5):
                continue
            kind_type = None if len(parts) == 4 else WorkOrderType(parts[2])
            minutes[(kind_type, SlaKind(parts[-2]), WorkOrderPriority(parts[-1]))] = int(value)
        return cls(minutes=minutes, decision_days=int(extra.get("service.complaint.decision_days", 15)),
                   extended_days=int(extra.get("service.complaint.extended_days", 30)),
                   silence_minutes=int(extra.get("service.routing.silence_minutes", 60)),
                   calendar=memo_calendar(default_calendar(extra)))

    def length(self, type_: WorkOrderType, kind: SlaKind, priority: WorkOrderPriority) -> dt.timedelta:
        """The business time of ``kind`` for an order of ``type_`` and ``priority``."""
        found = self.minutes.get((type_, kind, priority), self.minutes.get((None, kind, priority)))
        return dt.timedelta(minutes=found if found is not None else DEFAULT_MINUTES[(kind, priority)])

    def due(self, at: dt.datetime, type_: WorkOrderType, kind: SlaKind, priority: WorkOrderPriority) -> dt.datetime:
        """When ``kind`` started at ``at`` is due."""
        return self.calendar.add_business_hours(at, self.length(type_, kind, priority))

    def regulator_due(self, received_at: dt.datetime, *, extended: bool = False) -> dt.datetime:
        """The end (Beijing midnight) of the decision_days-th calendar day after receipt."""
        tz = self.calendar.tz
        day = received_at.astimezone(tz).date() + dt.timedelta(days=self.extended_days if extended
                                                               else self.decision_days)
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)

    def silence_limit(self, since: dt.datetime) -> dt.datetime:
        """When an assignee silent since ``since`` loses the order."""
        return self.calendar.add_business_hours(since, dt.timedelta(minutes=self.silence_minutes))

    def resume(self, due: dt.datetime | None, paused_at: dt.datetime, now: dt.datetime) -> dt.datetime | None:
        """A due time stopped at ``paused_at``, moved on by the business time it had left."""
        if due is None:
            return None
        left = self.calendar.business_time_between(paused_at, due)
        return self.calendar.add_business_hours(now, left)
