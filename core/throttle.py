"""Failure throttling for credential checks, counted in the store every worker shares.

A key is blocked once it failed ``rule`` times (limits' sliding-window counter); a
success forgets its failures. The counts live in :mod:`core.ratelimit`'s shared storage
(Redis or the ``rate_limit_counter`` table), so every worker process sees them.

Example::

    throttle = FailureThrottle(limiter, parse_rule("5/minute"), name="login")
    if (wait := throttle.blocked_for(client_id, source)) > 0:
        ...                                   # answer 429 with Retry-After: wait
    ok = check(...)
    throttle.success(client_id, source) if ok else throttle.failure(client_id, source)
"""

from __future__ import annotations

from limits import RateLimitItem

from core.ratelimit import Limiter

__all__ = ["FailureThrottle"]


class FailureThrottle:
    """Blocks a key while it has ``rule.amount`` failures in ``rule``'s sliding window."""

    def __init__(self, limiter: Limiter, rule: RateLimitItem, *, name: str) -> None:
        self.limiter = limiter
        self.rule = rule
        self.name = name

    def blocked_for(self, *key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        decision = self.limiter.test(self.rule, self.name, *key)
        return 0.0 if decision.allowed else max(decision.retry_after, 1.0)

    def failure(self, *key: str) -> None:
        """Count a failed attempt for ``key``."""
        self.limiter.hit(self.rule, self.name, *key)

    def success(self, *key: str) -> None:
        """Forget ``key``'s failures."""
        self.limiter.clear(self.rule, self.name, *key)
