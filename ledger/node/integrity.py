"""Start-up checks and a full walk proving blocks, receipts and own indexes agree."""

from __future__ import annotations

from typing import Any

from eth.abc import BlockHeaderAPI
from eth.db.schema import SchemaV1
from eth_typing import BlockNumber, Hash32

from ledger.node import index
from ledger.node.chain import BLANK_ROOT_HASH, OpsureChain
from ledger.node.errors import LedgerStoreCorrupt, LedgerStoreError
from ledger.node.models import LogFilter
from ledger.node.reader import LedgerReader
from ledger.node.store import SqliteStore

__all__ = ["check_head", "verify_chain"]


def check_head(store: SqliteStore, chain: OpsureChain, chain_id: int) -> BlockHeaderAPI:
    """Cheap start-up check of the head; LedgerStoreCorrupt if anything is off."""
    stored_id = store.get_meta("chain_id")
    genesis_hex = store.get_meta("genesis_hash")
    if stored_id is None or genesis_hex is None:
        raise LedgerStoreCorrupt(f"{store.path}: missing chain metadata")
    if int(stored_id) != chain_id:
        raise LedgerStoreError(
            f"{store.path} holds chain id {stored_id}, but the node was configured for {chain_id}"
        )
    try:
        return _check_head(store, chain, bytes.fromhex(genesis_hex))
    except LedgerStoreCorrupt:
        raise
    except Exception as exc:
        raise LedgerStoreCorrupt(f"{store.path}: inconsistent head: {exc!r}") from exc


def _check_head(store: SqliteStore, chain: OpsureChain, genesis_hash: bytes) -> BlockHeaderAPI:
    db = chain.chaindb.db
    head_hash = bytes(db[SchemaV1.make_canonical_head_hash_lookup_key()])
    head: BlockHeaderAPI = chain.get_block_header_by_hash(Hash32(head_hash))
    if bytes(head.hash) != head_hash:
        raise LedgerStoreCorrupt(f"{store.path}: head header does not hash to the head pointer")
    if bytes(chain.chaindb.get_canonical_block_hash(BlockNumber(0))) != genesis_hash:
        raise LedgerStoreCorrupt(f"{store.path}: genesis block differs from the recorded one")
    if bytes(chain.chaindb.get_canonical_block_hash(head.block_number)) != head_hash:
        raise LedgerStoreCorrupt(f"{store.path}: head is not canonical at its own height")
    if head.state_root != BLANK_ROOT_HASH and not db.exists(head.state_root):
        raise LedgerStoreCorrupt(f"{store.path}: state root of the head block is missing")
    top = store.writer_query("SELECT number, hash, tx_count FROM blocks ORDER BY number DESC LIMIT 1")
    if not top or int(top[0][0]) != head.block_number or bytes(top[0][1]) != head_hash:
        raise LedgerStoreCorrupt(f"{store.path}: block index does not end at the head block")
    block = chain.get_block_by_header(head)
    if len(block.transactions) != int(top[0][2]):
        raise LedgerStoreCorrupt(f"{store.path}: head block tx count differs from the index")
    receipts = chain.chaindb.get_receipts(head, chain.get_vm_class(head).get_receipt_builder())
    if len(tuple(receipts)) != len(block.transactions):
        raise LedgerStoreCorrupt(f"{store.path}: head block receipts are missing")
    for i, tx in enumerate(block.transactions):
        if tuple(chain.chaindb.get_transaction_index(tx.hash)) != (head.block_number, i):
            raise LedgerStoreCorrupt(f"{store.path}: head block tx lookup is missing")
    return head


def verify_chain(store: SqliteStore, reader: LedgerReader, first: int = 0) -> dict[str, Any]:
    """Walk every canonical block from `first` to the head; raise LedgerStoreCorrupt on a gap."""
    counts = {"blocks": 0, "txs": 0, "logs": 0}
    with store.read():
        head = reader.head()
        chain = reader.chain
        for number in range(first, head.block_number + 1):
            _verify_block(store, reader, chain, number, counts)
        beyond = store.query_one(
            "SELECT (SELECT COUNT(*) FROM blocks WHERE number > ?)"
            " + (SELECT COUNT(*) FROM txs WHERE block_number > ?)"
            " + (SELECT COUNT(*) FROM logs WHERE block_number > ?)",
            (head.block_number,) * 3,
        )
        if beyond is not None and int(beyond[0]):
            raise LedgerStoreCorrupt("index rows exist beyond the head block")
        total = store.query_one("SELECT COUNT(*) FROM txs WHERE block_number >= ?", (first,))
        if total is None or int(total[0]) != counts["txs"]:
            raise LedgerStoreCorrupt("txs index holds rows of non-canonical blocks")
    counts["head"] = head.block_number
    return counts


def _verify_block(
    store: SqliteStore,
    reader: LedgerReader,
    chain: OpsureChain,
    number: int,
    counts: dict[str, int],
) -> None:
    header = chain.get_canonical_block_header_by_number(BlockNumber(number))
    row = store.query_one("SELECT hash, tx_count, log_count FROM blocks WHERE number = ?", (number,))
    if row is None or bytes(row[0]) != bytes(header.hash):
        raise LedgerStoreCorrupt(f"block {number}: missing or foreign block index row")
    block = chain.get_block_by_header(header)
    receipts = tuple(chain.chaindb.get_receipts(header, chain.get_vm_class(header).get_receipt_builder()))
    if len(receipts) != len(block.transactions) or int(row[1]) != len(block.transactions):
        raise LedgerStoreCorrupt(f"block {number}: transactions and receipts disagree")
    rows = index.txs_of_block(store, number)
    if [r.hash for r in rows] != [bytes(t.hash) for t in block.transactions]:
        raise LedgerStoreCorrupt(f"block {number}: tx index differs from the block body")
    expected_logs: list[tuple[Any, ...]] = []
    for i, tx in enumerate(block.transactions):
        if tuple(chain.chaindb.get_transaction_index(tx.hash)) != (number, i):
            raise LedgerStoreCorrupt(f"block {number}: tx {i} lookup missing")
        receipt = reader.receipt(bytes(tx.hash))
        if receipt is None or receipt.cumulative_gas_used != receipts[i].gas_used:
            raise LedgerStoreCorrupt(f"block {number}: receipt {i} unreadable")
        expected_logs.extend(
            (lg.log_index, lg.tx_index, lg.tx_hash, lg.address, lg.topics, lg.data) for lg in receipt.logs
        )
    if receipts and receipts[-1].gas_used != header.gas_used:
        raise LedgerStoreCorrupt(f"block {number}: gas used differs from the receipts")
    found = [
        (lg.log_index, lg.tx_index, lg.tx_hash, lg.address, lg.topics, lg.data)
        for lg in index.query_logs(store, LogFilter(number, number), limit=10**9)
    ]
    if found != expected_logs or int(row[2]) != len(expected_logs):
        raise LedgerStoreCorrupt(f"block {number}: log index differs from the receipts")
    counts["blocks"] += 1
    counts["txs"] += len(rows)
    counts["logs"] += len(found)
