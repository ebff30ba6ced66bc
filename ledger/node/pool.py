"""In-memory pool of accepted, not yet mined transactions (arrival order = nonce order)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from eth.abc import SignedTransactionAPI

__all__ = ["DroppedLog", "PendingTx", "TxPool"]


@dataclass(frozen=True)
class PendingTx:
    """A validated transaction waiting for a block."""

    tx: SignedTransactionAPI
    sender: bytes
    max_cost: int
    received_at: float

    @property
    def hash(self) -> bytes:
        """The transaction hash."""
        return bytes(self.tx.hash)


class TxPool:
    """Pending transactions; not thread-safe (the node guards it with its pool lock)."""

    def __init__(self) -> None:
        self._txs: OrderedDict[bytes, PendingTx] = OrderedDict()
        self._count: dict[bytes, int] = {}
        self._cost: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._txs

    def get(self, tx_hash: bytes) -> PendingTx | None:
        """The pending tx with this hash, if any."""
        return self._txs.get(tx_hash)

    def add(self, ptx: PendingTx) -> None:
        """Append a tx (the caller has checked its nonce is the sender's next one)."""
        self._txs[ptx.hash] = ptx
        self._count[ptx.sender] = self._count.get(ptx.sender, 0) + 1
        self._cost[ptx.sender] = self._cost.get(ptx.sender, 0) + ptx.max_cost

    def count_for(self, sender: bytes) -> int:
        """How many txs of this sender are pending."""
        return self._count.get(sender, 0)

    def cost_for(self, sender: bytes) -> int:
        """Upper bound of what this sender's pending txs may spend."""
        return self._cost.get(sender, 0)

    def take(self, gas_limit: int, max_count: int) -> list[PendingTx]:
        """Oldest txs whose gas limits fit in one block (left in the pool until removed)."""
        chosen: list[PendingTx] = []
        gas = 0
        for ptx in self._txs.values():
            if len(chosen) >= max_count or gas + ptx.tx.gas > gas_limit:
                break
            chosen.append(ptx)
            gas += ptx.tx.gas
        return chosen

    def remove(self, hashes: list[bytes]) -> None:
        """Forget mined or dropped txs."""
        for h in hashes:
            ptx = self._txs.pop(h, None)
            if ptx is None:
                continue
            left = self._count[ptx.sender] - 1
            if left:
                self._count[ptx.sender] = left
                self._cost[ptx.sender] -= ptx.max_cost
            else:
                del self._count[ptx.sender]
                del self._cost[ptx.sender]


class DroppedLog:
    """Bounded memory of dropped tx hashes and why (for wait_for_receipt)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._reasons: OrderedDict[bytes, str] = OrderedDict()

    def add(self, tx_hash: bytes, reason: str) -> None:
        """Remember a dropped tx."""
        self._reasons[tx_hash] = reason
        while len(self._reasons) > self._capacity:
            self._reasons.popitem(last=False)

    def get(self, tx_hash: bytes) -> str | None:
        """Why this tx was dropped, if it was."""
        return self._reasons.get(tx_hash)
