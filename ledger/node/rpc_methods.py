"""Ethereum JSON-RPC method handlers: chain reads over any ChainView, node methods over a node.

:class:`ReadMethods` needs only the chain store (it also runs in the read processes, over
a store opened read-only); :class:`RpcMethods` adds what needs the live node: the pool
(sending, pending nonces and txs) and the in-memory filters. Reads honour
:class:`~ledger.node.rpc_limits.RpcLimits` (gas cap, log range and count, filter terms)
and the deadline of the request being answered (:func:`request_deadline`).
"""

from __future__ import annotations

import contextlib
import itertools
import platform
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from importlib import metadata
from typing import Any

from eth_utils.crypto import keccak

from ledger.node.errors import BlockNotFound
from ledger.node.fees import fee_history
from ledger.node.models import BlockTag
from ledger.node.node import EmbeddedNode
from ledger.node.reader import ChainView
from ledger.node.rpc_codec import (
    LIMIT_EXCEEDED,
    RpcError,
    arguments,
    format_block,
    format_log,
    format_receipt,
    format_tx,
    hex_data,
    hex_quantity,
    invalid,
    parse_address,
    parse_block_ref,
    parse_call,
    parse_data,
    parse_hash,
    parse_quantity,
)
from ledger.node.rpc_filters import FilterManager, LogCriteria, check_log_range
from ledger.node.rpc_limits import RpcLimits

__all__ = ["Handler", "ReadMethods", "RpcMethods", "request_deadline"]

Handler = Callable[[Any], Any]

_DEADLINE: ContextVar[float | None] = ContextVar("opsure_rpc_deadline", default=None)


