"""Plain data returned by the embedded node (raw bytes and ints; RPC hex-encodes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "BlockInfo",
    "BlockTag",
    "CallRequest",
    "LogEntry",
    "LogFilter",
    "MinedBlock",
    "ReceiptInfo",
    "TxInfo",
]

#: A block reference: a number or one of the JSON-RPC tags.
BlockTag = int | Literal["latest", "earliest", "pending", "safe", "finalized"]


@dataclass(frozen=True)
class LogEntry:
    """One event log with its position on the chain."""

    address: bytes
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    tx_index: int
    log_index: int


@dataclass(frozen=True)
class TxInfo:
    """A transaction, mined (block fields set) or pending (block fields None)."""

    hash: bytes
    type: int
    nonce: int
    sender: bytes
    to: bytes | None
    value: int
    gas: int
    input: bytes
    chain_id: int | None
    gas_price: int | None
    max_fee_per_gas: int | None
    max_priority_fee_per_gas: int | None
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...]
    v: int
    r: int
    s: int
    y_parity: int | None
    block_hash: bytes | None = None
    block_number: int | None = None
    tx_index: int | None = None


@dataclass(frozen=True)
class ReceiptInfo:
    """A transaction receipt, with per-transaction gas and block-wide log indexes."""

    tx_hash: bytes
    tx_index: int
    block_hash: bytes
    block_number: int
    sender: bytes
    to: bytes | None
    contract_address: bytes | None
    cumulative_gas_used: int
    gas_used: int
    effective_gas_price: int
    status: int
    type: int
    logs: tuple[LogEntry, ...]
    logs_bloom: bytes


@dataclass(frozen=True)
class BlockInfo:
    """A canonical block: header fields plus tx hashes (and full txs on request)."""

    number: int
    hash: bytes
    parent_hash: bytes
    nonce: bytes
    uncles_hash: bytes
    logs_bloom: bytes
    transactions_root: bytes
    state_root: bytes
    receipts_root: bytes
    miner: bytes
    difficulty: int
    extra_data: bytes
    size: int
    gas_limit: int
    gas_used: int
    timestamp: int
    mix_hash: bytes
    base_fee_per_gas: int
    withdrawals_root: bytes
    blob_gas_used: int
    excess_blob_gas: int
    parent_beacon_block_root: bytes
    tx_hashes: tuple[bytes, ...]
    transactions: tuple[TxInfo, ...] | None = None


@dataclass(frozen=True)
class LogFilter:
    """eth_getLogs criteria: inclusive block range, addresses (OR), topics per position.

    `topics[i]` is None (wildcard) or a tuple of alternatives (OR). As in geth, a log
    only matches if it has at least `len(topics)` topics.
    """

    from_block: int
    to_block: int
    addresses: tuple[bytes, ...] = ()
    topics: tuple[tuple[bytes, ...] | None, ...] = ()


@dataclass(frozen=True)
class CallRequest:
    """An eth_call / eth_estimateGas request (unsigned; sender taken on trust)."""

    sender: bytes | None = None
    to: bytes | None = None
    gas: int | None = None
    value: int = 0
    data: bytes = b""


@dataclass(frozen=True)
class MinedBlock:
    """Outcome of one mining round."""

    number: int
    hash: bytes
    timestamp: int
    tx_hashes: tuple[bytes, ...]
    dropped: tuple[tuple[bytes, str], ...] = field(default=())
