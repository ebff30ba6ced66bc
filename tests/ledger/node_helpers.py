"""Helpers for the embedded-node tests: keys, a hand-assembled contract, a live server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from ledger.node import DEFAULT_CHAIN_ID, EmbeddedNode

#: Deterministic test accounts (private keys 1..5); never use outside tests.
ACCOUNTS: list[LocalAccount] = [Account.from_key(i.to_bytes(32, "big")) for i in range(1, 6)]
OWNER, ALICE, BOB, MALLORY, EXTRA = ACCOUNTS

#: Topic0 of the test contract's event.
STORED_TOPIC = keccak(b"Stored(address,bytes)")

# Runtime: no calldata -> return slot 0; first byte 0xff -> revert with the calldata;
# otherwise LOG2(Stored, caller; data=calldata) and store the first word in slot 0.
_RUNTIME_ASM: list[Any] = [
    "CALLDATASIZE",
    "ISZERO",
    ("PUSH1", "get"),
    "JUMPI",
    "PUSH0",
    "CALLDATALOAD",
    ("PUSH1", 0xF8),
    "SHR",
    ("PUSH1", 0xFF),
    "EQ",
    ("PUSH1", "revert"),
    "JUMPI",
    "CALLDATASIZE",
    "PUSH0",
    "PUSH0",
    "CALLDATACOPY",
    "CALLER",
    ("PUSH32", STORED_TOPIC),
    "CALLDATASIZE",
    "PUSH0",
    "LOG2",
    "PUSH0",
    "CALLDATALOAD",
    "PUSH0",
    "SSTORE",
    "STOP",
    ("LABEL", "get"),
    "JUMPDEST",
    "PUSH0",
    "SLOAD",
    "PUSH0",
    "MSTORE",
    ("PUSH1", 0x20),
    "PUSH0",
    "RETURN",
    ("LABEL", "revert"),
    "JUMPDEST",
    "CALLDATASIZE",
    "PUSH0",
    "PUSH0",
    "CALLDATACOPY",
    "CALLDATASIZE",
    "PUSH0",
    "REVERT",
]
_OPCODES = {
    "STOP": 0x00,
    "EQ": 0x14,
    "ISZERO": 0x15,
    "SHR": 0x1C,
    "CALLER": 0x33,
    "CALLDATALOAD": 0x35,
    "CALLDATASIZE": 0x36,
    "CALLDATACOPY": 0x37,
    "CODECOPY": 0x39,
    "MSTORE": 0x52,
    "SLOAD": 0x54,
    "SSTORE": 0x55,
    "JUMPI": 0x57,
    "JUMPDEST": 0x5B,
    "PUSH0": 0x5F,
    "PUSH1": 0x60,
    "PUSH2": 0x61,
    "PUSH32": 0x7F,
    "DUP1": 0x80,
    "LOG2": 0xA2,
    "RETURN": 0xF3,
    "REVERT": 0xFD,
}


def assemble(program: list[Any]) -> bytes:
    """Two-pass assembler for the tiny test contract (labels fit in PUSH1)."""
    labels: dict[str, int] = {}
    for pass_no in range(2):
        out = bytearray()
        for item in program:
            if isinstance(item, tuple) and item[0] == "LABEL":
                labels[item[1]] = len(out)
                continue
            if isinstance(item, str):
                out.append(_OPCODES[item])
                continue
            op, arg = item
            width = _OPCODES[op] - 0x5F
            value = labels.get(arg, 0) if isinstance(arg, str) else arg
            out.append(_OPCODES[op])
            out += value.to_bytes(width, "big") if isinstance(value, int) else value
        if pass_no == 1:
            return bytes(out)
    raise AssertionError("unreachable")


RUNTIME = assemble(_RUNTIME_ASM)
INIT_CODE = (
    bytes([0x61])
    + len(RUNTIME).to_bytes(2, "big")
    + bytes([0x80, 0x61])
    + (11).to_bytes(2, "big")
    + bytes([0x5F, 0x39, 0x5F, 0xF3])
    + RUNTIME
)


def signed(
    account: LocalAccount,
    nonce: int,
    *,
    to: str | None = None,
    data: bytes = b"",
    value: int = 0,
    gas: int = 100_000,
    chain_id: int = DEFAULT_CHAIN_ID,
    max_fee: int = 50 * 10**9,
    tip: int = 10**9,
) -> bytes:
    """A raw signed EIP-1559 transaction."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "value": value,
        "gas": gas,
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": tip,
        "data": data,
    }
    if to is not None:
        tx["to"] = to
    return bytes(account.sign_transaction(tx).raw_transaction)


@contextlib.contextmanager
def serve(node: EmbeddedNode) -> Iterator[str]:
    """Serve the node's RPC app with uvicorn on 127.0.0.1 (free port) in a thread."""
    import uvicorn

    from ledger.node.rpc import make_rpc_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(make_rpc_app(node), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


CRASH_SENDERS = [OWNER, ALICE, BOB]


def create_address(deployer: str, nonce: int) -> str:
    """Checksum address of the contract `deployer` creates with `nonce` (CREATE)."""
    import rlp
    from eth_utils.address import to_checksum_address

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(deployer[2:]), nonce]))[12:])


def _pause_inside_block_transaction() -> None:
    """Make the 3rd block import stop (and say so) after its last write, before COMMIT."""
    import time as _time

    from ledger.node import index

    original = index.index_block
    calls = {"n": 0}

    def index_then_pause(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            print(f"committing {args[1].number}", flush=True)
            _time.sleep(60)

    index.index_block = index_then_pause  # type: ignore[assignment]


def crash_worker(data_dir: str, seed: int, pause_in_commit: bool = False) -> None:
    """Subprocess body for the crash test: send bursts of txs forever (until SIGKILL)."""
    import random
    import sys

    if pause_in_commit:
        _pause_inside_block_transaction()

    from eth_utils.address import to_checksum_address

    from ledger.node.chain import ZERO_ADDRESS

    rng = random.Random(seed)
    node = EmbeddedNode(
        data_dir,
        prefund=[a.address for a in CRASH_SENDERS],
        coalesce_delay=0.001,
        quick_check=False,
    )
    nonces = {a.address: node.transaction_count(a.address, "pending") for a in CRASH_SENDERS}
    if nonces[OWNER.address] == 0:
        tx_hash = node.send_raw_transaction(signed(OWNER, 0, data=INIT_CODE, gas=300_000))
        node.wait_for_receipt(tx_hash, 10)
        nonces[OWNER.address] = 1
    contract = create_address(OWNER.address, 0)
    print("ready", flush=True)
    sys.stdout.flush()
    while True:
        last = b""
        for _ in range(rng.randint(1, 40)):
            sender = rng.choice(CRASH_SENDERS)
            kind = rng.random()
            if kind < 0.6:
                data = rng.randbytes(32) + rng.randbytes(rng.randint(0, 64))
                raw = signed(sender, nonces[sender.address], to=contract, data=data)
            elif kind < 0.8:
                raw = signed(sender, nonces[sender.address], to=contract, data=b"\xff" + b"x")
            else:
                raw = signed(
                    sender,
                    nonces[sender.address],
                    to=to_checksum_address(ZERO_ADDRESS[:-1] + b"\x01"),
                    value=1,
                    gas=21_000,
                )
            last = node.send_raw_transaction(raw)
            nonces[sender.address] += 1
        node.wait_for_receipt(last, 10)
