"""Typed errors of the embedded ledger node."""

from __future__ import annotations

__all__ = [
    "BlockNotFound",
    "ExecutionError",
    "ExecutionReverted",
    "ExecutionTimeout",
    "LedgerNodeError",
    "LedgerStoreCorrupt",
    "LedgerStoreError",
    "LedgerStoreLocked",
    "SenderNotAllowed",
    "TransactionDropped",
    "TransactionRejected",
]


class LedgerNodeError(Exception):
    """Base class of every error raised by the embedded node."""


class LedgerStoreError(LedgerNodeError):
    """The ledger store cannot be opened or used."""


class LedgerStoreCorrupt(LedgerStoreError):
    """The store on disk is unreadable or inconsistent; it is never reset silently."""


class LedgerStoreLocked(LedgerStoreError):
    """Another process already holds the data directory."""


class TransactionRejected(LedgerNodeError):
    """A submitted transaction was refused before it reached the pool (JSON-RPC -32000)."""


class SenderNotAllowed(TransactionRejected):
    """The transaction's sender is not on the account allowlist."""

    def __init__(self, sender: bytes) -> None:
        super().__init__(f"sender not allowlisted: 0x{sender.hex()}")
        self.sender = sender


class TransactionDropped(LedgerNodeError):
    """A pooled transaction became invalid at mining time and was discarded."""


class BlockNotFound(LedgerNodeError):
    """The requested block does not exist on the canonical chain."""


class ExecutionError(LedgerNodeError):
    """A call or gas estimate failed inside the EVM (other than a revert)."""


class ExecutionTimeout(LedgerNodeError):
    """A read ran past its wall-clock limit inside the EVM (JSON-RPC -32005).

    Deliberately not an ExecutionError (nor a py-evm VMError): nothing between the
    opcode loop and the caller may mistake it for a failed call and carry on.
    """


class ExecutionReverted(ExecutionError):
    """The EVM execution reverted; `data` holds the revert bytes."""

    def __init__(self, data: bytes) -> None:
        reason = decode_revert_reason(data)
        super().__init__(f"execution reverted: {reason}" if reason else "execution reverted")
        self.data = data
        self.reason = reason


_ERROR_SELECTOR = bytes.fromhex("08c379a0")


def decode_revert_reason(data: bytes) -> str | None:
    """Decode a Solidity `Error(string)` payload; None if the data is something else."""
    if len(data) < 68 or data[:4] != _ERROR_SELECTOR:
        return None
    body = data[4:]
    offset = int.from_bytes(body[:32], "big")
    if offset + 32 > len(body):
        return None
    length = int.from_bytes(body[offset : offset + 32], "big")
    raw = body[offset + 32 : offset + 32 + length]
    if len(raw) != length:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
