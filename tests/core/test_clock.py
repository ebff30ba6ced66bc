"""Business dates are Beijing dates (configurable), whatever the server's zone; the clock can be moved."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import clock
from core.clock import (
    MovableClock,
    business_date,
    business_today,
    business_zone,
    install_business_zone,
    moved_clock,
)
from core.db import utcnow

# 2026-06-01 01:00 in Beijing is still 2026-05-31 in UTC (17:00).
BEIJING_1AM = dt.datetime(2026, 5, 31, 17, 0, tzinfo=dt.UTC)
SERVER_ZONES = ("UTC", "Asia/Shanghai", "America/Los_Angeles", "Pacific/Kiritimati")


@pytest.fixture(params=SERVER_ZONES)
def server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process runs with ``TZ`` set to each of several zones (restored afterwards)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_beijing_date_at_one_in_the_morning_whatever_the_server_zone(server_zone: str) -> None:
    assert business_date(BEIJING_1AM) == dt.date(2026, 6, 1)
    with moved_clock(BEIJING_1AM):
        assert business_today() == dt.date(2026, 6, 1)
        assert utcnow() == BEIJING_1AM  # timestamps follow the same clock


def test_the_day_turns_at_midnight_in_beijing() -> None:
    with moved_clock(dt.datetime(2026, 5, 31, 15, 59, 59, tzinfo=dt.UTC)) as c:
        assert business_today() == dt.date(2026, 5, 31)
        c.advance(seconds=1)
        assert business_today() == dt.date(2026, 6, 1)
        c.advance(hours=8)
        assert business_today() == dt.date(2026, 6, 1) == c.now().date()


def test_moved_clock_restores_the_previous_clock_and_refuses_naive_times() -> None:
    before = clock.current_clock()
    with moved_clock(BEIJING_1AM) as c:
        assert clock.current_clock() is c and clock.now() == BEIJING_1AM
        c.set(dt.datetime(2027, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))))
        assert clock.now() == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
    assert clock.current_clock() is before
    with pytest.raises(ValueError):
        MovableClock(dt.datetime(2026, 6, 1))
    with pytest.raises(ValueError):
        business_date(dt.datetime(2026, 6, 1, 1))


def test_the_business_zone_is_configurable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "_zone_name", None)
    assert business_zone().key == "Asia/Shanghai"  # the default (OPSURE_BUSINESS_TZ unset)
    install_business_zone("America/Los_Angeles")
    assert business_date(BEIJING_1AM) == dt.date(2026, 5, 31)
    assert business_date(BEIJING_1AM, zone="Asia/Shanghai") == dt.date(2026, 6, 1)
    with pytest.raises(Exception, match="Mars"):
        install_business_zone("Mars/Olympus_Mons")


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.timezones()))
def test_business_date_is_the_wall_date_in_beijing(at: dt.datetime) -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))  # no daylight saving in China since 1991
    assert business_date(at) == at.astimezone(beijing).date()
