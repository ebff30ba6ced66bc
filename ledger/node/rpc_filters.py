"""Polling filters (eth_newFilter / eth_newBlockFilter / eth_getFilterChanges)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from ledger.node.models import LogFilter
from ledger.node.node import EmbeddedNode
from ledger.node.reader import ChainView
from ledger.node.rpc_codec import LIMIT_EXCEEDED, RpcError
from ledger.node.rpc_limits import RpcLimits

__all__ = ["FilterManager", "LogCriteria", "check_log_range"]


@dataclass(frozen=True)
class LogCriteria:
    """eth_getLogs criteria with block tags resolved at query time."""

    from_block: int | str
    to_block: int | str
    addresses: tuple[bytes, ...]
    topics: tuple[tuple[bytes, ...] | None, ...]

    def resolve(self, node: ChainView, head: int) -> LogFilter:
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


def check_log_range(flt: LogFilter, limits: RpcLimits) -> None:
    """Refuse (-32005) a log query over more blocks than the limit allows."""
    blocks = flt.to_block - flt.from_block + 1
    if limits.max_log_blocks is not None and blocks > limits.max_log_blocks:
        raise RpcError(
            LIMIT_EXCEEDED,
            f"block range too large: {blocks} blocks (max {limits.max_log_blocks}); query in smaller ranges",
        )


class FilterManager:
    """In-memory filters; polling returns what was mined since the previous poll.

    At most `limits.max_filters` live at once and each is forgotten `limits.filter_ttl`
    seconds after its last poll; one poll reports at most `limits.max_log_blocks` blocks
    (the rest comes with the next poll).
    """

    def __init__(self, node: EmbeddedNode, limits: RpcLimits | None = None) -> None:
        self._node = node
        self._limits = limits or RpcLimits()
        self._filters: dict[str, _Filter] = {}
        self._lock = threading.Lock()

    def _new(self, flt: _Filter) -> str:
        filter_id = "0x" + secrets.token_hex(16)
        with self._lock:
            self._expire()
            if len(self._filters) >= self._limits.max_filters:
                raise RpcError(
                    LIMIT_EXCEEDED, f"too many filters installed (max {self._limits.max_filters}); try later"
                )
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
        """Logs or block hashes since the last poll (at most max_log_blocks blocks of them)."""
        flt = self._get(filter_id)
        head = self._node.block_number()
        since = flt.last_block + 1
        if self._limits.max_log_blocks is not None:
            head = min(head, since + self._limits.max_log_blocks - 1)
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
        return list(self._node.reader.logs(window, self._limits.max_logs))

    def logs(self, filter_id: str) -> list[Any]:
        """All logs matching a log filter (eth_getFilterLogs), within the range limit."""
        flt = self._get(filter_id)
        if flt.criteria is None:
            raise KeyError("filter not found")
        resolved = flt.criteria.resolve(self._node, self._node.block_number())
        check_log_range(resolved, self._limits)
        return list(self._node.reader.logs(resolved, self._limits.max_logs))

    def _expire(self) -> None:
        cutoff = time.monotonic() - self._limits.filter_ttl
        for key in [k for k, f in self._filters.items() if f.touched < cutoff]:
            del self._filters[key]
