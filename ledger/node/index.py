"""Own index tables (txs, logs, blocks, allowlist), written in the block's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, ReceiptAPI, SignedTransactionAPI
from eth_typing import Address

from ledger.node.models import LogEntry, LogFilter
from ledger.node.store import SqliteStore

__all__ = [
    "INDEX_SCHEMA",
    "MAX_LOG_RESULTS",
    "IndexedTx",
    "LogQueryTooLarge",
    "effective_gas_price",
    "index_block",
    "query_logs",
    "tx_location",
    "txs_of_block",
]

INDEX_SCHEMA: tuple[str, ...] = (
    """CREATE TABLE blocks (
        number INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,
        tx_count INTEGER NOT NULL, log_count INTEGER NOT NULL)""",
    """CREATE TABLE txs (
        hash BLOB PRIMARY KEY, block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL,
        tx_type INTEGER NOT NULL, sender BLOB NOT NULL, to_address BLOB,
        contract_address BLOB, gas_used INTEGER NOT NULL,
        effective_gas_price INTEGER NOT NULL, log_start INTEGER NOT NULL) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX txs_position ON txs (block_number, tx_index)",
    """CREATE TABLE logs (
        block_number INTEGER NOT NULL, log_index INTEGER NOT NULL,
        tx_index INTEGER NOT NULL, tx_hash BLOB NOT NULL, address BLOB NOT NULL,
        topic0 BLOB, topic1 BLOB, topic2 BLOB, topic3 BLOB, data BLOB NOT NULL,
        PRIMARY KEY (block_number, log_index)) WITHOUT ROWID""",
    "CREATE INDEX logs_address ON logs (address, block_number)",
    "CREATE INDEX logs_topic0 ON logs (topic0, block_number)",
    "CREATE TABLE allowlist (address BLOB PRIMARY KEY, added_at INTEGER NOT NULL) WITHOUT ROWID",
)

#: eth_getLogs refuses to return more than this many entries in one answer.
MAX_LOG_RESULTS = 10_000


class LogQueryTooLarge(Exception):
    """An eth_getLogs query would return more than MAX_LOG_RESULTS entries."""


@dataclass(frozen=True)
class IndexedTx:
    """A row of the txs table."""

    hash: bytes
    block_number: int
    tx_index: int
    tx_type: int
    sender: bytes
    to: bytes | None
    contract_address: bytes | None
    gas_used: int
    effective_gas_price: int
    log_start: int
    block_hash: bytes = b""


def effective_gas_price(tx: SignedTransactionAPI, base_fee: int) -> int:
    """Price per gas actually paid: min(maxFee, baseFee + tip) for 1559-style txs."""
    if tx.type_id is None or tx.type_id == 1:
        return int(tx.gas_price)
    return min(int(tx.max_fee_per_gas), base_fee + int(tx.max_priority_fee_per_gas))


def topic_bytes(topic: int) -> bytes:
    """A py-evm log topic (int) as 32 bytes."""
    return int(topic).to_bytes(32, "big")


def index_block(
    store: SqliteStore,
    block: BlockAPI,
    receipts: Sequence[ReceiptAPI],
    senders: Sequence[bytes],
) -> None:
    """Write the block's rows into txs/logs/blocks (caller holds the store transaction)."""
    header = block.header
    number = header.block_number
    base_fee = int(getattr(header, "base_fee_per_gas", 0) or 0)
    tx_rows: list[tuple[object, ...]] = []
    log_rows: list[tuple[object, ...]] = []
    previous_cumulative = 0
    log_index = 0
    for i, (tx, receipt, sender) in enumerate(zip(block.transactions, receipts, senders, strict=True)):
        to = bytes(tx.to) if tx.to else None
        created = None if to else bytes(generate_contract_address(Address(sender), tx.nonce))
        tx_rows.append(
            (
                bytes(tx.hash),
                number,
                i,
                tx.type_id or 0,
                sender,
                to,
                created,
                receipt.gas_used - previous_cumulative,
                effective_gas_price(tx, base_fee),
                log_index,
            )
        )
        previous_cumulative = receipt.gas_used
        for log in receipt.logs:
            topics = [topic_bytes(t) for t in log.topics[:4]] + [None] * (4 - min(4, len(log.topics)))
            log_rows.append(
                (number, log_index, i, bytes(tx.hash), bytes(log.address), *topics, bytes(log.data))
            )
            log_index += 1
    store.execute(
        "INSERT INTO blocks (number, hash, tx_count, log_count) VALUES (?, ?, ?, ?)",
        (number, bytes(header.hash), len(tx_rows), log_index),
    )
    store.executemany(
        "INSERT INTO txs (hash, block_number, tx_index, tx_type, sender, to_address,"
        " contract_address, gas_used, effective_gas_price, log_start)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tx_rows,
    )
    store.executemany(
        "INSERT INTO logs (block_number, log_index, tx_index, tx_hash, address,"
        " topic0, topic1, topic2, topic3, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        log_rows,
    )


