"""Embedded permissioned EVM node: persistent py-evm chain, allowlist, JSON-RPC."""

from ledger.node.chain import BLOCK_GAS_LIMIT, DEFAULT_CHAIN_ID, OpsureChain
from ledger.node.errors import (
    ExecutionReverted,
    LedgerNodeError,
    LedgerStoreCorrupt,
    LedgerStoreError,
    LedgerStoreLocked,
    SenderNotAllowed,
    TransactionDropped,
    TransactionRejected,
)
from ledger.node.node import EmbeddedNode

__all__ = [
    "BLOCK_GAS_LIMIT",
    "DEFAULT_CHAIN_ID",
    "EmbeddedNode",
    "ExecutionReverted",
    "LedgerNodeError",
    "LedgerStoreCorrupt",
    "LedgerStoreError",
    "LedgerStoreLocked",
    "OpsureChain",
    "SenderNotAllowed",
    "TransactionDropped",
    "TransactionRejected",
]
