"""Requests per client and minute on the public JSON-RPC endpoint (each batch item counts).

Counters live in this process (limits' MemoryStorage): every ``/rpc`` request of every
worker ends up in the process that holds the node (the others forward to it), so one
process sees them all. With ``redis_url`` they live in Redis and hold across hosts too.
If Redis does not answer, requests pass (reads stay open) and a warning is logged; the
read pool's admission bounds still hold.

Example::

    rate = RpcRateLimit(600)
    decision = rate.hit("203.0.113.7", cost=len(batch))
    if not decision.allowed:
        ...  # 429, Retry-After: decision.retry_after_header
"""

from __future__ import annotations

import logging
import time

from limits.storage import MemoryStorage, RedisStorage, Storage

from core.ratelimit import Decision, Limiter, RateLimitUnavailable, parse_rule

__all__ = ["RpcRateLimit"]

log = logging.getLogger("opsure.ledger.rpc")


class RpcRateLimit:
    """A sliding-window limit of `per_minute` requests per client key."""

    def __init__(self, per_minute: int, *, redis_url: str | None = None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                redis_url, key_prefix="opsure-rpc", wrap_exceptions=True,
                socket_timeout=1.0, socket_connect_timeout=1.0,
            )
        else:
            storage = MemoryStorage()
        self.shared = redis_url is not None
        self._limiter = Limiter(storage)
        self._rule = parse_rule(f"{per_minute}/minute")
        self._warned_at = 0.0

    def hit(self, client: str, *, cost: int = 1) -> Decision:
        """Count `cost` requests of `client`; refused (and not counted) when over the limit."""
        try:
            return self._limiter.hit(self._rule, "rpc", client, cost=cost)
        except RateLimitUnavailable:
            if time.monotonic() > self._warned_at + 60:
                self._warned_at = time.monotonic()
                log.warning("rate-limit store unavailable; /rpc requests pass unlimited meanwhile")
            return Decision(True)
