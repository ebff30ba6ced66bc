"""SQLite store for py-evm: batch atomicity, one transaction per block, corruption at start-up."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from eth.db.schema import SchemaV1
from eth_typing import BlockNumber

from ledger.node import (
    EmbeddedNode,
    LedgerStoreCorrupt,
    LedgerStoreError,
    LedgerStoreLocked,
)
from ledger.node.chain import build_block
from ledger.node.store import DB_FILENAME, SqliteStore
from tests.ledger.node_helpers import ALICE, BOB, INIT_CODE, OWNER, signed

PREFUND = [OWNER.address, ALICE.address, BOB.address]


def _store(tmp_path: Path) -> SqliteStore:
    return SqliteStore.create(tmp_path, (), lambda s: None)


def test_atomic_batch_is_invisible_until_commit_and_dropped_on_error(tmp_path: Path) -> None:
    """Writes of a batch reach readers only on success; an error drops every write."""
    store = _store(tmp_path)
    try:
        kv, reader = store.writer_kv(), store.reader_kv()
        with kv.atomic_batch() as batch:
            batch[b"a"] = b"1"
            assert batch[b"a"] == b"1"
            assert b"a" not in reader
        assert reader[b"a"] == b"1"
        with pytest.raises(RuntimeError), kv.atomic_batch() as batch:
            batch[b"b"] = b"2"
            del batch[b"a"]
            raise RuntimeError("boom")
        assert reader[b"a"] == b"1" and b"b" not in reader
        with kv.atomic_batch() as batch:
            del batch[b"a"]
            assert b"a" not in batch
        assert b"a" not in reader
        with pytest.raises(LedgerStoreError):
            reader[b"x"] = b"no"
    finally:
        store.close()


def test_nested_batches_join_the_outer_transaction(tmp_path: Path) -> None:
    """Inside store.transaction(), batches commit nothing until the outer commit."""
    store = _store(tmp_path)
    try:
        kv, reader = store.writer_kv(), store.reader_kv()
        with pytest.raises(RuntimeError), store.transaction():
            with kv.atomic_batch() as batch:
                batch[b"k1"] = b"v1"
            kv[b"k2"] = b"v2"
            assert kv[b"k1"] == b"v1"
            assert b"k1" not in reader
            raise RuntimeError("crash before the outer commit")
        assert b"k1" not in reader and b"k2" not in reader
        with store.transaction():
            with kv.atomic_batch() as batch:
                batch[b"k1"] = b"v1"
            with pytest.raises(ValueError), kv.atomic_batch() as batch:
                batch[b"k3"] = b"v3"
                raise ValueError("inner failure only")
        assert reader[b"k1"] == b"v1" and b"k3" not in reader
    finally:
        store.close()


def test_reader_connections_of_finished_threads_are_closed(tmp_path: Path) -> None:
    """Each thread gets its own snapshot reader; readers of dead threads are reclaimed."""
    import threading

    store = _store(tmp_path)
    try:
        for _ in range(5):
            worker = threading.Thread(target=lambda: store.query("SELECT 1"))
            worker.start()
            worker.join()
        store.query("SELECT 1")
        assert store.reader_count() <= 2
    finally:
        store.close()


def test_block_is_one_transaction(tmp_path: Path) -> None:
    """A block built inside a rolled-back transaction leaves no trace; the node resumes."""
    node = EmbeddedNode(tmp_path, prefund=PREFUND, automine=False)
    try:
        node.send_raw_transaction(signed(OWNER, 0, data=INIT_CODE, gas=200_000))
        node.mine_pending()
        before = node.store.size_bytes()
        head = node.head
        tx = (
            node.chain.get_vm()
            .get_transaction_builder()
            .decode(signed(OWNER, 1, to=BOB.address, value=1, gas=21_000))
        )
        with pytest.raises(RuntimeError), node.store.transaction():
            built = build_block(node._writer, head, [tx], timestamp=head.timestamp + 1)
            assert built.block.number == head.block_number + 1
            raise RuntimeError("killed mid-import")
        assert node.reader.head() == head
        assert node.reader.receipt(bytes(tx.hash)) is None
        assert node.store.size_bytes() >= before
    finally:
        node.close()
    with EmbeddedNode(tmp_path, automine=False) as node:
        assert node.block_number() == 1
        assert node.verify()["txs"] == 1


def _make_chain(tmp_path: Path) -> Path:
    with EmbeddedNode(tmp_path, prefund=PREFUND, automine=False) as node:
        for nonce in range(3):
            node.send_raw_transaction(signed(OWNER, nonce, to=BOB.address, value=1, gas=21_000))
            node.mine_pending()
        node.store.checkpoint()
    return tmp_path / DB_FILENAME


def test_truncated_store_is_corrupt(tmp_path: Path) -> None:
    """A truncated file (empty or half) raises LedgerStoreCorrupt, never a silent reset."""
    path = _make_chain(tmp_path)
    backup = path.read_bytes()
    with path.open("r+b") as f:
        f.truncate(len(backup) // 2)
    with pytest.raises(LedgerStoreCorrupt):
        EmbeddedNode(tmp_path, prefund=PREFUND)
    path.write_bytes(b"")
    with pytest.raises(LedgerStoreCorrupt):
        EmbeddedNode(tmp_path, prefund=PREFUND)
    assert path.read_bytes() == b""  # nothing was recreated


def test_garbage_store_is_corrupt(tmp_path: Path) -> None:
    """Garbage in the header or in the pages is detected at start-up."""
    path = _make_chain(tmp_path)
    original = path.read_bytes()
    path.write_bytes(os.urandom(16) + original[16:])
    with pytest.raises(LedgerStoreCorrupt):
        EmbeddedNode(tmp_path)
    middle = len(original) // 2
    path.write_bytes(original[:middle] + b"\xa5" * 8192 + original[middle + 8192 :])
    with pytest.raises(LedgerStoreCorrupt):
        EmbeddedNode(tmp_path)
    path.unlink()
    path.mkdir()
    with pytest.raises(LedgerStoreCorrupt):
        EmbeddedNode(tmp_path)
    shutil.rmtree(path)
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
    with pytest.raises(LedgerStoreCorrupt):
        EmbeddedNode(tmp_path)


def _edit(path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(sql, params)
    finally:
        conn.close()


def _restore(path: Path, original: bytes) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(original)


def test_head_pointing_at_missing_block_is_corrupt(tmp_path: Path) -> None:
    """A head hash without its block, or a head the own indexes do not reach, is corrupt."""
    path = _make_chain(tmp_path)
    key = SchemaV1.make_canonical_head_hash_lookup_key()
    original = path.read_bytes()
    _edit(path, "UPDATE kv SET v = ? WHERE k = ?", (b"\x42" * 32, key))
    with pytest.raises(LedgerStoreCorrupt, match="head"):
        EmbeddedNode(tmp_path)
    _restore(path, original)
    block_2 = SchemaV1.make_block_number_to_hash_lookup_key(BlockNumber(2))
    _edit(path, "UPDATE kv SET v = (SELECT v FROM kv WHERE k = ?) WHERE k = ?", (block_2, key))
    with pytest.raises(LedgerStoreCorrupt):
        EmbeddedNode(tmp_path)
    _restore(path, original)
    _edit(path, "DELETE FROM meta WHERE k = 'genesis_hash'")
    with pytest.raises(LedgerStoreCorrupt):
        EmbeddedNode(tmp_path)
    _restore(path, original)
    with EmbeddedNode(tmp_path, automine=False) as node:
        assert node.block_number() == 3


def test_lock_and_chain_id_mismatch(tmp_path: Path) -> None:
    """One node per directory; reopening with another chain id is refused."""
    with EmbeddedNode(tmp_path, prefund=PREFUND, automine=False), pytest.raises(LedgerStoreLocked):
        EmbeddedNode(tmp_path)
    with pytest.raises(LedgerStoreError, match="chain id"):
        EmbeddedNode(tmp_path, chain_id=1337)
    with EmbeddedNode(tmp_path / "other", chain_id=1337, prefund=PREFUND, automine=False) as n:
        assert n.chain_id == 1337 and n.chain.chain_id == 1337


def test_allowlist_is_persisted(tmp_path: Path) -> None:
    """Allowlist changes survive a restart; allowlisting can be switched off per run."""
    from ledger.node import SenderNotAllowed
    from tests.ledger.node_helpers import MALLORY

    with EmbeddedNode(
        tmp_path, prefund=[*PREFUND, MALLORY.address], allowlist=[OWNER.address], automine=False
    ) as node:
        assert node.allowed_accounts() == [OWNER.address.lower()]
        node.allow_account(ALICE.address)
        node.allow_account(BOB.address)
        node.revoke_account(BOB.address)
    with EmbeddedNode(tmp_path, automine=False) as node:
        assert node.is_allowed(ALICE.address) and not node.is_allowed(BOB.address)
        with pytest.raises(SenderNotAllowed):
            node.send_raw_transaction(signed(MALLORY, 0, to=BOB.address, gas=21_000))
    with EmbeddedNode(tmp_path, automine=False, allowlist_enabled=False) as node:
        node.send_raw_transaction(signed(MALLORY, 0, to=BOB.address, gas=21_000))
        mined = node.mine_pending()
        assert mined is not None and len(mined.tx_hashes) == 1


def test_revoked_sender_pooled_tx_is_dropped(tmp_path: Path) -> None:
    """A tx pooled before its sender was revoked is dropped at mining, with a reason."""
    from ledger.node import TransactionDropped

    with EmbeddedNode(tmp_path, prefund=PREFUND, automine=False) as node:
        tx_hash = node.send_raw_transaction(signed(ALICE, 0, to=BOB.address, gas=21_000))
        node.revoke_account(ALICE.address)
        assert node.mine_pending() is None
        assert node.pending_count() == 0
        with pytest.raises(TransactionDropped, match="not allowlisted"):
            node.wait_for_receipt(tx_hash, 1)
