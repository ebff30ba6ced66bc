"""Rate limits shared by every worker: the ``limits`` library over Redis or a database table.

With ``settings.redis_url`` the counters live in Redis (limits' own ``RedisStorage``);
otherwise in the ``rate_limit_counter`` table through :class:`SQLStorage`, limits'
storage interface over SQLAlchemy (one atomic upsert per hit, on SQLite and PostgreSQL).
Either way every worker process sees the same counts. The strategy is limits'
sliding-window counter (no double burst at a window edge, two counters per key).

Example::

    limiter = shared_limiter(settings, engine)
    per_client = parse_rule("600/minute")
    decision = limiter.hit(per_client, "rpc", client_address)
    if not decision.allowed:
        ...  # 429 with Retry-After: decision.retry_after_header

A storage failure (Redis down, database locked past its timeout) raises
:class:`RateLimitUnavailable`; callers decide whether to fail closed (logins do).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from limits import RateLimitItem
from limits import parse as _parse
from limits.errors import StorageError
from limits.storage import RedisStorage, Storage
from limits.storage.base import SlidingWindowCounterSupport, TimestampedSlidingWindow
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import Float, Integer, String, Table, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from core.db import READ_ONLY, Base
from core.settings import Settings

__all__ = [
    "Decision",
    "Limiter",
    "RateLimitCounter",
    "RateLimitUnavailable",
    "SQLStorage",
    "parse_rule",
    "shared_limiter",
    "shared_storage",
]

_MAX_IDENTIFIER = 96  # longer identifiers are hashed, so a key always fits the column


class RateLimitCounter(Base):
    """One window counter of one rate-limit key (rows past ``expires_at`` count as zero)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch


_COUNTERS = cast(Table, RateLimitCounter.__table__)


class RateLimitUnavailable(RuntimeError):
    """The shared counter store did not answer."""


class SQLStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """limits' storage interface over the ``rate_limit_counter`` table (fixed and sliding windows).

    Each call runs in its own short transaction on ``engine``, never in a caller's session.
    Expired rows are deleted at most once a ``prune_every`` seconds per instance.
    """

    STORAGE_SCHEME = None

    def __init__(self, engine: Engine, *, prune_every: float = 60.0, wrap_exceptions: bool = True) -> None:
        super().__init__(None, wrap_exceptions=wrap_exceptions)
        self.engine = engine
        self.prune_every = prune_every
        self._next_prune = 0.0
        self._prune_lock = threading.Lock()
        self._insert: Callable[[Table], Any]
        if engine.dialect.name == "postgresql":
            self._insert = postgresql.insert
        elif engine.dialect.name == "sqlite":
            self._insert = sqlite.insert
        else:  # pragma: no cover - the project runs on these two
            raise ValueError(f"no upsert for dialect {engine.dialect.name}")

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s live counter (a fresh one expiring in ``expiry`` s)."""
        now = time.time()
        table = _COUNTERS
        stmt = self._insert(table).values(key=key, count=amount, expires_at=now + expiry)
        expired = table.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, stmt.excluded.count), else_=table.c.count + stmt.excluded.count),
                "expires_at": case((expired, stmt.excluded.expires_at), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with self.engine.begin() as conn:
            count = conn.execute(stmt).scalar_one()
        self._maybe_prune(now)
        return int(count)

    def decr(self, key: str, amount: int = 1) -> int:
        """Take ``amount`` back from ``key``'s counter (never below zero)."""
        table = _COUNTERS
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.key == key).values(
                count=case((table.c.count > amount, table.c.count - amount), else_=0)))
        return self.get(key)

    def get(self, key: str) -> int:
        """``key``'s live count (0 when absent or expired)."""
        table = _COUNTERS
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            count = conn.execute(select(table.c.count).where(
                table.c.key == key, table.c.expires_at > time.time())).scalar_one_or_none()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        """When ``key``'s counter expires (now when it has none)."""
        now = time.time()
        table = _COUNTERS
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            at = conn.execute(select(table.c.expires_at).where(
                table.c.key == key, table.c.expires_at > now)).scalar_one_or_none()
        return float(at) if at is not None else now

    def clear(self, key: str) -> None:
        """Forget ``key``."""
        table = _COUNTERS
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == key))

    def reset(self) -> int | None:
        """Forget every key; returns how many rows went."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(_COUNTERS)).rowcount)

    def check(self) -> bool:
        """Whether the table answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(_COUNTERS.c.key).limit(1))
        except SQLAlchemyError:
            return False
        return True

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count ``amount`` in the current window unless the weighted count would pass ``limit``."""
        if amount > limit:
            return False
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous, previous_ttl, current, _ = self._window(previous_key, current_key, expiry, now)
        if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
            return False
        current = self.incr(current_key, 2 * expiry, amount)
        if math.floor(previous * previous_ttl / expiry + current) > limit:
            self.decr(current_key, amount)  # a concurrent hit won the last place
            return False
        return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """(previous count, previous ttl, current count, current ttl) of ``key``."""
        now = time.time()
        return self._window(*self.sliding_window_keys(key, expiry, now), expiry, now)

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        """Forget both windows of ``key``."""
        for k in self.sliding_window_keys(key, expiry, time.time()):
            self.clear(k)

    def _window(self, previous_key: str, current_key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        table = _COUNTERS
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            rows = dict(conn.execute(select(table.c.key, table.c.count).where(
                table.c.key.in_([previous_key, current_key]), table.c.expires_at > now)).tuples().all())
        previous, current = int(rows.get(previous_key, 0)), int(rows.get(current_key, 0))
        # the same arithmetic as limits' MemoryStorage: how much of the previous window still weighs
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def _maybe_prune(self, now: float) -> None:
        if now < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._next_prune = now + self.prune_every
            table = _COUNTERS
            with self.engine.begin() as conn:
                conn.execute(delete(table).where(table.c.expires_at <= now))
        finally:
            self._prune_lock.release()


def shared_storage(settings: Settings, engine: Engine, *, key_prefix: str = "opsure") -> Storage:
    """Redis when ``settings.redis_url`` is set, else the database table behind ``engine``."""
    if settings.redis_url:
        return RedisStorage(settings.redis_url, key_prefix=key_prefix, wrap_exceptions=True,
                            socket_timeout=2.0, socket_connect_timeout=2.0)
    return SQLStorage(engine)


def parse_rule(text: str) -> RateLimitItem:
    """A rule from limits' notation, e.g. ``"5/minute"``, ``"600 per 1 minute"``."""
    return _parse(text)


