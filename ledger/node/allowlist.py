"""Sender allowlist (Besu-style account permissioning), persisted in the store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from ledger.node.errors import SenderNotAllowed
from ledger.node.store import SqliteStore

__all__ = ["Allowlist", "normalize_address"]


def normalize_address(address: str | bytes) -> bytes:
    """20 raw bytes from raw bytes or a 0x-hex string (any case); ValueError otherwise."""
    if isinstance(address, bytes | bytearray):
        raw = bytes(address)
    elif isinstance(address, str):
        text = address[2:] if address[:2] in ("0x", "0X") else address
        try:
            raw = bytes.fromhex(text)
        except ValueError as exc:
            raise ValueError(f"invalid address: {address!r}") from exc
    else:
        raise ValueError(f"invalid address: {address!r}")
    if len(raw) != 20:
        raise ValueError(f"invalid address length: {address!r}")
    return raw


class Allowlist:
    """The set of accounts allowed to send transactions; changes are committed first."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        rows = store.query("SELECT address FROM allowlist")
        self._accounts: frozenset[bytes] = frozenset(bytes(r[0]) for r in rows)

    @staticmethod
    def write_initial(store: SqliteStore, accounts: Iterable[bytes]) -> None:
        """Insert the genesis allowlist (inside the creating transaction)."""
        now = int(time.time())
        store.executemany(
            "INSERT OR IGNORE INTO allowlist (address, added_at) VALUES (?, ?)",
            [(a, now) for a in accounts],
        )

    def add(self, address: bytes) -> None:
        """Allow an account (idempotent)."""
        with self._lock:
            with self._store.transaction():
                self._store.execute(
                    "INSERT OR IGNORE INTO allowlist (address, added_at) VALUES (?, ?)",
                    (address, int(time.time())),
                )
            self._accounts = self._accounts | {address}

    def remove(self, address: bytes) -> None:
        """Disallow an account (idempotent)."""
        with self._lock:
            with self._store.transaction():
                self._store.execute("DELETE FROM allowlist WHERE address = ?", (address,))
            self._accounts = self._accounts - {address}

    def contains(self, address: bytes) -> bool:
        """Whether the account is allowed."""
        return address in self._accounts

    def require(self, sender: bytes) -> None:
        """Raise SenderNotAllowed unless the sender is allowed."""
        if sender not in self._accounts:
            raise SenderNotAllowed(sender)

    def accounts(self) -> list[bytes]:
        """Allowed accounts, sorted."""
        return sorted(self._accounts)
