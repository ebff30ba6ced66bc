"""The web3 side of anchoring: connect, deploy or attach AnchorRegistry, send, read events.

:class:`ChainClient` talks to any Ethereum JSON-RPC node through web3.py: an HTTP URL
(``OPSURE_LEDGER_RPC_URL``: the embedded node's ``/rpc``, ganache, Besu/QBFT) or any
in-process web3 provider (eth-tester in tests, the embedded node). Transactions are signed
locally with eth-account (EIP-1559 when the node reports a base fee, legacy otherwise)
by the anchorer key kept in ``<data_dir>/keys/anchorer.key``.

Every failure surfaces as a typed :class:`ChainError`: :class:`ChainUnavailableError`
(node down or unreachable, retried with exponential backoff a bounded number of times),
:class:`ChainTimeoutError` (slow), :class:`ChainProtocolError` (the node answered
garbage), :class:`ChainRPCError` (the node refused), :class:`ChainRevertedError` (the
contract reverted; ``error_name`` is the Solidity custom error such as
``RootAlreadyAnchored``), :class:`ContractMissingError`.

Example::

    client = ChainClient.connect("http://127.0.0.1:8545", account=load_or_create_account(keys))
    deployment = client.deploy()                    # or client.attach(address)
    signed = client.sign_anchor(root, count, kind)
    client.send_raw(signed.raw)
    receipt = client.wait_for_receipt(signed.hash)
"""

from __future__ import annotations