@contextlib.contextmanager
def request_deadline(deadline: float | None) -> Iterator[None]:
    """EVM reads answered in this context stop at ``deadline`` (time.monotonic())."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _client_version() -> str:
    try:
        evm = metadata.version("py-evm")
    except metadata.PackageNotFoundError:  # pragma: no cover
        evm = "unknown"
    return f"Opsure/v0.1.0/py-evm-{evm}/python-{platform.python_version()}"


class ReadMethods:
    """Chain reads over a ChainView; `handlers[name](params)` returns the JSON result.

    Default limits are the trusted in-process ones (RpcLimits.internal()).
    """

    def __init__(self, view: ChainView, limits: RpcLimits | None = None) -> None:
        self.view = view
        self.limits = limits or RpcLimits.internal()
        self.client_version = _client_version()
        self.handlers: dict[str, Handler] = {
            name[len("rpc_") :]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")
        }

    # -- helpers -------------------------------------------------------------------------

    def _state_tag(self, ref: BlockTag | bytes) -> BlockTag:
        """A state-query block reference as a number/tag; unknown -> header not found."""
        if isinstance(ref, bytes):
            header = self.view.reader.header_by_hash(ref)
            if header is None:
                raise RpcError(-32000, "header not found")
            return int(header.block_number)
        if isinstance(ref, int) and ref > self.view.block_number():
            raise RpcError(-32000, "header not found")
        return ref

    def _block(self, ref: BlockTag | bytes, full: bool) -> Any:
        if isinstance(ref, bytes):
            header = self.view.reader.header_by_hash(ref)
        else:
            try:
                header = self.view.reader.header(ref)
            except BlockNotFound:
                header = None
        if header is None:
            return None
        return format_block(self.view.reader.block(header, full), full)

    def _criteria(self, value: Any) -> LogCriteria:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise invalid("filter object expected")
        raw_address = value.get("address")
        terms = self.limits.max_filter_terms
        if raw_address is None:
            addresses: tuple[bytes, ...] = ()
        elif isinstance(raw_address, list):
            if len(raw_address) > terms:
                raise RpcError(LIMIT_EXCEEDED, f"too many addresses (max {terms})")
            addresses = tuple(parse_address(a) for a in raw_address)
        else:
            addresses = (parse_address(raw_address),)
        raw_topics = value.get("topics") or []
        if not isinstance(raw_topics, list):
            raise invalid("topics must be an array")
        if len(raw_topics) > 4:
            raise invalid("too many topics (max 4)")
        topics: list[tuple[bytes, ...] | None] = []
        for t in raw_topics:
            if t is None or (isinstance(t, list) and not t):
                topics.append(None)
            elif isinstance(t, list):
                if len(t) > terms:
                    raise RpcError(LIMIT_EXCEEDED, f"too many alternatives for one topic (max {terms})")
                topics.append(None if None in t else tuple(parse_hash(x, "topic") for x in t))
            else:
                topics.append((parse_hash(t, "topic"),))
        if value.get("blockHash") is not None:
            if value.get("fromBlock") is not None or value.get("toBlock") is not None:
                raise invalid("cannot specify both blockHash and fromBlock/toBlock")
            header = self.view.reader.header_by_hash(parse_hash(value["blockHash"], "blockHash"))
            if header is None:
                raise RpcError(-32000, "unknown block")
            n = int(header.block_number)
            return LogCriteria(n, n, addresses, tuple(topics))
        return LogCriteria(
            self._range_end(value.get("fromBlock")),
            self._range_end(value.get("toBlock")),
            addresses,
            tuple(topics),
        )

    @staticmethod
    def _range_end(value: Any) -> int | str:
        ref = parse_block_ref(value)
        if isinstance(ref, bytes):
            raise invalid("fromBlock/toBlock must be a number or tag")
        return "latest" if ref in ("pending", "safe", "finalized") else ref

    # -- web3 / net ----------------------------------------------------------------------

    def rpc_web3_clientVersion(self, params: Any) -> Any:
        arguments(params, 0)
        return self.client_version

    def rpc_web3_sha3(self, params: Any) -> Any:
        (data,) = arguments(params, 1)
        return hex_data(keccak(parse_data(data)))

    def rpc_net_version(self, params: Any) -> Any:
        arguments(params, 0)
        return str(self.view.chain_id)

    def rpc_net_listening(self, params: Any) -> Any:
        arguments(params, 0)
        return True

    def rpc_net_peerCount(self, params: Any) -> Any:
        arguments(params, 0)
        return "0x0"

    # -- chain info ----------------------------------------------------------------------

    def rpc_eth_chainId(self, params: Any) -> Any:
        arguments(params, 0)
        return hex_quantity(self.view.chain_id)

    def rpc_eth_blockNumber(self, params: Any) -> Any:
        arguments(params, 0)
        return hex_quantity(self.view.block_number())

    def rpc_eth_syncing(self, params: Any) -> Any:
        arguments(params, 0)
        return False

    def rpc_eth_mining(self, params: Any) -> Any:
        arguments(params, 0)
        return False

    def rpc_eth_accounts(self, params: Any) -> Any:
        arguments(params, 0)
        return []

    def rpc_eth_feeHistory(self, params: Any) -> Any:
        count_raw, newest_raw, percentiles = arguments(params, 2, 1)
        count = parse_quantity(count_raw, "blockCount")
        if percentiles is not None:
            if not isinstance(percentiles, list) or not all(
                isinstance(p, int | float) and 0 <= p <= 100 for p in percentiles
            ):
                raise invalid("rewardPercentiles must be numbers between 0 and 100")
            if any(b < a for a, b in itertools.pairwise(percentiles)):
                raise invalid("rewardPercentiles must be ascending")
        ref = self._state_tag(parse_block_ref(newest_raw))
        return fee_history(self.view, min(count, 1024), ref, percentiles)

    # -- blocks --------------------------------------------------------------------------

    def rpc_eth_getBlockByNumber(self, params: Any) -> Any:
        ref, full = arguments(params, 1, 1)
        block_ref = parse_block_ref(ref)
        if isinstance(block_ref, bytes):
            raise invalid("block number or tag expected")
        return self._block(block_ref, bool(full))

    def rpc_eth_getBlockByHash(self, params: Any) -> Any:
        ref, full = arguments(params, 1, 1)
        return self._block(parse_hash(ref, "block hash"), bool(full))

    def _tx_count(self, ref: BlockTag | bytes) -> Any:
        header = self.view.reader.header_by_hash(ref) if isinstance(ref, bytes) else None
        if not isinstance(ref, bytes):
            try:
                header = self.view.reader.header(ref)
            except BlockNotFound:
                return None
        if header is None:
            return None
        return hex_quantity(self.view.reader.block_tx_count(int(header.block_number)))

    def rpc_eth_getBlockTransactionCountByNumber(self, params: Any) -> Any:
        (ref,) = arguments(params, 1)
        block_ref = parse_block_ref(ref)
        if isinstance(block_ref, bytes):
            raise invalid("block number or tag expected")
        return self._tx_count(block_ref)

    def rpc_eth_getBlockTransactionCountByHash(self, params: Any) -> Any:
        (ref,) = arguments(params, 1)
        return self._tx_count(parse_hash(ref, "block hash"))

    def rpc_eth_getUncleCountByBlockNumber(self, params: Any) -> Any:
        arguments(params, 1)
        return "0x0"

    def rpc_eth_getUncleCountByBlockHash(self, params: Any) -> Any:
        arguments(params, 1)
        return "0x0"

    # -- transactions --------------------------------------------------------------------

    def _tx_at(self, ref: BlockTag | bytes, index_raw: Any) -> Any:
        position = parse_quantity(index_raw, "index")
        if isinstance(ref, bytes):
            header = self.view.reader.header_by_hash(ref)
        else:
            try:
                header = self.view.reader.header(ref)
            except BlockNotFound:
                header = None
        if header is None:
            return None
        found = self.view.reader.transaction_at(header, position)
        return None if found is None else format_tx(found)

    def rpc_eth_getTransactionByBlockNumberAndIndex(self, params: Any) -> Any:
        ref, position = arguments(params, 2)
        block_ref = parse_block_ref(ref)
        if isinstance(block_ref, bytes):
            raise invalid("block number or tag expected")
        return self._tx_at(block_ref, position)

    def rpc_eth_getTransactionByBlockHashAndIndex(self, params: Any) -> Any:
        ref, position = arguments(params, 2)
        return self._tx_at(parse_hash(ref, "block hash"), position)

    def rpc_eth_getTransactionReceipt(self, params: Any) -> Any:
        (ref,) = arguments(params, 1)
        found = self.view.reader.receipt(parse_hash(ref, "transaction hash"))
        return None if found is None else format_receipt(found)

    # -- state ---------------------------------------------------------------------------

    def rpc_eth_getBalance(self, params: Any) -> Any:
        addr, ref = arguments(params, 1, 1)
        tag = self._state_tag(parse_block_ref(ref))
        return hex_quantity(self.view.reader.balance(parse_address(addr), tag))

    def rpc_eth_getCode(self, params: Any) -> Any:
        addr, ref = arguments(params, 1, 1)
        tag = self._state_tag(parse_block_ref(ref))
        return hex_data(self.view.reader.code(parse_address(addr), tag))

    def rpc_eth_getStorageAt(self, params: Any) -> Any:
        addr, slot_raw, ref = arguments(params, 2, 1)
        address = parse_address(addr)
        if isinstance(slot_raw, str) and len(slot_raw) == 66:
            slot = int.from_bytes(parse_hash(slot_raw, "storage slot"), "big")
        else:
            slot = parse_quantity(slot_raw, "storage slot")
        tag = self._state_tag(parse_block_ref(ref))
        value = self.view.reader.storage(address, slot, tag)
        return hex_data(value.to_bytes(32, "big"))

    def rpc_eth_call(self, params: Any) -> Any:
        call, ref, overrides = arguments(params, 1, 2)
        if overrides is not None:
            raise invalid("state overrides are not supported")
        request = parse_call(call)
        tag = self._state_tag(parse_block_ref(ref))
        output = self.view.reader.call(request, tag, gas_cap=self.limits.gas_cap, deadline=_DEADLINE.get())
        return hex_data(output)

    def rpc_eth_estimateGas(self, params: Any) -> Any:
        call, ref, overrides = arguments(params, 1, 2)
        if overrides is not None:
            raise invalid("state overrides are not supported")
        request = parse_call(call)
        tag = self._state_tag(parse_block_ref(ref))
        estimate = self.view.reader.estimate_gas(
            request, tag, gas_cap=self.limits.gas_cap, deadline=_DEADLINE.get()
        )
        return hex_quantity(estimate)

    # -- logs and filters ----------------------------------------------------------------

    def rpc_eth_getLogs(self, params: Any) -> Any:
        (flt,) = arguments(params, 1)
        criteria = self._criteria(flt)
        resolved = criteria.resolve(self.view, self.view.block_number())
        check_log_range(resolved, self.limits)
        return [format_log(e) for e in self.view.reader.logs(resolved, self.limits.max_logs)]


class RpcMethods(ReadMethods):
    """ReadMethods plus what needs the live node: sending, the pool, filters."""

    def __init__(self, node: EmbeddedNode, limits: RpcLimits | None = None) -> None:
        super().__init__(node, limits)
        self.node = node
        self.filters = FilterManager(node, self.limits)

    # -- node state ------------------------------------------------------------------------

    def rpc_eth_coinbase(self, params: Any) -> Any:
        arguments(params, 0)
        return hex_data(self.node.coinbase)

    def rpc_eth_gasPrice(self, params: Any) -> Any:
        arguments(params, 0)
        return hex_quantity(self.node.next_base_fee() + self.node.suggested_tip())

    def rpc_eth_maxPriorityFeePerGas(self, params: Any) -> Any:
        arguments(params, 0)
        return hex_quantity(self.node.suggested_tip())

    # -- pool ------------------------------------------------------------------------------

    def rpc_eth_getTransactionByHash(self, params: Any) -> Any:
        (ref,) = arguments(params, 1)
        found = self.node.transaction(parse_hash(ref, "transaction hash"))
        return None if found is None else format_tx(found)

    def rpc_eth_sendRawTransaction(self, params: Any) -> Any:
        (raw,) = arguments(params, 1)
        return hex_data(self.node.send_raw_transaction(parse_data(raw, "transaction")))

    def rpc_eth_getTransactionCount(self, params: Any) -> Any:
        addr, ref = arguments(params, 1, 1)
        address = parse_address(addr)
        block_ref = parse_block_ref(ref)
        if block_ref == "pending":
            return hex_quantity(self.node.transaction_count(address, "pending"))
        return hex_quantity(self.node.reader.nonce(address, self._state_tag(block_ref)))

    # -- filters ---------------------------------------------------------------------------

    def rpc_eth_newFilter(self, params: Any) -> Any:
        (flt,) = arguments(params, 1)
        return self.filters.new_log_filter(self._criteria(flt))

    def rpc_eth_newBlockFilter(self, params: Any) -> Any:
        arguments(params, 0)
        return self.filters.new_block_filter()

    def rpc_eth_getFilterChanges(self, params: Any) -> Any:
        (filter_id,) = arguments(params, 1)
        items = self.filters.changes(str(filter_id))
        return [hex_data(i) if isinstance(i, bytes) else format_log(i) for i in items]

    def rpc_eth_getFilterLogs(self, params: Any) -> Any:
        (filter_id,) = arguments(params, 1)
        return [format_log(e) for e in self.filters.logs(str(filter_id))]

    def rpc_eth_uninstallFilter(self, params: Any) -> Any:
        (filter_id,) = arguments(params, 1)
        return self.filters.uninstall(str(filter_id))
