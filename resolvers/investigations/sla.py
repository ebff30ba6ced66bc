"""SLA deadlines of an investigation, on the business-day calendar (``core.calendar``).

Settings ``extra`` (defaults in brackets): ``investigations.sla.accept_hours`` [4] business
hours from an offer to its acceptance; ``investigations.sla.visit_days`` [2] business days
from acceptance to the first visit (close of business); ``investigations.sla.report_days``
[10] business days from the request to the report, unless the adjuster names an earlier
due date; ``investigations.sla.more_days`` [5] business days for a report asked again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.calendar import BusinessCalendar, default_calendar

__all__ = ["SlaPolicy"]


@dataclass(frozen=True)
class SlaPolicy:
    """The SLA lengths and the calendar they are counted on."""

    accept_hours: int = 4
    visit_days: int = 2
    report_days: int = 10
    more_days: int = 5
    calendar: BusinessCalendar = field(default_factory=default_calendar)

    @classmethod
    def from_extra(cls, extra: dict[str, str] | None) -> SlaPolicy:
        """The policy of the settings' ``extra``."""
        extra = extra or {}

        def num(key: str, default: int) -> int:
            return int(extra.get(f"investigations.sla.{key}", default))

        return cls(num("accept_hours", 4), num("visit_days", 2), num("report_days", 10), num("more_days", 5),
                   default_calendar(extra))

    def accept_due(self, offered_at: dt.datetime) -> dt.datetime:
        """When an offer made at ``offered_at`` must be accepted."""
        return self.calendar.add_business_hours(offered_at, dt.timedelta(hours=self.accept_hours))

    def visit_due(self, accepted_at: dt.datetime) -> dt.datetime:
        """When the first visit is due after acceptance at ``accepted_at``."""
        return self.calendar.add_business_days_at(accepted_at, self.visit_days)

    def report_due(self, requested_at: dt.datetime, due_on: dt.date | None) -> dt.datetime:
        """When the report is due: the close of ``due_on`` if given and earlier, else ``report_days`` on."""
        default = self.calendar.add_business_days_at(requested_at, self.report_days)
        if due_on is None:
            return default
        return min(default, self.calendar.close_of(due_on))

    def more_due(self, at: dt.datetime) -> dt.datetime:
        """When a report asked again at ``at`` is due."""
        return self.calendar.add_business_days_at(at, self.more_days)