import ast
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import (
    BadResponseFormat,
    BlockNotFound,
    ContractLogicError,
    ProviderConnectionError,
    RequestTimedOut,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.providers.base import BaseProvider

from core.keyfiles import secret_file
from ledger.contract import abi as registry_abi
from ledger.contract import bytecode as registry_bytecode
from ledger.contract import deployed_bytecode
from ledger.merkle import keccak256

__all__ = [
    "ANCHORED_TOPIC",
    "AnchorEvent",
    "ChainClient",
    "ChainError",
    "ChainProtocolError",
    "ChainRPCError",
    "ChainRevertedError",
    "ChainTimeoutError",
    "ChainUnavailableError",
    "ContractMissingError",
    "Deployment",
    "DispatchProvider",
    "SignedTx",
    "TxReceipt",
    "decode_anchor_log",
    "load_or_create_account",
    "make_web3",
]

log = logging.getLogger("opsure.ledger.chain")

T = TypeVar("T")

ANCHORED_SIGNATURE = "Anchored(bytes32,uint64,uint8,uint256,address)"
#: topic0 of the Anchored event.
ANCHORED_TOPIC = keccak256(ANCHORED_SIGNATURE.encode())
_ANCHOR_SELECTOR = keccak256(b"anchor(bytes32,uint64,uint8)")[:4]
_ANCHORED_AT_SELECTOR = keccak256(b"anchoredAt(bytes32)")[:4]
_VERIFY_SELECTOR = keccak256(b"verify(bytes32[],bytes32,bytes32)")[:4]
_DEFAULT_TIP = 10**9  # 1 gwei when the node cannot suggest one


# ------------------------------------------------------------------------------ errors


class ChainError(Exception):
    """Anything that went wrong talking to the chain."""

    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ChainUnavailableError(ChainError):
    """The node cannot be reached (refused, reset, DNS, HTTP 5xx)."""

    retryable = True


class ChainTimeoutError(ChainUnavailableError):
    """The node did not answer in time (or a transaction was not mined in time)."""


class ChainProtocolError(ChainError):
    """The node answered something that is not a valid JSON-RPC answer."""

    retryable = True


class ChainRPCError(ChainError):
    """The node answered with a JSON-RPC error."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class ChainRevertedError(ChainError):
    """A call or transaction reverted; ``error_name`` names the contract's custom error."""

    def __init__(self, message: str, error_name: str | None = None, data: bytes = b"") -> None:
        super().__init__(message)
        self.error_name = error_name
        self.data = data


class ContractMissingError(ChainError):
    """No AnchorRegistry code at the recorded address (wrong network, or the chain was reset)."""


def _error_selectors() -> dict[bytes, tuple[str, list[str]]]:
    out: dict[bytes, tuple[str, list[str]]] = {}
    for item in registry_abi():
        if item.get("type") == "error":
            types = [i["type"] for i in item.get("inputs", [])]
            sig = f"{item['name']}({','.join(types)})"
            out[keccak256(sig.encode())[:4]] = (item["name"], types)
    return out


_ERRORS = _error_selectors()


def _revert_data(exc: BaseException) -> bytes:
    """Raw revert data from whatever form a node or provider reported it in."""
    data = getattr(exc, "data", None)
    if isinstance(data, bytes):
        return data
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    text = str(exc.args[0]) if exc.args else str(exc)
    literal = text.split("execution reverted:", 1)[-1].strip()
    if literal.startswith(("b'", 'b"')):  # eth-tester: a Python bytes literal
        try:
            value = ast.literal_eval(literal)
        except (ValueError, SyntaxError):
            return b""
        return value if isinstance(value, bytes) else b""
    marker = text.find("0x")
    if marker >= 0:
        h = text[marker + 2 :].split()[0].strip("'\",)")
        try:
            return bytes.fromhex(h)
        except ValueError:
            return b""
    return b""


def _decode_revert(exc: BaseException) -> ChainRevertedError:
    data = _revert_data(exc)
    found = _ERRORS.get(data[:4]) if len(data) >= 4 else None
    if found is None:
        return ChainRevertedError(f"execution reverted: {exc}", None, data)
    name, types = found
    try:
        args = abi_decode(types, data[4:]) if types else ()
        shown = ", ".join("0x" + a.hex() if isinstance(a, bytes) else str(a) for a in args)
    except Exception:  # malformed revert payload: still name the error
        shown = "?"
    return ChainRevertedError(f"execution reverted: {name}({shown})", name, data)


def _translate(exc: BaseException, what: str) -> ChainError:
    """Map whatever web3 / requests / a provider raised to a typed ChainError."""
    if isinstance(exc, ChainError):
        return exc
    if isinstance(exc, ContractLogicError) or type(exc).__name__ == "TransactionFailed":
        return _decode_revert(exc)
    if isinstance(exc, requests.Timeout | TimeoutError | RequestTimedOut | TimeExhausted):
        return ChainTimeoutError(f"{what}: the ledger node did not answer in time ({exc})")
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return ChainUnavailableError(f"{what}: the ledger node answered HTTP {status}")
    if isinstance(
        exc, requests.ConnectionError | ConnectionError | ProviderConnectionError | OSError
    ):
        return ChainUnavailableError(f"{what}: the ledger node is unreachable ({exc})")
    if isinstance(exc, Web3RPCError):
        raw = exc.rpc_response or {}
        err = raw.get("error") if isinstance(raw, Mapping) else None
        code = err.get("code") if isinstance(err, Mapping) else None
        message = err.get("message") if isinstance(err, Mapping) else exc.message
        text = str(message)
        if "revert" in text.lower():
            return _decode_revert(exc)
        return ChainRPCError(f"{what}: the ledger node refused: {text}", code if isinstance(code, int) else None)
    if isinstance(exc, BadResponseFormat | json.JSONDecodeError | UnicodeDecodeError):
        return ChainProtocolError(f"{what}: the ledger node answered garbage ({exc})")
    if isinstance(exc, ValueError | TypeError | KeyError | AttributeError | IndexError):
        return ChainProtocolError(f"{what}: unexpected answer from the ledger node ({exc!r})")
    return ChainError(f"{what}: {exc!r}")


# ------------------------------------------------------------------------ values


@dataclass(frozen=True)
class Deployment:
    """A deployed AnchorRegistry."""

    address: str
    tx_hash: str | None
    block_number: int | None


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction ready to broadcast (its hash is known before sending)."""

    raw: bytes
    hash: str
    nonce: int


@dataclass(frozen=True)
class AnchorEvent:
    """One ``Anchored`` log."""

    root: str
    count: int
    kind: int
    block_number: int
    anchorer: str
    tx_hash: str
    block_hash: str
    log_index: int
    contract: str


@dataclass(frozen=True)
class TxReceipt:
    """The parts of a transaction receipt the ledger needs."""

    tx_hash: str
    status: int
    block_number: int
    block_hash: str
    contract_address: str | None
    to: str | None
    logs: tuple[Mapping[str, Any], ...]
    gas_used: int


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    raise ChainProtocolError(f"expected bytes or hex, got {value!r}")


def _b32(value: bytes | str) -> bytes:
    b = value if isinstance(value, bytes) else bytes.fromhex(value.removeprefix("0x"))
    if len(b) != 32:
        raise ValueError("expected 32 bytes")
    return b


def decode_anchor_log(entry: Mapping[str, Any]) -> AnchorEvent | None:
    """Decode a log as an ``Anchored`` event, None if it is some other log."""
    topics = [bytes(t) if not isinstance(t, str) else bytes.fromhex(t.removeprefix("0x"))
              for t in entry.get("topics", ())]
    if len(topics) != 4 or topics[0] != ANCHORED_TOPIC:
        return None
    raw = entry.get("data", b"")
    data = bytes(raw) if not isinstance(raw, str) else bytes.fromhex(raw.removeprefix("0x"))
    count, block_number = abi_decode(["uint64", "uint256"], data)
    return AnchorEvent(
        root="0x" + topics[1].hex(),
        count=int(count),
        kind=int.from_bytes(topics[2], "big"),
        block_number=int(block_number),
        anchorer=Web3.to_checksum_address(topics[3][-20:]),
        tx_hash=_hex(entry["transactionHash"]),
        block_hash=_hex(entry["blockHash"]),
        log_index=int(entry["logIndex"]),
        contract=Web3.to_checksum_address(entry["address"]),
    )


# --------------------------------------------------------------------------- keys


def load_or_create_account(keys_dir: Path) -> LocalAccount:
    """The anchorer account: ``OPSURE_ANCHORER_KEY`` or ``keys_dir/anchorer.key`` (made once, 0600)."""
    key = secret_file(keys_dir / "anchorer.key", env="OPSURE_ANCHORER_KEY",
                      make=lambda: "0x" + secrets.token_bytes(32).hex())
    acct: LocalAccount = Account.from_key(key)
    return acct


class DispatchProvider(BaseProvider):
    """A web3 provider calling a JSON-RPC handler in process (no HTTP, no threads).

    ``handle`` takes one JSON-RPC request object (a dict, JSON types only) and returns
    the response object, e.g. ``RpcDispatcher(node).handle_one`` of the embedded node.
    Requests and responses go through JSON (de)serialisation exactly as over HTTP.
    """

    def __init__(self, handle: Callable[[dict[str, Any]], Mapping[str, Any] | None]) -> None:
        super().__init__()
        self._handle = handle
        self._next_id = 0

    def make_request(self, method: Any, params: Any) -> Any:
        """Answer one request through the handler."""
        self._next_id += 1
        request = {"jsonrpc": "2.0", "id": self._next_id, "method": str(method), "params": params}
        message = json.loads(json.dumps(request, default=_json_default))
        answer = self._handle(message)
        if answer is None:
            raise ProviderConnectionError(f"no answer to {method}")
        return json.loads(json.dumps(answer))

    def is_connected(self, show_traceback: bool = False) -> bool:
        """Always connected (the handler is in this process)."""
        return True


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    raise TypeError(f"cannot send {type(value).__name__} as JSON-RPC")


def make_web3(target: str | BaseProvider | Web3, *, timeout: float = 10.0) -> Web3:
    """A Web3 for an HTTP(S) URL, a provider, or an existing Web3 (returned as is)."""
    if isinstance(target, Web3):
        return target
    if isinstance(target, str):
        from web3 import HTTPProvider

        provider = HTTPProvider(
            target, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
        )
        return Web3(provider)
    return Web3(target)


# --------------------------------------------------------------------------- client


class ChainClient:
    """AnchorRegistry over web3: bounded retries, typed errors, locally signed transactions."""

    def __init__(
        self,
        w3: Web3,
        *,
        account: LocalAccount | None = None,
        contract: str | None = None,
        retries: int = 4,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        receipt_timeout: float = 60.0,
        poll_interval: float = 0.02,
        gas_multiplier: float = 1.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.receipt_timeout = receipt_timeout
        self.poll_interval = poll_interval
        self.gas_multiplier = gas_multiplier
        self._sleep = sleep
        self._chain_id: int | None = None
        self._genesis: str | None = None
        self._contract: str | None = Web3.to_checksum_address(contract) if contract else None

    @classmethod
    def connect(
        cls,
        target: str | BaseProvider | Web3,
        *,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> ChainClient:
        """A client for an RPC URL, a provider or a Web3 (see :func:`make_web3`)."""
        return cls(make_web3(target, timeout=timeout), **kwargs)

    # -- plumbing ------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T], *, retry: bool = True) -> T:
        """Run ``fn``; retry unavailability with exponential backoff; raise typed errors."""
        attempts = self.retries + 1 if retry else 1
        delay = self.backoff
        for attempt in range(attempts):
            try:
                return fn()
            except Exception as exc:  # translated below; nothing is swallowed
                err = _translate(exc, what)
                if not err.retryable or attempt == attempts - 1:
                    raise err from exc
                log.warning("%s failed (%s); retrying in %.2fs", what, err.message, delay)
                self._sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def sender(self) -> str:
        """Checksum address of the signing account."""
        if self.account is None:
            raise ChainError("no anchorer account configured for sending transactions")
        return str(self.account.address)

    @property
    def contract_address(self) -> str:
        """Checksum address of the attached AnchorRegistry."""
        if self._contract is None:
            raise ContractMissingError("no AnchorRegistry attached (deploy or attach first)")
        return self._contract

    @property
    def has_contract(self) -> bool:
        """Whether a registry address is attached."""
        return self._contract is not None

    # -- reads ---------------------------------------------------------------------------

    def chain_id(self) -> int:
        """The node's chain id (asked once, then cached)."""
        if self._chain_id is None:
            value = self._call("eth_chainId", lambda: self.w3.eth.chain_id)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ChainProtocolError(f"eth_chainId: invalid chain id {value!r}")
            self._chain_id = value
        return self._chain_id

    def genesis_hash(self) -> str:
        """Hash of block 0 (identifies the network together with the chain id)."""
        if self._genesis is None:
            block = self._call("eth_getBlockByNumber(0)", lambda: self.w3.eth.get_block(0))
            self._genesis = _hex(block["hash"])
        return self._genesis

    def ping(self) -> int:
        """Check the node answers; returns the head block number (ChainError otherwise)."""
        self.chain_id()
        number = self._call("eth_blockNumber", lambda: self.w3.eth.block_number)
        if not isinstance(number, int) or number < 0:
            raise ChainProtocolError(f"eth_blockNumber: invalid answer {number!r}")
        return number

    def block_number(self) -> int:
        """Current head block number."""
        return self.ping()

    def code_at(self, address: str) -> bytes:
        """Runtime code at ``address`` (empty if none)."""
        addr = Web3.to_checksum_address(address)
        return bytes(self._call("eth_getCode", lambda: self.w3.eth.get_code(addr)))

    def _eth_call(self, what: str, data: bytes, *, block: int | str = "latest") -> bytes:
        tx = {"to": self.contract_address, "data": "0x" + data.hex()}
        out = self._call(what, lambda: self.w3.eth.call(tx, block))  # type: ignore[arg-type]
        return bytes(out)

    def anchored_at(self, root: bytes | str) -> int:
        """Block number in which ``root`` was anchored, 0 if never."""
        data = _ANCHORED_AT_SELECTOR + _b32(root)
        out = self._eth_call("anchoredAt", data)
        if len(out) != 32:
            raise ChainProtocolError(f"anchoredAt: expected 32 bytes, got {len(out)}")
        return int.from_bytes(out, "big")

    def verify_proof(self, proof: Sequence[bytes | str], root: bytes | str, leaf: bytes | str) -> bool:
        """``AnchorRegistry.verify(proof, root, leaf)`` via eth_call."""
        data = _VERIFY_SELECTOR + abi_encode(
            ["bytes32[]", "bytes32", "bytes32"], [[_b32(p) for p in proof], _b32(root), _b32(leaf)]
        )
        out = self._eth_call("verify", data)
        if len(out) != 32 or out[:31] != bytes(31) or out[31] > 1:
            raise ChainProtocolError("verify: answer is not an ABI bool")
        return out[31] == 1

    def receipt(self, tx_hash: str) -> TxReceipt | None:
        """The receipt of ``tx_hash``, None while unknown or unmined."""

        def get() -> Any:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None

        raw = self._call("eth_getTransactionReceipt", get)
        if raw is None:
            return None
        try:
            return TxReceipt(
                tx_hash=_hex(raw["transactionHash"]),
                status=int(raw["status"]),
                block_number=int(raw["blockNumber"]),
                block_hash=_hex(raw["blockHash"]),
                contract_address=raw.get("contractAddress"),
                to=raw.get("to"),
                logs=tuple(raw.get("logs", ())),
                gas_used=int(raw.get("gasUsed", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ChainProtocolError(f"eth_getTransactionReceipt: malformed receipt ({exc!r})") from exc

    def transaction_known(self, tx_hash: str) -> bool:
        """Whether the node knows ``tx_hash`` (pooled or mined)."""

        def get() -> bool:
            try:
                self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return False
            return True

        return self._call("eth_getTransactionByHash", get)

    def block_hash(self, number: int) -> str:
        """Hash of block ``number``."""
        try:
            block = self._call("eth_getBlockByNumber", lambda: self.w3.eth.get_block(number))
        except ChainRPCError:
            raise
        return _hex(block["hash"])

    def find_anchor(self, root: bytes | str, *, from_block: int = 0, to_block: int | str = "latest") -> AnchorEvent | None:
        """The ``Anchored`` event of ``root`` (eth_getLogs filtered by the root topic)."""
        params: Any = {
            "address": self.contract_address,
            "fromBlock": from_block,
            "toBlock": to_block,
            "topics": ["0x" + ANCHORED_TOPIC.hex(), "0x" + _b32(root).hex()],
        }

        def get() -> Any:
            try:
                return self.w3.eth.get_logs(params)
            except BlockNotFound:
                return []

        for entry in self._call("eth_getLogs", get):
            event = decode_anchor_log(entry)
            if event is not None and event.root == "0x" + _b32(root).hex():
                return event
        return None

    def anchor_events(self, receipt: TxReceipt) -> list[AnchorEvent]:
        """The ``Anchored`` events this registry emitted in ``receipt``."""
        out = []
        for entry in receipt.logs:
            try:
                event = decode_anchor_log(entry)
            except Exception as exc:
                raise ChainProtocolError(f"undecodable Anchored log ({exc!r})") from exc
            if event is not None and event.contract == self._contract:
                out.append(event)
        return out

    # -- writes --------------------------------------------------------------------------

    def _fee_fields(self) -> dict[str, int]:
        block = self._call("eth_getBlockByNumber(latest)", lambda: self.w3.eth.get_block("latest"))
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:  # pre-London or a free-gas network: legacy pricing
            price = self._call("eth_gasPrice", lambda: self.w3.eth.gas_price)
            return {"gasPrice": int(price)}
        try:
            tip = int(self._call("eth_maxPriorityFeePerGas", lambda: self.w3.eth.max_priority_fee))
        except ChainRPCError:
            tip = _DEFAULT_TIP if int(base_fee) > 0 else 0
        return {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip, "type": 2}

    def _sign(self, tx: dict[str, Any]) -> SignedTx:
        if self.account is None:
            raise ChainError("no anchorer account configured for sending transactions")
        sender = self.sender
        tx.setdefault("chainId", self.chain_id())
        tx.setdefault(
            "nonce",
            self._call("eth_getTransactionCount", lambda: self.w3.eth.get_transaction_count(sender, "pending")),  # type: ignore[arg-type]
        )
        if "gas" not in tx:
            estimate_tx = {k: v for k, v in tx.items() if k in {"to", "data", "value"}}
            estimate_tx["from"] = sender
            gas = self._call("eth_estimateGas", lambda: self.w3.eth.estimate_gas(estimate_tx))  # type: ignore[arg-type]
            tx["gas"] = int(int(gas) * self.gas_multiplier) + 10_000
        tx.update(self._fee_fields())
        if tx.get("type") == 2:
            tx.pop("gasPrice", None)
        signed = self.account.sign_transaction(tx)
        return SignedTx(raw=bytes(signed.raw_transaction), hash=_hex(signed.hash), nonce=int(tx["nonce"]))

    def sign_anchor(self, root: bytes | str, count: int, kind: int) -> SignedTx:
        """Sign ``anchor(root, count, kind)`` (gas estimated; reverts surface here)."""
        data = _ANCHOR_SELECTOR + abi_encode(["bytes32", "uint64", "uint8"], [_b32(root), count, kind])
        return self._sign({"to": self.contract_address, "data": "0x" + data.hex(), "value": 0})

    def send_raw(self, signed: SignedTx) -> str:
        """Broadcast ``signed``; a resend of a transaction the node already has is a success."""
        try:
            self._call(
                "eth_sendRawTransaction",
                lambda: self.w3.eth.send_raw_transaction(signed.raw),
            )
        except ChainRPCError:
            if self.transaction_known(signed.hash):
                return signed.hash
            raise
        return signed.hash

    def wait_for_receipt(self, tx_hash: str, *, timeout: float | None = None) -> TxReceipt:
        """Poll for the receipt of ``tx_hash``; ChainTimeoutError after ``timeout`` seconds."""
        limit = self.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        interval = self.poll_interval
        while True:
            found = self.receipt(tx_hash)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise ChainTimeoutError(f"transaction {tx_hash} not mined within {limit:.1f}s")
            self._sleep(interval)
            interval = min(interval * 1.5, 0.5)

    def deploy(self, admin: str | None = None) -> Deployment:
        """Deploy a new AnchorRegistry administered by ``admin`` (default: the anchorer)."""
        owner = Web3.to_checksum_address(admin or self.sender)
        data = registry_bytecode() + abi_encode(["address"], [owner]).hex()
        signed = self._sign({"data": data, "value": 0})
        self.send_raw(signed)
        receipt = self.wait_for_receipt(signed.hash)
        if receipt.status != 1 or not receipt.contract_address:
            raise ChainError(f"AnchorRegistry deployment failed in tx {signed.hash}")
        self._contract = Web3.to_checksum_address(receipt.contract_address)
        log.info("deployed AnchorRegistry at %s (block %d)", self._contract, receipt.block_number)
        return Deployment(self._contract, signed.hash, receipt.block_number)

    def attach(self, address: str) -> None:
        """Use the AnchorRegistry at ``address`` (its code must be the committed artifact)."""
        addr = Web3.to_checksum_address(address)
        code = self.code_at(addr)
        if not code:
            raise ContractMissingError(
                f"no contract code at {addr} on chain {self.chain_id()} (wrong network, or the chain was reset)"
            )
        if "0x" + code.hex() != deployed_bytecode().lower():
            raise ContractMissingError(f"the contract at {addr} is not this AnchorRegistry build")
        self._contract = addr
