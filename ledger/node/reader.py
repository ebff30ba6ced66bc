"""Read side of the node: blocks, txs, receipts, logs, state and calls at a block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, cast

import rlp
from eth.abc import BlockHeaderAPI, SignedTransactionAPI, StateAPI, VirtualMachineAPI
from eth.exceptions import HeaderNotFound, OutOfGas, Revert, VMError
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address, BlockNumber, Hash32
from eth_utils.exceptions import ValidationError
from trie.hexary import HexaryTrie

from ledger.node import index
from ledger.node.chain import OpsureChain
from ledger.node.errors import BlockNotFound, ExecutionError, ExecutionReverted
from ledger.node.evm_deadline import evm_deadline, read_chain_class
from ledger.node.models import (
    BlockInfo,
    BlockTag,
    CallRequest,
    LogEntry,
    LogFilter,
    ReceiptInfo,
    TxInfo,
)
from ledger.node.store import SqliteStore

__all__ = ["ChainView", "LedgerReader", "StoreView", "tx_info"]

ZERO_ADDRESS = b"\x00" * 20
_SUCCESS = b"\x01"


def tx_info(
    tx: SignedTransactionAPI,
    sender: bytes,
    *,
    block_hash: bytes | None = None,
    block_number: int | None = None,
    tx_index: int | None = None,
    effective_gas_price: int | None = None,
) -> TxInfo:
    """Describe a py-evm transaction object as TxInfo."""
    type_id = int(tx.type_id or 0)
    dynamic = type_id >= 2
    if dynamic:
        gas_price = effective_gas_price if effective_gas_price is not None else tx.max_fee_per_gas
    else:
        gas_price = tx.gas_price
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...] = ()
    if type_id >= 1:
        access_list = tuple((bytes(addr), tuple(int(k) for k in keys)) for addr, keys in tx.access_list)
    y_parity = None if type_id == 0 else int(tx.y_parity)
    v = int(cast(Any, tx).v) if type_id == 0 else int(tx.y_parity)
    return TxInfo(
        hash=bytes(tx.hash),
        type=type_id,
        nonce=int(tx.nonce),
        sender=sender,
        to=bytes(tx.to) if tx.to else None,
        value=int(tx.value),
        gas=int(tx.gas),
        input=bytes(tx.data),
        chain_id=None if tx.chain_id is None else int(tx.chain_id),
        gas_price=None if gas_price is None else int(gas_price),
        max_fee_per_gas=int(tx.max_fee_per_gas) if dynamic else None,
        max_priority_fee_per_gas=int(tx.max_priority_fee_per_gas) if dynamic else None,
        access_list=access_list,
        v=v,
        r=int(tx.r),
        s=int(tx.s),
        y_parity=y_parity,
        block_hash=block_hash,
        block_number=block_number,
        tx_index=tx_index,
    )


class LedgerReader:
    """Thread-safe reads over the committed store (each call sees one snapshot)."""

    def __init__(self, store: SqliteStore, chain_cls: type[OpsureChain]) -> None:
        self.store = store
        self.chain = read_chain_class(chain_cls)(store.reader_kv())

    # -- headers and blocks ------------------------------------------------------------

    def head(self) -> BlockHeaderAPI:
        """The canonical head header."""
        with self.store.read():
            header: BlockHeaderAPI = self.chain.get_canonical_head()
            return header

    def header(self, tag: BlockTag) -> BlockHeaderAPI:
        """Resolve a number or tag to a canonical header; BlockNotFound if beyond the head."""
        with self.store.read():
            if tag in ("latest", "pending", "safe", "finalized"):
                return self.head()
            number = 0 if tag == "earliest" else int(tag)
            try:
                found: BlockHeaderAPI = self.chain.get_canonical_block_header_by_number(BlockNumber(number))
            except HeaderNotFound as exc:
                raise BlockNotFound(f"block {number} not found") from exc
            return found

    def header_by_hash(self, block_hash: bytes) -> BlockHeaderAPI | None:
        """A canonical header by hash (None if unknown or not canonical)."""
        with self.store.read():
            row = self.store.query_one("SELECT number FROM blocks WHERE hash = ?", (block_hash,))
            if row is None:
                return None
            return self.header(int(row[0]))

    def block(self, header: BlockHeaderAPI, full: bool) -> BlockInfo:
        """The block of a canonical header, with tx hashes or full transactions."""
        with self.store.read():
            block = self.chain.get_block_by_header(header)
            txs: tuple[TxInfo, ...] | None = None
            if full:
                rows = index.txs_of_block(self.store, header.block_number)
                txs = tuple(
                    tx_info(
                        tx,
                        row.sender,
                        block_hash=bytes(header.hash),
                        block_number=header.block_number,
                        tx_index=i,
                        effective_gas_price=row.effective_gas_price,
                    )
                    for i, (tx, row) in enumerate(zip(block.transactions, rows, strict=True))
                )
            h = cast(Any, header)
            return BlockInfo(
                number=h.block_number,
                hash=bytes(h.hash),
                parent_hash=bytes(h.parent_hash),
                nonce=bytes(h.nonce),
                uncles_hash=bytes(h.uncles_hash),
                logs_bloom=int(h.bloom).to_bytes(256, "big"),
                transactions_root=bytes(h.transaction_root),
                state_root=bytes(h.state_root),
                receipts_root=bytes(h.receipt_root),
                miner=bytes(h.coinbase),
                difficulty=int(h.difficulty),
                extra_data=bytes(h.extra_data),
                size=len(rlp.encode(block)),
                gas_limit=int(h.gas_limit),
                gas_used=int(h.gas_used),
                timestamp=int(h.timestamp),
                mix_hash=bytes(h.mix_hash),
                base_fee_per_gas=int(h.base_fee_per_gas),
                withdrawals_root=bytes(h.withdrawals_root),
                blob_gas_used=int(h.blob_gas_used),
                excess_blob_gas=int(h.excess_blob_gas),
                parent_beacon_block_root=bytes(h.parent_beacon_block_root),
                tx_hashes=tuple(bytes(t.hash) for t in block.transactions),
                transactions=txs,
            )

    def block_tx_count(self, number: int) -> int:
        """Number of transactions in a canonical block."""
        row = self.store.query_one("SELECT tx_count FROM blocks WHERE number = ?", (number,))
        return 0 if row is None else int(row[0])

    # -- transactions and receipts -----------------------------------------------------

    def _trie_item(self, root: bytes, position: int) -> bytes:
        item = HexaryTrie(self.chain.chaindb.db, root_hash=root)[rlp.encode(position)]
        if not item:
            raise LookupError(f"no trie item {position} under root 0x{root.hex()}")
        return bytes(item)

    def _mined_tx(self, row: index.IndexedTx) -> tuple[BlockHeaderAPI, SignedTransactionAPI]:
        header = self.chain.get_block_header_by_hash(Hash32(row.block_hash))
        builder = self.chain.get_vm_class(header).get_transaction_builder()
        tx = builder.decode(self._trie_item(header.transaction_root, row.tx_index))
        return header, tx

    def transaction(self, tx_hash: bytes) -> TxInfo | None:
        """A mined transaction by hash (None if not mined)."""
        with self.store.read():
            row = index.tx_location(self.store, tx_hash)
            if row is None:
                return None
            header, tx = self._mined_tx(row)
            return tx_info(
                tx,
                row.sender,
                block_hash=bytes(header.hash),
                block_number=row.block_number,
                tx_index=row.tx_index,
                effective_gas_price=row.effective_gas_price,
            )

    def transaction_at(self, header: BlockHeaderAPI, position: int) -> TxInfo | None:
        """The transaction at a position of a canonical block."""
        with self.store.read():
            row = self.store.query_one(
                "SELECT hash FROM txs WHERE block_number = ? AND tx_index = ?",
                (header.block_number, position),
            )
            return None if row is None else self.transaction(bytes(row[0]))

    def receipt(self, tx_hash: bytes) -> ReceiptInfo | None:
        """The receipt of a mined transaction (None if not mined)."""
        with self.store.read():
            row = index.tx_location(self.store, tx_hash)
            if row is None:
                return None
            header = self.chain.get_block_header_by_hash(Hash32(row.block_hash))
            builder = self.chain.get_vm_class(header).get_receipt_builder()
            receipt = builder.decode(self._trie_item(header.receipt_root, row.tx_index))
            block_hash = row.block_hash
            logs = tuple(
                LogEntry(
                    address=bytes(log.address),
                    topics=tuple(index.topic_bytes(t) for t in log.topics),
                    data=bytes(log.data),
                    block_number=row.block_number,
                    block_hash=block_hash,
                    tx_hash=tx_hash,
                    tx_index=row.tx_index,
                    log_index=row.log_start + i,
                )
                for i, log in enumerate(receipt.logs)
            )
            return ReceiptInfo(
                tx_hash=tx_hash,
                tx_index=row.tx_index,
                block_hash=block_hash,
                block_number=row.block_number,
                sender=row.sender,
                to=row.to,
                contract_address=row.contract_address,
                cumulative_gas_used=int(receipt.gas_used),
                gas_used=row.gas_used,
                effective_gas_price=row.effective_gas_price,
                status=1 if receipt.state_root == _SUCCESS else 0,
                type=row.tx_type,
                logs=logs,
                logs_bloom=int(receipt.bloom).to_bytes(256, "big"),
            )

    def logs(self, flt: LogFilter, limit: int = index.MAX_LOG_RESULTS) -> list[LogEntry]:
        """Logs matching a filter, from the own log index (LogQueryTooLarge past `limit`)."""
        with self.store.read():
            return index.query_logs(self.store, flt, limit)

    # -- state -------------------------------------------------------------------------

    def _vm(self, tag: BlockTag) -> VirtualMachineAPI:
        vm: VirtualMachineAPI = self.chain.get_vm(self.header(tag))
        return vm

    def balance(self, address: bytes, tag: BlockTag = "latest") -> int:
        """Account balance in wei at a block."""
        with self.store.read():
            return int(self._vm(tag).state.get_balance(Address(address)))

    def nonce(self, address: bytes, tag: BlockTag = "latest") -> int:
        """Account nonce at a block."""
        with self.store.read():
            return int(self._vm(tag).state.get_nonce(Address(address)))

    def account(self, address: bytes, tag: BlockTag = "latest") -> tuple[int, int]:
        """(nonce, balance) of an account at a block, from one snapshot."""
        with self.store.read():
            state = self._vm(tag).state
            return int(state.get_nonce(Address(address))), int(state.get_balance(Address(address)))

    def code(self, address: bytes, tag: BlockTag = "latest") -> bytes:
        """Contract code at a block."""
        with self.store.read():
            return bytes(self._vm(tag).state.get_code(Address(address)))

    def storage(self, address: bytes, slot: int, tag: BlockTag = "latest") -> int:
        """One storage slot at a block."""
        with self.store.read():
            return int(self._vm(tag).state.get_storage(Address(address), slot))

    def _spoof(self, state: StateAPI, vm: VirtualMachineAPI, req: CallRequest, gas: int) -> Any:
        sender = req.sender or ZERO_ADDRESS
        unsigned = vm.create_unsigned_transaction(
            nonce=state.get_nonce(Address(sender)),
            gas_price=0,
            gas=gas,
            to=Address(req.to or b""),
            value=req.value,
            data=req.data,
        )
        return SpoofTransaction(unsigned, from_=sender)

    @staticmethod
    def _allowance(state: StateAPI, req: CallRequest, gas_cap: int | None) -> int:
        """Gas a call may use: its own `gas`, at most the cap and the block's gas limit."""
        cap = int(state.gas_limit) if gas_cap is None else min(int(gas_cap), int(state.gas_limit))
        return cap if req.gas is None else min(int(req.gas), cap)

    def call(
        self,
        req: CallRequest,
        tag: BlockTag = "latest",
        *,
        gas_cap: int | None = None,
        deadline: float | None = None,
    ) -> bytes:
        """Execute a call on top of a block's state; raises ExecutionReverted on revert.

        At most `gas_cap` gas (default: the block's gas limit); past `deadline`
        (time.monotonic()) the EVM stops with ExecutionTimeout.
        """
        with self.store.read(), evm_deadline(deadline):
            vm = self._vm(tag)
            with vm.in_costless_state() as state:
                allowance = self._allowance(state, req, gas_cap)
                try:
                    computation = state.costless_execute_transaction(
                        cast(SignedTransactionAPI, self._spoof(state, vm, req, allowance))
                    )
                except ValidationError as exc:
                    raise ExecutionError(str(exc)) from exc
            if computation.is_error:
                if isinstance(computation.error, Revert):
                    raise ExecutionReverted(bytes(computation.output))
                message = _vm_error_message(computation.error)
                if isinstance(computation.error, OutOfGas):
                    message = f"{message} (gas allowance {allowance})"
                raise ExecutionError(message)
            return bytes(computation.output)

    def estimate_gas(
        self,
        req: CallRequest,
        tag: BlockTag = "latest",
        *,
        gas_cap: int | None = None,
        deadline: float | None = None,
    ) -> int:
        """Smallest gas limit (within 1000) with which the call does not fail, up to the cap.

        py-evm's own estimator searches up to the block's gas limit whatever the
        request says; this search stops at the call's allowance.
        """
        with self.store.read(), evm_deadline(deadline):
            vm = self._vm(tag)
            with vm.in_costless_state() as state:
                allowance = self._allowance(state, req, gas_cap)
                tx = self._spoof(state, vm, req, allowance)
                try:
                    return _binary_gas_search(state, tx, allowance)
                except Revert as exc:
                    data = exc.args[0] if exc.args and isinstance(exc.args[0], bytes) else b""
                    raise ExecutionReverted(data) from exc
                except VMError as exc:
                    raise ExecutionError(
                        f"gas required exceeds allowance ({allowance}): {_vm_error_message(exc)}"
                    ) from exc
                except ValidationError as exc:
                    raise ExecutionError(str(exc)) from exc


