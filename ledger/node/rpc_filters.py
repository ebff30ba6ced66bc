"""Polling filters (eth_newFilter / eth_newBlockFilter / eth_getFilterChanges)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from ledger.node.models import LogFilter
from ledger.node.node import EmbeddedNode

__all__ = ["FilterManager", "LogCriteria"]

#: A filter nobody polled for this long is forgotten (geth uses 5 minutes).
FILTER_TTL_SECONDS = 300.0
MAX_FILTERS = 1000


@dataclass(frozen=True)
class LogCriteria:
    """eth_getLogs criteria with block tags resolved at query time."""

    from_block: int | str
    to_block: int | str
    addresses: tuple[bytes, ...]
    topics: tuple[tuple[bytes, ...] | None, ...]

    def resolve(self, node: EmbeddedNode, head: int) -> LogFilter:
        """Concrete inclusive block range against the current head."""

        def number(tag: int | str) -> int:
            if isinstance(tag, int):
                return tag
            return 0 if tag == "earliest" else head

        return LogFilter(number(self.from_block), number(self.to_block), self.addresses, self.topics)


@dataclass
class _Filter:
    kind: str
    last_block: int
    touched: float
    criteria: LogCriteria | None = None


class FilterManager:
    """In-memory filters; polling returns what was mined since the previous poll."""

    def __init__(self, node: EmbeddedNode) -> None:
        self._node = node
        self._filters: dict[str, _Filter] = {}
        self._lock = threading.Lock()

    def _new(self, flt: _Filter) -> str:
        filter_id = "0x" + secrets.token_hex(16)
        with self._lock:
            self._expire()
            if len(self._filters) >= MAX_FILTERS:
                raise OverflowError("too many filters")
            self._filters[filter_id] = flt
        return filter_id

    def new_log_filter(self, criteria: LogCriteria) -> str:
        """Install a log filter starting after the current head."""
        head = self._node.block_number()
        return self._new(_Filter("logs", head, time.monotonic(), criteria))

    def new_block_filter(self) -> str:
        """Install a new-block filter."""
        return self._new(_Filter("blocks", self._node.block_number(), time.monotonic()))

    def uninstall(self, filter_id: str) -> bool:
        """Remove a filter; False if unknown."""
        with self._lock:
            return self._filters.pop(filter_id, None) is not None

    def _get(self, filter_id: str) -> _Filter:
        with self._lock:
            self._expire()
            flt = self._filters.get(filter_id)
            if flt is None:
                raise KeyError("filter not found")
            flt.touched = time.monotonic()
            return flt

    def changes(self, filter_id: str) -> list[Any]:
        """Logs or block hashes since the last poll."""
        flt = self._get(filter_id)
        head = self._node.block_number()
        since = flt.last_block + 1
        flt.last_block = max(flt.last_block, head)
        if flt.kind == "blocks":
            return [self._node.reader.header(n).hash for n in range(since, head + 1)]
        assert flt.criteria is not None
        resolved = flt.criteria.resolve(self._node, head)
        window = LogFilter(
            max(since, resolved.from_block),
            min(head, resolved.to_block),
            resolved.addresses,
            resolved.topics,
        )
        return list(self._node.reader.logs(window))

    def logs(self, filter_id: str) -> list[Any]:
        """All logs matching a log filter (eth_getFilterLogs)."""
        flt = self._get(filter_id)
        if flt.criteria is None:
            raise KeyError("filter not found")
        return list(self._node.reader.logs(flt.criteria.resolve(self._node, self._node.block_number())))

    def _expire(self) -> None:
        cutoff = time.monotonic() - FILTER_TTL_SECONDS
        for key in [k for k, f in self._filters.items() if f.touched < cutoff]:
            del self._filters[key]
