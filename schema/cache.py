"""A thread-safe LRU cache bounded in entries and in (estimated) bytes.

The GraphQL caches (parsed documents, validation outcomes, compiled plans) hold data whose
size the client chooses, so a bound on entries alone is a bound on nothing: each entry
says what it costs, and the least recently used entries go when either bound is passed.

Example::

    cache: BoundedCache[bytes, DocumentNode] = BoundedCache("parse", max_entries=1024,
                                                            max_bytes=32 << 20)
    cache.put(key, document, cost=estimate)
    document = cache.get(key)          # None when absent
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["BoundedCache", "CacheStats"]

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of one cache: what it holds, its bounds and its traffic."""

    name: str
    entries: int
    bytes: int
    max_entries: int
    max_bytes: int
    hits: int
    misses: int
    evictions: int


class BoundedCache(Generic[K, V]):
    """LRU mapping that never holds more than ``max_entries`` nor ``max_bytes`` of cost."""

    def __init__(self, name: str, *, max_entries: int, max_bytes: int) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("cache bounds must be positive")
        self.name = name
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._hits = self._misses = self._evictions = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The value under ``key`` (now the most recently used), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self._misses += 1
                return None
            self._items.move_to_end(key)
            self._hits += 1
            return found[0]

    def put(self, key: K, value: V, *, cost: int) -> None:
        """Store ``value`` charging ``cost`` bytes; a value dearer than the whole cache is not kept."""
        cost = max(1, cost)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if cost > self.max_bytes:
                return
            self._items[key] = (value, cost)
            self._bytes += cost
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted
                self._evictions += 1

    def clear(self) -> None:
        """Forget every entry (the counters stay)."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def stats(self) -> CacheStats:
        """What the cache holds now and how it was used."""
        with self._lock:
            return CacheStats(self.name, len(self._items), self._bytes, self.max_entries, self.max_bytes,
                              self._hits, self._misses, self._evictions)