_TX_COLUMNS = (
    "hash, block_number, tx_index, tx_type, sender, to_address, contract_address,"
    " gas_used, effective_gas_price, log_start"
)


def _indexed_tx(row: tuple[Any, ...]) -> IndexedTx:
    return IndexedTx(
        hash=bytes(row[0]),
        block_number=int(row[1]),
        tx_index=int(row[2]),
        tx_type=int(row[3]),
        sender=bytes(row[4]),
        to=None if row[5] is None else bytes(row[5]),
        contract_address=None if row[6] is None else bytes(row[6]),
        gas_used=int(row[7]),
        effective_gas_price=int(row[8]),
        log_start=int(row[9]),
        block_hash=bytes(row[10]) if len(row) > 10 else b"",
    )


def tx_location(store: SqliteStore, tx_hash: bytes) -> IndexedTx | None:
    """The indexed row of a mined transaction (with its block hash), if any."""
    columns = ", ".join(f"t.{c.strip()}" for c in _TX_COLUMNS.split(","))
    row = store.query_one(
        f"SELECT {columns}, b.hash FROM txs t JOIN blocks b ON b.number = t.block_number WHERE t.hash = ?",
        (tx_hash,),
    )
    return None if row is None else _indexed_tx(row)


def txs_of_block(store: SqliteStore, number: int) -> list[IndexedTx]:
    """The indexed rows of a block's transactions, in block order."""
    rows = store.query(f"SELECT {_TX_COLUMNS} FROM txs WHERE block_number = ? ORDER BY tx_index", (number,))
    return [_indexed_tx(r) for r in rows]


def block_hashes(store: SqliteStore, numbers: Sequence[int]) -> dict[int, bytes]:
    """Block hashes by number from the blocks table."""
    wanted = sorted(set(numbers))
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = store.query(
            f"SELECT number, hash FROM blocks WHERE number IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        found.update({int(n): bytes(h) for n, h in rows})
    return found


def query_logs(store: SqliteStore, flt: LogFilter, limit: int = MAX_LOG_RESULTS) -> list[LogEntry]:
    """Logs matching a filter, via the logs table (no block scan)."""
    if flt.from_block > flt.to_block or len(flt.topics) > 4:
        return []
    where = ["block_number BETWEEN ? AND ?"]
    params: list[object] = [flt.from_block, flt.to_block]
    if flt.addresses:
        where.append(f"address IN ({','.join('?' * len(flt.addresses))})")
        params.extend(flt.addresses)
    for pos, alternatives in enumerate(flt.topics):
        if alternatives is None:
            continue
        if not alternatives:
            return []
        where.append(f"topic{pos} IN ({','.join('?' * len(alternatives))})")
        params.extend(alternatives)
    if flt.topics:
        where.append(f"topic{len(flt.topics) - 1} IS NOT NULL")
    sql = (
        "SELECT block_number, log_index, tx_index, tx_hash, address, topic0, topic1,"
        " topic2, topic3, data FROM logs WHERE "
        + " AND ".join(where)
        + " ORDER BY block_number, log_index LIMIT ?"
    )
    params.append(limit + 1)
    rows = store.query(sql, params)
    if len(rows) > limit:
        raise LogQueryTooLarge(f"query returned more than {limit} results")
    if not rows:
        return []
    hashes = block_hashes(store, [int(r[0]) for r in rows])
    return [
        LogEntry(
            address=bytes(r[4]),
            topics=tuple(bytes(t) for t in r[5:9] if t is not None),
            data=bytes(r[9]),
            block_number=int(r[0]),
            block_hash=hashes[int(r[0])],
            tx_hash=bytes(r[3]),
            tx_index=int(r[2]),
            log_index=int(r[1]),
        )
        for r in rows
    ]