@dataclass(frozen=True)
class Decision:
    """Whether a hit was allowed, and when to come back if not."""

    allowed: bool
    retry_after: float = 0.0  # seconds

    @property
    def retry_after_header(self) -> str:
        """The ``Retry-After`` value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


def _identifier(part: str) -> str:
    if len(part) <= _MAX_IDENTIFIER and "/" not in part:
        return part
    return "h-" + hashlib.sha256(part.encode()).hexdigest()[:32]


class Limiter:
    """Sliding-window-counter limits over one shared storage; keys are tuples of strings."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._strategy = SlidingWindowCounterRateLimiter(storage)

    def hit(self, rule: RateLimitItem, *key: str, cost: int = 1) -> Decision:
        """Count one use of ``key`` under ``rule``; refused (and not counted) when over it."""
        ids = [_identifier(k) for k in key]
        try:
            if self._strategy.hit(rule, *ids, cost=cost):
                return Decision(True)
            return Decision(False, self._wait(rule, ids))
        except StorageError as exc:
            raise RateLimitUnavailable(str(exc)) from exc

    def test(self, rule: RateLimitItem, *key: str, cost: int = 1) -> Decision:
        """Whether ``key`` could use ``cost`` now under ``rule`` (counts nothing)."""
        ids = [_identifier(k) for k in key]
        try:
            if self._strategy.test(rule, *ids, cost=cost):
                return Decision(True)
            return Decision(False, self._wait(rule, ids))
        except StorageError as exc:
            raise RateLimitUnavailable(str(exc)) from exc

    def clear(self, rule: RateLimitItem, *key: str) -> None:
        """Forget ``key``'s uses under ``rule``."""
        try:
            self._strategy.clear(rule, *[_identifier(k) for k in key])
        except StorageError as exc:
            raise RateLimitUnavailable(str(exc)) from exc

    def _wait(self, rule: RateLimitItem, ids: list[str]) -> float:
        stats = self._strategy.get_window_stats(rule, *ids)
        return max(stats.reset_time - time.time(), 0.0)


def shared_limiter(settings: Settings, engine: Engine) -> Limiter:
    """A :class:`Limiter` over :func:`shared_storage`."""
    return Limiter(shared_storage(settings, engine))
