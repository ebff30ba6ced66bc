"""The clock and the business calendar's time zone: every "today" is a business date.

Instants are aware UTC datetimes; a *business date* is the calendar day of an instant in
the business time zone (``OPSURE_BUSINESS_TZ``, default Asia/Shanghai), never the UTC
date and never the server's local date: at 01:00 in Beijing it is already tomorrow
there, though still yesterday in UTC. The clock is process-wide and tests move it instead
of sleeping.

Example::

    business_today()                                    # today in Beijing
    business_date(policy.issued_at)                     # the day a policy was issued
    with moved_clock(dt.datetime(2026, 5, 31, 17, tzinfo=dt.UTC)) as clock:
        assert business_today() == dt.date(2026, 6, 1)  # 01:00 in Beijing
        clock.advance(hours=8)
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from core.settings import get_settings

__all__ = [
    "Clock",
    "MovableClock",
    "SystemClock",
    "business_date",
    "business_today",
    "business_zone",
    "current_clock",
    "install_business_zone",
    "install_clock",
    "moved_clock",
    "now",
]


class Clock(Protocol):
    """Anything that tells the current instant (aware, UTC)."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware in UTC."""
        return dt.datetime.now(dt.UTC)


class MovableClock:
    """A clock standing at a chosen instant until moved (tests, replays); thread-safe."""

    def __init__(self, at: dt.datetime) -> None:
        self._lock = threading.Lock()
        self._at = _aware(at)

    def now(self) -> dt.datetime:
        """The instant the clock stands at."""
        with self._lock:
            return self._at

    def set(self, at: dt.datetime) -> None:
        """Move the clock to ``at`` (aware; backwards is allowed)."""
        with self._lock:
            self._at = _aware(at)

    def advance(self, delta: dt.timedelta | None = None, **parts: float) -> dt.datetime:
        """Move the clock forward by ``delta`` or ``timedelta(**parts)``; returns the new instant."""
        step = delta if delta is not None else dt.timedelta(**parts)
        with self._lock:
            self._at += step
            return self._at


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("a clock needs an aware datetime (naive ones are ambiguous)")
    return at.astimezone(dt.UTC)


_clock: Clock = SystemClock()


def install_clock(clock: Clock) -> Clock:
    """Make ``clock`` the process's clock; returns the one it replaces."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def current_clock() -> Clock:
    """The process's clock."""
    return _clock


def now() -> dt.datetime:
    """The current instant by the process's clock (aware, UTC)."""
    return _clock.now()


@contextmanager
def moved_clock(at: dt.datetime) -> Iterator[MovableClock]:
    """Run a block with the process's clock standing at ``at``; the previous clock comes back after."""
    clock = MovableClock(at)
    previous = install_clock(clock)
    try:
        yield clock
    finally:
        install_clock(previous)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


_zone_name: str | None = None


def install_business_zone(name: str) -> ZoneInfo:
    """Make ``name`` the process's business time zone (at start-up); an unknown zone fails here."""
    global _zone_name
    zone = _zone(name)
    _zone_name = name
    return zone


def business_zone(name: str | None = None) -> ZoneInfo:
    """The business time zone: ``name``, else the installed one, else ``OPSURE_BUSINESS_TZ``."""
    return _zone(name or _zone_name or get_settings().business_timezone)


def business_date(at: dt.datetime, *, zone: str | None = None) -> dt.date:
    """The business date of the instant ``at`` (aware; a naive value is refused, not guessed)."""
    if at.tzinfo is None:
        raise ValueError("business_date needs an aware datetime")
    return at.astimezone(business_zone(zone)).date()


def business_today(at: dt.datetime | None = None, *, zone: str | None = None) -> dt.date:
    """Today in the business time zone (by the process's clock unless ``at`` is given)."""
    return business_date(at if at is not None else now(), zone=zone)
