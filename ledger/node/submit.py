"""Admission checks for raw transactions (messages follow geth's txpool wording)."""

from __future__ import annotations

from typing import Protocol

from eth.abc import BlockHeaderAPI, SignedTransactionAPI
from eth.vm.forks.cancun import CancunVM

from ledger.node import index
from ledger.node.errors import TransactionRejected
from ledger.node.pool import TxPool
from ledger.node.store import SqliteStore

__all__ = ["decode_and_check", "tx_fee_cap", "tx_max_cost", "validate_against_state"]

#: EIP-3860 limit on contract creation code.
MAX_INITCODE_SIZE = 49_152
_BUILDER = CancunVM.get_transaction_builder()


class _StateReader(Protocol):
    store: SqliteStore

    def account(self, address: bytes) -> tuple[int, int]: ...


def tx_fee_cap(tx: SignedTransactionAPI) -> int:
    """Highest price per gas the tx may pay (gasPrice or maxFeePerGas)."""
    if tx.type_id is None or tx.type_id == 1:
        return int(tx.gas_price)
    return int(tx.max_fee_per_gas)


def tx_max_cost(tx: SignedTransactionAPI) -> int:
    """gas * fee cap + value: what the sender must be able to pay."""
    return int(tx.gas) * tx_fee_cap(tx) + int(tx.value)


def decode_and_check(raw: bytes, chain_id: int, block_gas_limit: int) -> tuple[SignedTransactionAPI, bytes]:
    """Decode a signed tx and run the stateless checks; returns (tx, sender)."""
    try:
        tx = _BUILDER.decode(raw)
    except Exception as exc:
        raise TransactionRejected(f"invalid transaction: {exc}") from exc
    type_id = int(tx.type_id or 0)
    if type_id == 3:
        raise TransactionRejected("blob transactions are not supported")
    if tx.chain_id is None:
        raise TransactionRejected("only replay-protected (EIP-155) transactions allowed over RPC")
    if int(tx.chain_id) != chain_id:
        raise TransactionRejected(f"invalid chain id: have {tx.chain_id}, want {chain_id}")
    if int(tx.gas) > block_gas_limit:
        raise TransactionRejected("exceeds block gas limit")
    if not tx.to and len(tx.data) > MAX_INITCODE_SIZE:
        raise TransactionRejected(
            f"max initcode size exceeded: code size {len(tx.data)} limit {MAX_INITCODE_SIZE}"
        )
    if type_id >= 2 and int(tx.max_priority_fee_per_gas) > int(tx.max_fee_per_gas):
        raise TransactionRejected("max priority fee per gas higher than max fee per gas")
    try:
        intrinsic = int(tx.intrinsic_gas)
        tx.validate()
        tx.check_signature_validity()
        sender = bytes(tx.sender)
    except Exception as exc:
        raise TransactionRejected(f"invalid transaction: {exc}") from exc
    if int(tx.gas) < intrinsic:
        raise TransactionRejected(f"intrinsic gas too low: gas {tx.gas}, minimum needed {intrinsic}")
    return tx, sender


def validate_against_state(
    tx: SignedTransactionAPI,
    sender: bytes,
    reader: _StateReader,
    head: BlockHeaderAPI,
    pool: TxPool,
    *,
    base_fee: int,
    max_pool: int,
) -> None:
    """Nonce, balance, fee and duplicate checks against the head state plus the pool."""
    tx_hash = bytes(tx.hash)
    if tx_hash in pool or index.tx_location(reader.store, tx_hash) is not None:
        raise TransactionRejected("already known")
    if len(pool) >= max_pool:
        raise TransactionRejected("txpool is full")
    nonce, balance = reader.account(sender)
    expected = nonce + pool.count_for(sender)
    if int(tx.nonce) < expected:
        raise TransactionRejected(f"nonce too low: next nonce {expected}, tx nonce {tx.nonce}")
    if int(tx.nonce) > expected:
        raise TransactionRejected(
            f"nonce too high: next nonce {expected}, tx nonce {tx.nonce}"
            " (this node does not queue nonce gaps)"
        )
    if tx_fee_cap(tx) < base_fee:
        raise TransactionRejected(
            f"max fee per gas less than block base fee: address 0x{sender.hex()}, "
            f"maxFeePerGas: {tx_fee_cap(tx)}, baseFee: {base_fee}"
        )
    cost = tx_max_cost(tx)
    available = balance - pool.cost_for(sender)
    if available < cost:
        raise TransactionRejected(
            f"insufficient funds for gas * price + value: balance {available}, "
            f"tx cost {cost}, overshot {cost - available}"
        )
