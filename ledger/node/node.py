"""EmbeddedNode: a persistent, permissioned single-writer py-evm chain."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from eth.abc import BlockHeaderAPI, SignedTransactionAPI
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_typing import BlockNumber

from ledger.node import index
from ledger.node.allowlist import Allowlist, normalize_address
from ledger.node.chain import (
    BLOCK_GAS_LIMIT,
    DEFAULT_CHAIN_ID,
    ZERO_ADDRESS,
    OpsureChain,
    build_block,
    chain_class,
    create_genesis,
)
from ledger.node.errors import (
    LedgerStoreError,
    TransactionDropped,
)
from ledger.node.integrity import check_head, verify_chain
from ledger.node.models import BlockTag, MinedBlock, ReceiptInfo, TxInfo
from ledger.node.pool import DroppedLog, PendingTx, TxPool
from ledger.node.reader import LedgerReader, tx_info
from ledger.node.store import SqliteStore
from ledger.node.submit import decode_and_check, tx_max_cost, validate_against_state

__all__ = ["EmbeddedNode"]

log = logging.getLogger("opsure.ledger.node")

#: Suggested priority fee (tip) in wei, as geth suggests on an idle network.
SUGGESTED_TIP_WEI = 10**9
#: Without a drift cap, warn (at most once a minute) when the head runs this far ahead.
DRIFT_WARNING_SECONDS = 15.0


class EmbeddedNode:
    """A persistent py-evm chain in `data_dir` that mines pooled transactions in batches.

    One writer (a miner thread, or `mine_pending()` when `automine=False`); reads are
    served from per-thread SQLite snapshots and never wait for mining. Every block is
    written in ONE SQLite transaction together with its own index rows, so a kill at
    any instant leaves the previous block or the new one.

    Block timestamps are max(parent + 1, now): more than one block per second runs
    ahead of the clock. `max_clock_drift` (seconds, default None = unbounded) makes the
    background miner pause instead, so pooled txs batch into fewer blocks.
    """

    def __init__(
        self,
        data_dir: str | Path,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        prefund: Mapping[str | bytes, int] | Iterable[str | bytes] = (),
        allowlist: Iterable[str | bytes] | None = None,
        allowlist_enabled: bool = True,
        coinbase: str | bytes | None = None,
        automine: bool = True,
        coalesce_delay: float = 0.005,
        max_clock_drift: float | None = None,
        max_block_txs: int = 1000,
        max_pool_txs: int = 20_000,
        quick_check: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.chain_id = chain_id
        self.coinbase = ZERO_ADDRESS if coinbase is None else normalize_address(coinbase)
        self.coalesce_delay = coalesce_delay
        self.max_clock_drift = max_clock_drift
        self.max_block_txs = max_block_txs
        self.max_pool_txs = max_pool_txs
        self.allowlist_enabled = allowlist_enabled
        self._chain_cls = chain_class(chain_id)
        self.store = self._open_store(prefund, allowlist, quick_check)
        try:
            self.reader = LedgerReader(self.store, self._chain_cls)
            self._writer = self._chain_cls(self.store.writer_kv())
            self._head: BlockHeaderAPI = check_head(self.store, self._writer, chain_id)
            self.allowlist = Allowlist(self.store)
        except BaseException:
            self.store.close()
            raise
        self._mine_lock = threading.RLock()
        self._pool_lock = threading.RLock()
        self._pool_cond = threading.Condition(self._pool_lock)
        self._block_cond = threading.Condition()
        self._blocks_mined = 0
        self._drift_warned_at = -1e9
        self._pool = TxPool()
        self._dropped = DroppedLog()
        self._stopping = False
        self._closed = False
        self._miner: threading.Thread | None = None
        if automine:
            self.start_miner()

    # -- lifecycle -----------------------------------------------------------------------

    def _open_store(
        self,
        prefund: Mapping[str | bytes, int] | Iterable[str | bytes],
        allowlist: Iterable[str | bytes] | None,
        quick_check: bool,
    ) -> SqliteStore:
        if SqliteStore.exists(self.data_dir):
            return SqliteStore.open(self.data_dir, quick_check=quick_check)
        if isinstance(prefund, Mapping):
            funded: Mapping[bytes, int] | list[bytes] = {
                normalize_address(a): int(w) for a, w in prefund.items()
            }
            accounts = list(funded)
        else:
            funded = accounts = [normalize_address(a) for a in prefund]
        allowed = accounts if allowlist is None else [normalize_address(a) for a in allowlist]

        def initialise(store: SqliteStore) -> None:
            from ledger.node.chain import genesis_params

            header = create_genesis(self._chain_cls, store.writer_kv(), funded)
            genesis_block = self._chain_cls(store.writer_kv()).get_canonical_block_by_number(BlockNumber(0))
            index.index_block(store, genesis_block, (), ())
            store.set_meta("chain_id", str(self.chain_id))
            store.set_meta("genesis_hash", bytes(header.hash).hex())
            store.set_meta("genesis_timestamp", str(genesis_params()["timestamp"]))
            Allowlist.write_initial(store, allowed)

        return SqliteStore.create(self.data_dir, index.INDEX_SCHEMA, initialise)

    def start_miner(self) -> None:
        """Start the background miner thread (idempotent)."""
        if self._miner is not None:
            return
        self._stopping = False
        self._miner = threading.Thread(target=self._miner_loop, name="ledger-miner", daemon=True)
        self._miner.start()

    def stop_miner(self) -> None:
        """Stop the background miner after its current block."""
        thread = self._miner
        if thread is None:
            return
        with self._pool_cond:
            self._stopping = True
            self._pool_cond.notify_all()
        thread.join()
        self._miner = None

    def close(self, *, mine_pending: bool = True) -> None:
        """Stop the miner, mine what is still pooled (unless told not to), close the store."""
        if self._closed:
            return
        self.stop_miner()
        with self._mine_lock:
            if mine_pending:
                for _ in range(100):
                    try:
                        if self.mine_pending() is None:
                            break
                    except Exception:
                        log.exception("could not mine pooled transactions at shutdown")
                        break
            self._closed = True
            self.store.close()

    def __enter__(self) -> EmbeddedNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- submission ----------------------------------------------------------------------

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Validate and pool a signed transaction; returns its hash.

        Raises TransactionRejected (SenderNotAllowed for senders off the allowlist).
        """
        tx, sender = decode_and_check(raw, self.chain_id, BLOCK_GAS_LIMIT)
        if self.allowlist_enabled:
            self.allowlist.require(sender)
        with self._pool_cond:
            head = self.reader.head()
            validate_against_state(
                tx,
                sender,
                self.reader,
                head,
                self._pool,
                base_fee=calculate_expected_base_fee_per_gas(head),
                max_pool=self.max_pool_txs,
            )
            self._pool.add(PendingTx(tx, sender, tx_max_cost(tx), time.time()))
            self._pool_cond.notify_all()
        return bytes(tx.hash)

    # -- mining --------------------------------------------------------------------------

    def _miner_loop(self) -> None:
        while True:
            with self._pool_cond:
                while not self._stopping and not len(self._pool):
                    self._pool_cond.wait()
                if self._stopping:
                    return
                full = len(self._pool) >= self.max_block_txs
            if not full and self.coalesce_delay > 0:
                time.sleep(self.coalesce_delay)
            self._wait_for_clock()
            if self._stopping:
                return
            try:
                self.mine_pending()
            except Exception:
                log.exception("mining failed; retrying shortly")
                time.sleep(0.5)

    def _wait_for_clock(self) -> None:
        """Throttle (if max_clock_drift is set): keep block timestamps near the clock."""
        warned = False
        while not self._stopping:
            ahead = self._head.timestamp + 1 - time.time()
            if self.max_clock_drift is None:
                if ahead > DRIFT_WARNING_SECONDS and time.monotonic() > self._drift_warned_at + 60:
                    self._drift_warned_at = time.monotonic()
                    log.warning(
                        "head timestamp is %.0f s ahead of the clock (more than one block per "
                        "second); set max_clock_drift to bound it",
                        ahead - 1,
                    )
                return
            if ahead <= self.max_clock_drift:
                return
            if not warned and ahead - self.max_clock_drift > 2:
                log.warning(
                    "head timestamp is %.0f s ahead of the clock; mining pauses until it is "
                    "within max_clock_drift=%.0f s",
                    ahead - 1,
                    self.max_clock_drift,
                )
                warned = True
            time.sleep(min(0.2, ahead - self.max_clock_drift))

    def next_timestamp(self) -> int:
        """Timestamp of the next block: max(parent + 1, now)."""
        return max(int(self._head.timestamp) + 1, int(time.time()))

    def mine_pending(self, *, allow_empty: bool = False) -> MinedBlock | None:
        """Mine every pending transaction that fits into one block; None if nothing to do."""
        with self._mine_lock:
            if self._closed:
                raise LedgerStoreError("node is closed")
            with self._pool_lock:
                batch = self._pool.take(int(self._head.gas_limit), self.max_block_txs)
            if not batch and not allow_empty:
                return None
            batch, refused = self._filter_allowed(batch)
            if not batch and not allow_empty:
                self._forget(refused)
                return None
            try:
                return self._mine_batch(batch, refused)
            except sqlite3.OperationalError:  # I/O, disk full, locked: keep the txs, retry
                self._reset_writer()
                raise
            except Exception as exc:
                self._reset_writer()
                if len(batch) <= 1:
                    reason = f"internal error while mining: {exc!r}"
                    log.exception("dropping transaction that broke block building")
                    self._forget([(p.hash, reason) for p in batch] + refused)
                    return None
                log.exception("block building failed; mining the batch one tx per block")
                last: MinedBlock | None = None
                for ptx in batch:
                    last = self._mine_isolated(ptx) or last
                self._forget(refused)
                return last

    def _mine_isolated(self, ptx: PendingTx) -> MinedBlock | None:
        try:
            return self._mine_batch([ptx], [])
        except sqlite3.OperationalError:
            self._reset_writer()
            raise
        except Exception as exc:
            self._reset_writer()
            self._forget([(ptx.hash, f"internal error while mining: {exc!r}")])
            return None

    def _filter_allowed(self, batch: list[PendingTx]) -> tuple[list[PendingTx], list[tuple[bytes, str]]]:
        if not self.allowlist_enabled:
            return batch, []
        keep = [p for p in batch if self.allowlist.contains(p.sender)]
        refused = [
            (p.hash, f"sender not allowlisted: 0x{p.sender.hex()}")
            for p in batch
            if not self.allowlist.contains(p.sender)
        ]
        return keep, refused

    def _mine_batch(self, batch: list[PendingTx], refused: list[tuple[bytes, str]]) -> MinedBlock:
        parent = self._head
        timestamp = self.next_timestamp()
        txs: list[SignedTransactionAPI] = [p.tx for p in batch]
        senders = {p.hash: p.sender for p in batch}
        locked = False
        try:
            with self.store.transaction():
                built = build_block(self._writer, parent, txs, timestamp=timestamp, coinbase=self.coinbase)
                mined = built.block
                index.index_block(
                    self.store,
                    mined,
                    built.receipts,
                    [senders[bytes(t.hash)] for t in mined.transactions],
                )
                self._pool_lock.acquire()
                locked = True
            # committed: publish the new head and forget mined/dropped txs atomically
            dropped = [(bytes(tx.hash), reason) for tx, reason in built.rejected] + refused
            self._head = mined.header
            self._pool.remove([bytes(t.hash) for t in mined.transactions])
            self._forget(dropped)
        finally:
            if locked:
                self._pool_lock.release()
        for tx_hash, reason in dropped:
            log.warning("dropped tx 0x%s: %s", tx_hash.hex(), reason)
        with self._block_cond:
            self._blocks_mined += 1
            self._block_cond.notify_all()
        return MinedBlock(
            number=int(mined.number),
            hash=bytes(mined.hash),
            timestamp=int(mined.header.timestamp),
            tx_hashes=tuple(bytes(t.hash) for t in mined.transactions),
            dropped=tuple(dropped),
        )

    def _forget(self, dropped: list[tuple[bytes, str]]) -> None:
        with self._pool_lock:
            self._pool.remove([h for h, _ in dropped])
            for tx_hash, reason in dropped:
                self._dropped.add(tx_hash, reason)

    def _reset_writer(self) -> None:
        self._writer = self._chain_cls(self.store.writer_kv())
        self._head = self._writer.get_canonical_head()

    # -- allowlist -----------------------------------------------------------------------

    def allow_account(self, address: str | bytes) -> None:
        """Add an account to the persisted sender allowlist."""
        with self._mine_lock:
            self.allowlist.add(normalize_address(address))

    def revoke_account(self, address: str | bytes) -> None:
        """Remove an account from the allowlist; its pooled txs are dropped at mining."""
        with self._mine_lock:
            self.allowlist.remove(normalize_address(address))

    def is_allowed(self, address: str | bytes) -> bool:
        """Whether the account may send transactions (always True if allowlisting is off)."""
        return not self.allowlist_enabled or self.allowlist.contains(normalize_address(address))

    def allowed_accounts(self) -> list[str]:
        """The allowlist as 0x-prefixed lowercase hex addresses."""
        return [f"0x{a.hex()}" for a in self.allowlist.accounts()]

    # -- reads ---------------------------------------------------------------------------

    @property
    def head(self) -> BlockHeaderAPI:
        """The canonical head header as last mined by this node."""
        return self._head

    def block_number(self) -> int:
        """Number of the canonical head block."""
        return int(self.reader.head().block_number)

    def pending_count(self) -> int:
        """How many transactions wait in the pool."""
        with self._pool_lock:
            return len(self._pool)

    def transaction_count(self, address: str | bytes, tag: BlockTag | str = "latest") -> int:
        """Nonce at a block; with 'pending', also counting this sender's pooled txs."""
        addr = normalize_address(address)
        if tag == "pending":
            with self._pool_lock:
                return self.reader.nonce(addr) + self._pool.count_for(addr)
        return self.reader.nonce(addr, tag)  # type: ignore[arg-type]

    def transaction(self, tx_hash: bytes) -> TxInfo | None:
        """A mined or pending transaction by hash."""
        found = self.reader.transaction(tx_hash)
        if found is not None:
            return found
        with self._pool_lock:
            ptx = self._pool.get(tx_hash)
        if ptx is None:
            return self.reader.transaction(tx_hash)
        return tx_info(ptx.tx, ptx.sender)

    def receipt(self, tx_hash: bytes) -> ReceiptInfo | None:
        """The receipt of a mined transaction, or None."""
        return self.reader.receipt(tx_hash)

    def dropped_reason(self, tx_hash: bytes) -> str | None:
        """Why a pooled transaction was dropped (None if it was not)."""
        with self._pool_lock:
            return self._dropped.get(tx_hash)

    def wait_for_receipt(self, tx_hash: bytes, timeout: float = 30.0) -> ReceiptInfo:
        """Block until the tx is mined; TimeoutError, or TransactionDropped if discarded."""
        deadline = time.monotonic() + timeout
        while True:
            with self._block_cond:
                seen = self._blocks_mined
            found = self.reader.receipt(tx_hash)
            if found is not None:
                return found
            reason = self.dropped_reason(tx_hash)
            if reason is not None:
                raise TransactionDropped(f"transaction 0x{tx_hash.hex()} dropped: {reason}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"transaction 0x{tx_hash.hex()} not mined after {timeout}s")
            with self._block_cond:
                if self._blocks_mined == seen:
                    self._block_cond.wait(min(remaining, 0.5))

    def next_base_fee(self) -> int:
        """Base fee per gas of the next block."""
        return int(calculate_expected_base_fee_per_gas(self.reader.head()))

    def suggested_tip(self) -> int:
        """Priority fee suggestion (eth_maxPriorityFeePerGas)."""
        return SUGGESTED_TIP_WEI

    def verify(self, first: int = 0) -> dict[str, Any]:
        """Walk blocks first..head and check blocks, txs, receipts and indexes agree."""
        return verify_chain(self.store, self.reader, first)

    @property
    def chain(self) -> OpsureChain:
        """The read-side py-evm chain object (committed state only)."""
        return self.reader.chain
