"""Failure throttling for credential checks (brute-force protection, per process).

Example::

    throttle = FailureThrottle(max_failures=5, window_seconds=60)
    if (wait := throttle.blocked_for(key)) > 0:
        ...                                   # answer 429 with Retry-After: wait
    ok = check(...)
    throttle.success(key) if ok else throttle.failure(key)
"""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["FailureThrottle"]


class FailureThrottle:
    """Blocks a key for the rest of the window once it failed ``max_failures`` times in it."""

    def __init__(self, *, max_failures: int = 5, window_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def blocked_for(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        now = time.monotonic()
        with self._lock:
            q = self._recent(key, now)
            if len(q) < self.max_failures:
                return 0.0
            return max(q[0] + self.window - now, 0.0)

    def failure(self, key: str) -> None:
        """Count a failed attempt for ``key``."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_keys and key not in self._failures:
                oldest = min(self._failures, key=lambda k: self._failures[k][-1])
                del self._failures[oldest]  # bounded memory: forget the stalest key
            self._failures.setdefault(key, deque()).append(now)

    def success(self, key: str) -> None:
        """Forget ``key``'s failures."""
        with self._lock:
            self._failures.pop(key, None)
