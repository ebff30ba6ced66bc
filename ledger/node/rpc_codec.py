"""JSON-RPC encoding (geth-style hex) and parameter parsing for the node's RPC server."""

from __future__ import annotations

from typing import Any

from ledger.node.models import (
    BlockInfo,
    BlockTag,
    CallRequest,
    LogEntry,
    ReceiptInfo,
    TxInfo,
)

__all__ = [
    "RpcError",
    "arguments",
    "format_block",
    "format_log",
    "format_receipt",
    "format_tx",
    "hex_data",
    "hex_quantity",
    "parse_address",
    "parse_block_ref",
    "parse_call",
    "parse_data",
    "parse_hash",
    "parse_quantity",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
LIMIT_EXCEEDED = -32005
EXECUTION_REVERTED = 3

_TAGS = ("latest", "earliest", "pending", "safe", "finalized")


class RpcError(Exception):
    """An error answer: JSON-RPC code, message and optional data."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_json(self) -> dict[str, Any]:
        """The `error` member of a JSON-RPC response."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


def invalid(message: str) -> RpcError:
    """An invalid-params error."""
    return RpcError(INVALID_PARAMS, message)


# -- encoding ----------------------------------------------------------------------------


def hex_quantity(value: int) -> str:
    """Quantity as geth encodes it: 0x-prefixed, no leading zeros ("0x0" for zero)."""
    return hex(int(value))


def hex_data(value: bytes) -> str:
    """Bytes as 0x-prefixed lowercase hex."""
    return "0x" + bytes(value).hex()


def _opt_data(value: bytes | None) -> str | None:
    return None if value is None else hex_data(value)


def _opt_quantity(value: int | None) -> str | None:
    return None if value is None else hex_quantity(value)


def format_log(entry: LogEntry) -> dict[str, Any]:
    """An eth log object."""
    return {
        "address": hex_data(entry.address),
        "topics": [hex_data(t) for t in entry.topics],
        "data": hex_data(entry.data),
        "blockNumber": hex_quantity(entry.block_number),
        "transactionHash": hex_data(entry.tx_hash),
        "transactionIndex": hex_quantity(entry.tx_index),
        "blockHash": hex_data(entry.block_hash),
        "logIndex": hex_quantity(entry.log_index),
        "removed": False,
    }


def format_tx(tx: TxInfo) -> dict[str, Any]:
    """An eth transaction object (geth field set for its type)."""
    out: dict[str, Any] = {
        "blockHash": _opt_data(tx.block_hash),
        "blockNumber": _opt_quantity(tx.block_number),
        "from": hex_data(tx.sender),
        "gas": hex_quantity(tx.gas),
        "gasPrice": _opt_quantity(tx.gas_price),
    }
    if tx.type >= 2:
        out["maxFeePerGas"] = _opt_quantity(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = _opt_quantity(tx.max_priority_fee_per_gas)
    out.update(
        {
            "hash": hex_data(tx.hash),
            "input": hex_data(tx.input),
            "nonce": hex_quantity(tx.nonce),
            "to": _opt_data(tx.to),
            "transactionIndex": _opt_quantity(tx.tx_index),
            "value": hex_quantity(tx.value),
            "type": hex_quantity(tx.type),
        }
    )
    if tx.type >= 1:
        out["accessList"] = [
            {"address": hex_data(addr), "storageKeys": [hex_data(k.to_bytes(32, "big")) for k in keys]}
            for addr, keys in tx.access_list
        ]
    if tx.chain_id is not None:
        out["chainId"] = hex_quantity(tx.chain_id)
    out["v"] = hex_quantity(tx.v)
    out["r"] = hex_quantity(tx.r)
    out["s"] = hex_quantity(tx.s)
    if tx.y_parity is not None:
        out["yParity"] = hex_quantity(tx.y_parity)
    return out


def format_receipt(r: ReceiptInfo) -> dict[str, Any]:
    """An eth transaction receipt object."""
    return {
        "blockHash": hex_data(r.block_hash),
        "blockNumber": hex_quantity(r.block_number),
        "contractAddress": _opt_data(r.contract_address),
        "cumulativeGasUsed": hex_quantity(r.cumulative_gas_used),
        "effectiveGasPrice": hex_quantity(r.effective_gas_price),
        "from": hex_data(r.sender),
        "gasUsed": hex_quantity(r.gas_used),
        "logs": [format_log(lg) for lg in r.logs],
        "logsBloom": hex_data(r.logs_bloom),
        "status": hex_quantity(r.status),
        "to": _opt_data(r.to),
        "transactionHash": hex_data(r.tx_hash),
        "transactionIndex": hex_quantity(r.tx_index),
        "type": hex_quantity(r.type),
    }


def format_block(b: BlockInfo, full: bool) -> dict[str, Any]:
    """An eth block object (Cancun fields included)."""
    txs: list[Any]
    if full and b.transactions is not None:
        txs = [format_tx(t) for t in b.transactions]
    else:
        txs = [hex_data(h) for h in b.tx_hashes]
    return {
        "baseFeePerGas": hex_quantity(b.base_fee_per_gas),
        "blobGasUsed": hex_quantity(b.blob_gas_used),
        "difficulty": hex_quantity(b.difficulty),
        "excessBlobGas": hex_quantity(b.excess_blob_gas),
        "extraData": hex_data(b.extra_data),
        "gasLimit": hex_quantity(b.gas_limit),
        "gasUsed": hex_quantity(b.gas_used),
        "hash": hex_data(b.hash),
        "logsBloom": hex_data(b.logs_bloom),
        "miner": hex_data(b.miner),
        "mixHash": hex_data(b.mix_hash),
        "nonce": hex_data(b.nonce),
        "number": hex_quantity(b.number),
        "parentBeaconBlockRoot": hex_data(b.parent_beacon_block_root),
        "parentHash": hex_data(b.parent_hash),
        "receiptsRoot": hex_data(b.receipts_root),
        "sha3Uncles": hex_data(b.uncles_hash),
        "size": hex_quantity(b.size),
        "stateRoot": hex_data(b.state_root),
        "timestamp": hex_quantity(b.timestamp),
        "totalDifficulty": hex_quantity(0),
        "transactions": txs,
        "transactionsRoot": hex_data(b.transactions_root),
        "uncles": [],
        "withdrawals": [],
        "withdrawalsRoot": hex_data(b.withdrawals_root),
    }


# -- parsing -----------------------------------------------------------------------------


def arguments(params: Any, required: int, optional: int = 0) -> list[Any]:
    """Positional params padded with None; invalid-params error on a wrong count."""
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid("non-array args")
    if len(params) < required:
        raise invalid(f"missing value for required argument {len(params)}")
    if len(params) > required + optional:
        raise invalid(f"too many arguments, want at most {required + optional}")
    return params + [None] * (required + optional - len(params))


def parse_quantity(value: Any, name: str = "quantity") -> int:
    """A hex quantity ("0x1a"); plain non-negative JSON integers are accepted too."""
    if isinstance(value, bool):
        raise invalid(f"invalid {name}: {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if not isinstance(value, str) or not value.startswith(("0x", "0X")) or len(value) < 3:
        raise invalid(f"invalid {name}: hex string expected, got {value!r}")
    try:
        number = int(value[2:], 16)
    except ValueError as exc:
        raise invalid(f"invalid {name}: {value!r}") from exc
    if number >= 2**256:
        raise invalid(f"invalid {name}: hex number > 256 bits")
    return number


def parse_data(value: Any, name: str = "data", size: int | None = None) -> bytes:
    """0x-prefixed hex bytes, optionally of an exact size."""
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise invalid(f"invalid {name}: hex string expected, got {value!r}")
    text = value[2:]
    if len(text) % 2:
        raise invalid(f"invalid {name}: hex string of odd length")
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise invalid(f"invalid {name}: {value!r}") from exc
    if size is not None and len(raw) != size:
        raise invalid(f"invalid {name}: {size} bytes expected, got {len(raw)}")
    return raw


def parse_address(value: Any, name: str = "address") -> bytes:
    """A 20-byte address."""
    return parse_data(value, name, 20)


def parse_hash(value: Any, name: str = "hash") -> bytes:
    """A 32-byte hash."""
    return parse_data(value, name, 32)


def parse_block_ref(value: Any, default: str = "latest") -> BlockTag | bytes:
    """Block number/tag, or an EIP-1898 object; a bytes result is a block hash."""
    if value is None:
        return default  # type: ignore[return-value]
    if isinstance(value, str) and value in _TAGS:
        return value  # type: ignore[return-value]
    if isinstance(value, dict):
        if "blockHash" in value:
            return parse_hash(value["blockHash"], "blockHash")
        if "blockNumber" in value:
            return parse_block_ref(value["blockNumber"], default)
        raise invalid("block reference object needs blockHash or blockNumber")
    return parse_quantity(value, "block number")


def parse_call(value: Any) -> CallRequest:
    """A call object for eth_call / eth_estimateGas."""
    if not isinstance(value, dict):
        raise invalid("call object expected")
    data_in = value.get("input", value.get("data"))
    if "input" in value and "data" in value and value["input"] != value["data"]:
        raise invalid('both "data" and "input" are set and not equal')
    return CallRequest(
        sender=None if value.get("from") is None else parse_address(value["from"], "from"),
        to=None if value.get("to") is None else parse_address(value["to"], "to"),
        gas=None if value.get("gas") is None else parse_quantity(value["gas"], "gas"),
        value=0 if value.get("value") is None else parse_quantity(value["value"], "value"),
        data=b"" if data_in is None else parse_data(data_in, "input"),
    )
