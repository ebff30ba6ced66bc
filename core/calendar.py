"""The business-day calendar: Chinese public holidays, adjusted workdays and business hours.

A *business day* is a workday by the State Council's calendar (``chinesecalendar``): Monday
to Friday unless a public holiday, plus the weekend days declared adjusted workdays (调休).
*Business hours* are windows of local time on a business day (default 09:00-12:00 and
13:00-18:00 in the business time zone, ``core.clock.business_zone``). Every function is
pure over its arguments: "now" comes from the caller (``core.clock.now()``), so a moved
clock moves every deadline.

The library is updated yearly, when the State Council publishes the next year's arrangement
(usually in November or December). For the ``PROVISIONAL_YEARS`` after the last year it
knows, a day is judged *provisionally* — Monday to Friday except the fixed-date statutory
holidays (1 January, 1-2 May, 1-3 October) — so SLAs keep running into the new year instead
of refusing work; ``is_provisional(day)`` says so, and the lunar festivals and adjusted
workdays come with the published arrangement (update ``chinesecalendar``, or set
``OPSURE_CALENDAR_EXTRA_HOLIDAYS`` / ``OPSURE_CALENDAR_EXTRA_WORKDAYS``: a year with any
extra day counts as published). Before the library's first year, or further ahead, every
question is a ``CalendarUnknown`` refusal.

Example::

    cal = default_calendar()
    cal.is_business_day(dt.date(2026, 10, 1))                 # False: National Day
    cal.add_business_days(dt.date(2026, 9, 30), 1)            # 2026-10-08
    due = cal.add_business_hours(now(), dt.timedelta(hours=4))  # an SLA on business hours
    cal.business_time_between(start, due)                     # 4:00:00 again
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _published

from core.clock import business_zone
from core.errors import DomainError

__all__ = [
    "DEFAULT_HOURS",
    "PROVISIONAL_YEARS",
    "BusinessCalendar",
    "BusinessHours",
    "CalendarUnknown",
    "default_calendar",
]

#: Years after the last published one that are judged provisionally (weekdays, fixed-date holidays).
PROVISIONAL_YEARS = 2

#: The statutory holidays on fixed Gregorian dates (全国年节及纪念日放假办法, as revised in 2024).
_FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))

_DAY = dt.timedelta(days=1)


class CalendarUnknown(DomainError):
    """A date outside the years whose holidays and adjusted workdays are known."""

    code = "CALENDAR_UNKNOWN_YEAR"


@dataclass(frozen=True)
class BusinessHours:
    """Windows of local time on a business day, ordered and disjoint (start inclusive, end exclusive)."""

    windows: tuple[tuple[dt.time, dt.time], ...]

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("business hours need at least one window")
        previous = dt.time(0)
        for start, end in self.windows:
            if not previous <= start < end:
                raise ValueError("business-hour windows must be ordered, disjoint and non-empty")
            previous = end

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        """Windows from ``"09:00-12:00,13:00-18:00"``."""
        windows = []
        for part in text.split(","):
            start, end = part.strip().split("-")
            windows.append((dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())))
        return cls(tuple(windows))

    @property
    def per_day(self) -> dt.timedelta:
        """Business time in one business day."""
        return sum((_span(s, e) for s, e in self.windows), dt.timedelta())


def _span(start: dt.time, end: dt.time) -> dt.timedelta:
    day = dt.date(2000, 1, 1)
    return dt.datetime.combine(day, end) - dt.datetime.combine(day, start)


#: 09:00-12:00 and 13:00-18:00: eight hours with a lunch break.
DEFAULT_HOURS = BusinessHours(((dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))))


@dataclass(frozen=True)
class BusinessCalendar:
    """Business days and hours in one time zone; published holidays plus any an operator adds."""

    hours: BusinessHours = DEFAULT_HOURS
    zone: str | None = None  # None: the process's business zone (OPSURE_BUSINESS_TZ)
    extra_holidays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_workdays: frozenset[dt.date] = field(default_factory=frozenset)

    # --- days ----------------------------------------------------------------------------------

    @property
    def known_years(self) -> range:
        """The years whose arrangement is known (the library's, widened by the extra days)."""
        first, last = _library_years()
        extra = [d.year for d in (*self.extra_holidays, *self.extra_workdays)]
        return range(min([first, *extra]), max([last, *extra]) + 1)

    @property
    def answered_years(self) -> range:
        """The years the calendar answers for: the known ones and the provisional ones after them."""
        known = self.known_years
        return range(known.start, known.stop + PROVISIONAL_YEARS)

    def is_provisional(self, day: dt.date) -> bool:
        """Whether ``day`` falls in a year judged provisionally (not yet published)."""
        self._check(day)
        return day.year not in self.known_years

    def _check(self, day: dt.date) -> None:
        years = self.answered_years
        if day.year not in years:
            raise CalendarUnknown(
                f"the business calendar answers for {years.start}-{years.stop - 1}, not {day.year} "
                "(update chinesecalendar, or add the year's holidays and adjusted workdays)")

    def is_business_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a workday: a weekday that is no holiday, or an adjusted workday."""
        self._check(day)
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if day.year in _library_range():
            return bool(chinese_calendar.is_workday(day))
        if day.year not in self.known_years and (day.month, day.day) in _FIXED_HOLIDAYS:
            return False  # provisional year: only the fixed-date holidays are certain
        return day.weekday() < 5

    def holiday_name(self, day: dt.date) -> str | None:
        """The public holiday ``day`` belongs to (English name), if any."""
        self._check(day)
        name = _published.holidays.get(day)
        return str(name) if name is not None else None

    def next_business_day(self, day: dt.date) -> dt.date:
        """The first business day strictly after ``day``."""
        day += _DAY
        while not self.is_business_day(day):
            day += _DAY
        return day

    def add_business_days(self, day: dt.date, days: int) -> dt.date:
        """The ``days``-th business day after ``day`` (0: ``day`` itself if a business day, else the next)."""
        if days < 0:
            raise ValueError("business days are added forward only")
        if days == 0:
            return day if self.is_business_day(day) else self.next_business_day(day)
        for _ in range(days):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many business days lie in ``(start, end]`` (0 when ``end <= start``)."""
        count, day = 0, start
        while day < end:
            day += _DAY
            count += self.is_business_day(day)
        return count

    # --- instants ------------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The calendar's time zone."""
        return business_zone(self.zone)

    def _utc(self, at: dt.datetime) -> dt.datetime:
        if at.tzinfo is None:
            raise ValueError("the business calendar needs aware datetimes")
        return at.astimezone(dt.UTC)

    def _windows(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's windows as UTC instants (arithmetic in UTC stays right across DST in other zones)."""
        return [(dt.datetime.combine(day, s, self.tz).astimezone(dt.UTC),
                 dt.datetime.combine(day, e, self.tz).astimezone(dt.UTC)) for s, e in self.hours.windows]

    def is_business_time(self, at: dt.datetime) -> bool:
        """Whether ``at`` falls inside business hours of a business day."""
        utc = self._utc(at)
        day = utc.astimezone(self.tz).date()
        return self.is_business_day(day) and any(s <= utc < e for s, e in self._windows(day))

    def business_day_of(self, at: dt.datetime) -> dt.date:
        """The business day work arriving at ``at`` counts on: its date, or the next business day after hours."""
        utc = self._utc(at)
        day = utc.astimezone(self.tz).date()
        if self.is_business_day(day) and utc < self._windows(day)[-1][1]:
            return day
        return self.next_business_day(day)

    def close_of(self, day: dt.date) -> dt.datetime:
        """The end of business hours on ``day`` (aware, UTC)."""
        return self._windows(day)[-1][1]

    def add_business_days_at(self, at: dt.datetime, days: int) -> dt.datetime:
        """The close of business on the ``days``-th business day after the business day of ``at`` (UTC)."""
        return self.close_of(self.add_business_days(self.business_day_of(at), days))

    def add_business_hours(self, at: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The instant after ``amount`` of business time from ``at`` (UTC).

        The result lies inside a window or at a window's end; zero from outside business
        hours is the start of the next window.
        """
        if amount < dt.timedelta():
            raise ValueError("business time is added forward only")
        cursor = self._utc(at)
        day, left, whole = cursor.astimezone(self.tz).date(), amount, self.hours.per_day
        while True:
            if self.is_business_day(day):
                for start, end in self._windows(day):
                    begin = max(start, cursor)
                    if begin >= end:
                        continue
                    if left <= end - begin:
                        return begin + left
                    left -= end - begin
            day += _DAY
            while left > whole and self.is_business_day(day):  # whole days without walking their windows
                left -= whole
                day += _DAY

    def business_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Business time inside ``[start, end)`` (zero when ``end <= start``)."""
        a, b = self._utc(start), self._utc(end)
        total = dt.timedelta()
        day, last = a.astimezone(self.tz).date(), b.astimezone(self.tz).date()
        while day <= last:
            if self.is_business_day(day):
                for s, e in self._windows(day):
                    lo, hi = max(s, a), min(e, b)
                    if hi > lo:
                        total += hi - lo
            day += _DAY
        return total


@cache
def _library_years() -> tuple[int, int]:
    years = [d.year for d in _published.holidays]
    return min(years), max(years)


def _library_range() -> range:
    first, last = _library_years()
    return range(first, last + 1)


def _dates(values: Iterable[str] | None) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(v.strip()) for v in values or () if v.strip())


@cache
def _configured(hours: str, holidays: str, workdays: str) -> BusinessCalendar:
    return BusinessCalendar(hours=BusinessHours.parse(hours) if hours else DEFAULT_HOURS,
                            extra_holidays=_dates(holidays.split(",")), extra_workdays=_dates(workdays.split(",")))


def default_calendar(extra: dict[str, str] | None = None) -> BusinessCalendar:
    """The calendar of the settings' ``extra``: ``calendar.hours`` ("09:00-12:00,13:00-18:00"),
    ``calendar.extra_holidays`` and ``calendar.extra_workdays`` (comma-separated ISO dates)."""
    extra = extra or {}
    return _configured(extra.get("calendar.hours", ""), extra.get("calendar.extra_holidays", ""),
                       extra.get("calendar.extra_workdays", ""))

