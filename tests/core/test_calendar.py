"""The business-day calendar: Chinese holidays and adjusted workdays, business hours, SLAs in Beijing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import BusinessCalendar, BusinessHours, CalendarUnknown, default_calendar

CAL = default_calendar()
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def beijing(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


def test_public_holidays_and_adjusted_workdays() -> None:
    assert not CAL.is_business_day(dt.date(2026, 10, 1))  # National Day, a Thursday
    assert CAL.holiday_name(dt.date(2026, 10, 1)) == "National Day"
    assert not CAL.is_business_day(dt.date(2026, 2, 16))  # Spring Festival, a Monday
    assert CAL.is_business_day(dt.date(2026, 9, 20))  # a Sunday worked in lieu
    assert CAL.is_business_day(dt.date(2026, 10, 10))  # a Saturday worked in lieu
    assert not CAL.is_business_day(dt.date(2026, 11, 28))  # an ordinary Saturday
    assert CAL.holiday_name(dt.date(2026, 11, 27)) is None


def test_adding_business_days_skips_the_golden_week() -> None:
    assert CAL.add_business_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)
    assert CAL.add_business_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)  # Saturday worked
    assert CAL.add_business_days(dt.date(2026, 10, 3), 0) == dt.date(2026, 10, 8)
    assert CAL.business_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 12)) == 4


def test_business_day_of_an_instant_is_the_beijing_day_or_the_next_after_hours() -> None:
    # 2026-11-26 17:30 UTC is Friday 01:30 in Beijing: the business day is Friday, not Thursday
    assert CAL.business_day_of(dt.datetime(2026, 11, 26, 17, 30, tzinfo=dt.UTC)) == dt.date(2026, 11, 27)
    assert CAL.business_day_of(beijing(2026, 11, 27, 18, 0)) == dt.date(2026, 11, 30)  # after close: Monday
    assert CAL.business_day_of(beijing(2026, 11, 28, 10)) == dt.date(2026, 11, 30)  # Saturday


def test_business_hours_walk_over_lunch_nights_and_holidays() -> None:
    assert CAL.add_business_hours(beijing(2026, 11, 27, 11), dt.timedelta(hours=2)) == beijing(2026, 11, 27, 14)
    assert CAL.add_business_hours(beijing(2026, 11, 27, 17), dt.timedelta(hours=2)) == beijing(2026, 11, 30, 10)
    assert CAL.add_business_hours(beijing(2026, 9, 30, 17), dt.timedelta(hours=1)) == beijing(2026, 9, 30, 18)
    assert CAL.add_business_hours(beijing(2026, 9, 30, 17), dt.timedelta(hours=2)) == beijing(2026, 10, 8, 10)
    assert CAL.add_business_hours(beijing(2026, 11, 28, 3), dt.timedelta()) == beijing(2026, 11, 30, 9)
    assert CAL.add_business_days_at(beijing(2026, 9, 29, 20), 2) == beijing(2026, 10, 9, 18)  # counted from the 30th


def test_outside_the_known_years_is_a_clear_refusal() -> None:
    with pytest.raises(CalendarUnknown) as err:
        CAL.is_business_day(dt.date(2099, 1, 5))
    assert err.value.code == "CALENDAR_UNKNOWN_YEAR" and "2099" in err.value.message
    with pytest.raises(CalendarUnknown):
        CAL.add_business_days(dt.date(2026, 12, 30), 600)  # walks past the provisional years
    with pytest.raises(CalendarUnknown):
        CAL.is_business_day(dt.date(1999, 1, 4))  # before the library's first year


def test_a_year_not_yet_published_is_judged_provisionally() -> None:
    last = CAL.known_years.stop - 1
    jan = dt.date(last + 1, 1, 1)
    assert CAL.is_provisional(jan) and not CAL.is_provisional(dt.date(last, 6, 1))
    assert not CAL.is_business_day(jan)  # New Year's Day is on a fixed date
    assert not CAL.is_business_day(dt.date(last + 1, 10, 2))  # so is National Day
    weekdays = [dt.date(last + 1, 3, d) for d in range(1, 32) if dt.date(last + 1, 3, d).weekday() < 5]
    assert all(CAL.is_business_day(d) for d in weekdays)  # March has no statutory holiday
    # SLAs keep running across the year's end: ten business days from Christmas Eve
    assert CAL.add_business_days(dt.date(last, 12, 24), 10).year == last + 1


def test_an_operator_adds_a_published_year_before_the_library_has_it() -> None:
    cal = default_calendar({"calendar.extra_holidays": "2027-01-01",
                            "calendar.extra_workdays": "2027-01-09",
                            "calendar.hours": "08:30-17:30"})
    assert cal.known_years.stop - 1 == 2027
    assert not cal.is_business_day(dt.date(2027, 1, 1))
    assert cal.is_business_day(dt.date(2027, 1, 9))  # a Saturday
    assert cal.add_business_days(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 4)
    assert cal.hours.per_day == dt.timedelta(hours=9)


def test_business_hours_must_be_ordered_windows() -> None:
    with pytest.raises(ValueError):
        BusinessHours(((dt.time(13), dt.time(18)), (dt.time(9), dt.time(12))))
    with pytest.raises(ValueError):
        BusinessHours.parse("18:00-09:00")
    with pytest.raises(ValueError):
        CAL.is_business_time(dt.datetime(2026, 1, 5, 10))  # naive


instants = st.datetimes(min_value=dt.datetime(2005, 1, 1), max_value=dt.datetime(2026, 6, 30),
                        timezones=st.just(dt.UTC))
amounts = st.integers(min_value=0, max_value=60 * 8 * 40).map(lambda m: dt.timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(at=instants, amount=amounts)
def test_adding_business_time_then_measuring_it_gives_it_back(at: dt.datetime, amount: dt.timedelta) -> None:
    due = CAL.add_business_hours(at, amount)
    assert due >= at
    assert CAL.business_time_between(at, due) == amount
    if amount > dt.timedelta():
        # the deadline is inside business hours, or exactly at a window's close
        assert CAL.is_business_time(due - dt.timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(at=instants, a=amounts, b=amounts)
def test_business_time_adds_up(at: dt.datetime, a: dt.timedelta, b: dt.timedelta) -> None:
    if b > dt.timedelta():
        assert CAL.add_business_hours(CAL.add_business_hours(at, a), b) == CAL.add_business_hours(at, a + b)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=dt.date(2004, 1, 1), max_value=dt.date(2026, 6, 30)),
       n=st.integers(min_value=0, max_value=60))
def test_adding_business_days_lands_on_a_business_day_n_days_on(day: dt.date, n: int) -> None:
    end = CAL.add_business_days(day, n)
    assert CAL.is_business_day(end)
    assert CAL.business_days_between(day, end) == (n if n or CAL.is_business_day(day) else 1)
    skipped = [day + dt.timedelta(days=i) for i in range(1, (end - day).days)]
    assert sum(CAL.is_business_day(d) for d in skipped) == max(n - 1, 0) or n == 0


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=dt.date(2004, 1, 1), max_value=dt.date(2026, 12, 31)))
def test_a_business_day_is_a_weekday_unless_declared(day: dt.date) -> None:
    cal = BusinessCalendar()
    if cal.is_business_day(day) and day.weekday() >= 5:
        assert cal.holiday_name(day) is None  # a weekend worked in lieu is never a holiday
    if not cal.is_business_day(day) and day.weekday() < 5:
        assert cal.holiday_name(day) is not None  # a weekday off is a named holiday
