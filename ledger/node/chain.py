"""The Opsure chain: a module-level py-evm chain class, genesis and block building."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth.abc import (
    AtomicDatabaseAPI,
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
)
from eth.chains.base import Chain
from eth.constants import POST_MERGE_DIFFICULTY, POST_MERGE_MIX_HASH, POST_MERGE_NONCE
from eth.estimators.gas import binary_gas_search_1000_tolerance
from eth.vm.forks.cancun import CancunVM
from eth_typing import Address, BlockNumber
from eth_utils.exceptions import ValidationError

__all__ = [
    "BLOCK_GAS_LIMIT",
    "DEFAULT_CHAIN_ID",
    "DEFAULT_PREFUND_WEI",
    "GENESIS_TIMESTAMP",
    "BuiltBlock",
    "OpsureChain",
    "build_block",
    "chain_class",
    "genesis_params",
    "genesis_state",
]

#: Private chain id of the embedded ledger (not registered on chainlist; override per network).
DEFAULT_CHAIN_ID = 48_151
#: Constant block gas limit (no voting); big anchor batches fit comfortably.
BLOCK_GAS_LIMIT = 30_000_000
#: Fixed genesis timestamp (2024-01-01T00:00:00Z): same prefund list -> same genesis hash.
GENESIS_TIMESTAMP = 1_704_067_200
GENESIS_EXTRA_DATA = b"opsure-ledger"
#: Default balance of every prefunded account: one million ether.
DEFAULT_PREFUND_WEI = 10**24

ZERO_ADDRESS = b"\x00" * 20
BLANK_ROOT_HASH = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")


class OpsureChain(Chain):
    """Cancun-rules chain (runs paris/shanghai/cancun bytecode) with a constant gas limit."""

    chain_id = DEFAULT_CHAIN_ID
    vm_configuration = ((BlockNumber(0), CancunVM),)
    gas_estimator = staticmethod(binary_gas_search_1000_tolerance)

    def create_header_from_parent(
        self, parent_header: BlockHeaderAPI, **header_params: Any
    ) -> BlockHeaderAPI:
        """Child header with the parent's gas limit (no gas-limit drift)."""
        header_params.setdefault("gas_limit", parent_header.gas_limit)
        return super().create_header_from_parent(parent_header, **header_params)


@functools.cache
def chain_class(chain_id: int = DEFAULT_CHAIN_ID) -> type[OpsureChain]:
    """The chain class for a chain id (OpsureChain itself for the default id)."""
    if chain_id == DEFAULT_CHAIN_ID:
        return OpsureChain
    return type(f"OpsureChain{chain_id}", (OpsureChain,), {"chain_id": chain_id})


def genesis_params(timestamp: int = GENESIS_TIMESTAMP) -> dict[str, Any]:
    """Fixed post-merge genesis header parameters."""
    return {
        "coinbase": ZERO_ADDRESS,
        "difficulty": POST_MERGE_DIFFICULTY,
        "extra_data": GENESIS_EXTRA_DATA,
        "gas_limit": BLOCK_GAS_LIMIT,
        "mix_hash": POST_MERGE_MIX_HASH,
        "nonce": POST_MERGE_NONCE,
        "receipt_root": BLANK_ROOT_HASH,
        "timestamp": timestamp,
        "transaction_root": BLANK_ROOT_HASH,
    }


def genesis_state(
    prefund: Mapping[bytes, int] | Iterable[bytes], default_wei: int = DEFAULT_PREFUND_WEI
) -> dict[Address, Any]:
    """py-evm genesis allocation for prefunded accounts (addresses as 20 raw bytes)."""
    amounts: Mapping[bytes, int] = (
        prefund if isinstance(prefund, Mapping) else dict.fromkeys(prefund, default_wei)
    )
    return {
        Address(bytes(addr)): {"balance": int(wei), "nonce": 0, "code": b"", "storage": {}}
        for addr, wei in amounts.items()
    }


def create_genesis(
    chain_cls: type[OpsureChain],
    db: AtomicDatabaseAPI,
    prefund: Mapping[bytes, int] | Iterable[bytes],
) -> BlockHeaderAPI:
    """Write the genesis state and header; returns the genesis header."""
    chain = chain_cls.from_genesis(db, genesis_params(), genesis_state(prefund))
    header: BlockHeaderAPI = chain.get_canonical_head()
    return header


@dataclass(frozen=True)
class BuiltBlock:
    """A block that was built and persisted, with the outcome of every candidate tx."""

    block: BlockAPI
    receipts: tuple[ReceiptAPI, ...]
    computations: tuple[ComputationAPI, ...]
    rejected: tuple[tuple[SignedTransactionAPI, str], ...]


def build_block(
    chain: OpsureChain,
    parent: BlockHeaderAPI,
    transactions: Sequence[SignedTransactionAPI],
    *,
    timestamp: int,
    coinbase: bytes = ZERO_ADDRESS,
) -> BuiltBlock:
    """Apply every valid tx on top of `parent`, then seal and persist one block.

    Like py-evm's `MiningChain.mine_all`, but a tx that fails validation (nonce,
    balance, fee) is left out and reported instead of aborting the whole block. A tx
    that reverts is included with a status-0 receipt. The caller owns the store
    transaction that makes this write atomic.
    """
    header = chain.create_header_from_parent(parent, timestamp=timestamp, coinbase=coinbase)
    vm = chain.get_vm(header)
    receipts: list[ReceiptAPI] = []
    computations: list[ComputationAPI] = []
    included: list[SignedTransactionAPI] = []
    rejected: list[tuple[SignedTransactionAPI, str]] = []
    current = header
    for tx in transactions:
        try:
            receipt, computation = vm.apply_transaction(current, tx)
        except ValidationError as exc:
            # validation runs before any state change, so nothing to revert
            rejected.append((tx, str(exc)))
            continue
        current = vm.add_receipt_to_header(current, receipt)
        current = vm.increment_blob_gas_used(current, tx)
        included.append(tx)
        receipts.append(receipt)
        computations.append(computation)
    filled = vm.set_block_transactions_and_withdrawals(vm.get_block(), current, included, receipts)
    sealed = vm.mine_block(filled).block
    chain.persist_block(sealed)
    return BuiltBlock(sealed, tuple(receipts), tuple(computations), tuple(rejected))