#: An estimate is within this many gas of the smallest limit that works (as geth's).
_ESTIMATE_TOLERANCE = 1000


def _error_with_gas(state: StateAPI, tx: Any, gas: int) -> VMError | None:
    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(cast(SignedTransactionAPI, SpoofTransaction(tx, gas=gas)))
        return computation.error if computation.is_error else None
    finally:
        state.revert(snapshot)


def _binary_gas_search(state: StateAPI, tx: Any, allowance: int) -> int:
    """py-evm's binary_gas_search with `allowance` instead of the block gas limit as the top."""
    low = int(tx.intrinsic_gas)
    if low > allowance:
        raise ExecutionError(f"intrinsic gas {low} exceeds allowance ({allowance})")
    if _error_with_gas(state, tx, low) is None:
        return low
    error = _error_with_gas(state, tx, allowance)
    if error is not None:
        raise error
    high = allowance
    while high - low > _ESTIMATE_TOLERANCE:
        middle = (high + low) // 2
        if _error_with_gas(state, tx, middle) is None:
            high = middle
        else:
            low = middle
    return high


class ChainView(Protocol):
    """What chain reads need of a node: its store, a reader, the chain id and the head."""

    store: SqliteStore
    reader: LedgerReader
    chain_id: int

    def block_number(self) -> int:
        """Number of the canonical head block."""
        ...


@dataclass
class StoreView:
    """A ChainView over a store only (no pool, no miner): e.g. opened read-only elsewhere."""

    store: SqliteStore
    reader: LedgerReader
    chain_id: int

    def block_number(self) -> int:
        """Number of the canonical head block."""
        return int(self.reader.head().block_number)


def _vm_error_message(error: Exception) -> str:
    name = type(error).__name__
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    detail = str(error)
    return f"{words}: {detail}" if detail else words
