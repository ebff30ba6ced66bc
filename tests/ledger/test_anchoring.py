"""Anchoring: records → Merkle batches → one tx each → proofs; crash safety, outages, leaders.

The chain is py-evm through eth-tester (fast, in process); one test runs the same path
against a separate ganache node over HTTP (``-m npm``).
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from sqlalchemy import func, select
from web3 import EthereumTesterProvider, Web3

from core.audit import AuditEntry, append_audit
from core.db import transaction
from ledger import service
from ledger.anchoring import (
    AnchorResult,
    anchor_pending,
    anchoring_round,
    ensure_registry,
    leadership,
    open_chain,
    run_anchoring_loop,
)
from ledger.chain_client import (
    ChainClient,
    ChainProtocolError,
    ChainRevertedError,
    ChainRPCError,
    ChainTimeoutError,
    ChainUnavailableError,
    ContractMissingError,
    DispatchProvider,
    SignedTx,
    load_or_create_account,
)
from ledger.commitments import TenantKey, install_tenant_key
from ledger.contract import RecordKind, abi
from ledger.models import AnchorBatch, BatchStatus, LedgerDeployment, LedgerRecord, RecordProof, RecordStatus
from ledger.node import EmbeddedNode
from ledger.node.rpc import RpcDispatcher
from ledger.verify import verify_bundle
from tests import npm_tools

REPO = Path(__file__).resolve().parents[2]
JS_VERIFY = REPO / "tests" / "ledger" / "js" / "verify_bundles.mjs"
GANACHE = npm_tools.NODE_MODULES / ".bin" / "ganache"


class Crash(BaseException):
    """Simulated process death (not an Exception: nothing may swallow it)."""


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


def _tester_web3(provider_cls: type[EthereumTesterProvider] = EthereumTesterProvider) -> Web3:
    return Web3(provider_cls(EthereumTester(PyEVMBackend())))


def _funded(w3: Web3) -> LocalAccount:
    acct: LocalAccount = Account.create()
    tx = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": acct.address, "value": Web3.to_wei(1000, "ether")})
    w3.eth.wait_for_transaction_receipt(tx)
    return acct


@pytest.fixture
def tester_w3() -> Web3:
    return _tester_web3()


@pytest.fixture
def chain(tester_w3: Web3, settings: Any, session_factory: Any) -> ChainClient:
    return open_chain(settings, session_factory, target=tester_w3, account=_funded(tester_w3))


def _bodies(n: int, kind: RecordKind = RecordKind.SURVEY, tag: str = "") -> list[dict[str, Any]]:
    if kind is RecordKind.MEDICAL:
        return [{"documentType": "invoice", "provider": f"H-{tag}{i}", "issuedOn": "2026-05-01"} for i in range(n)]
    return [{"assessor": f"A-{tag}{i}", "conclusion": "consistent", "surveyedOn": "2026-05-02"} for i in range(n)]


def _add(session_factory: Any, n: int, kind: RecordKind = RecordKind.SURVEY, tag: str = "") -> list[int]:
    with transaction(session_factory) as s:
        return service.record_many(s, kind=kind, bodies=_bodies(n, kind, tag))


def _bundles(session_factory: Any, ids: list[int]) -> list[dict[str, Any]]:
    with session_factory() as s:
        return [service.proof_bundle(s, record_id=i) for i in ids]


def _registry(chain: ChainClient) -> Any:
    return chain.w3.eth.contract(address=Web3.to_checksum_address(chain.contract_address), abi=abi())


def _anchor_count(chain: ChainClient) -> int:
    return int(_registry(chain).functions.anchorCount().call())


def _nonce(chain: ChainClient) -> int:
    return int(chain.w3.eth.get_transaction_count(Web3.to_checksum_address(chain.sender)))


def _batches(session_factory: Any) -> list[AnchorBatch]:
    with session_factory() as s:
        return list(s.execute(select(AnchorBatch).order_by(AnchorBatch.id)).scalars())


def js_verify(bundles: list[dict[str, Any]]) -> list[bool]:
    """OpenZeppelin's StandardMerkleTree.verify over each bundle (node + @openzeppelin/merkle-tree)."""
    npm_tools.package("@openzeppelin/merkle-tree")
    node = npm_tools.node()
    out = subprocess.run(
        [node, str(JS_VERIFY)], input=json.dumps({"bundles": bundles}), capture_output=True,
        text=True, timeout=60, check=True,
    )
    results: list[bool] = json.loads(out.stdout)["results"]
    return results


def _clone(chain: ChainClient, cls: type[ChainClient] = ChainClient, **kwargs: Any) -> Any:
    return cls(chain.w3, account=chain.account, contract=chain.contract_address, **kwargs)


# ------------------------------------------------------------------------- the path


def test_records_are_anchored_and_every_proof_verifies(chain: ChainClient, session_factory: Any) -> None:
    surveys = _add(session_factory, 37)
    medical = _add(session_factory, 5, RecordKind.MEDICAL)
    result = anchor_pending(session_factory, chain, max_age=0)
    assert result.ok and result.batches == 2 and result.records == 42 and result.pending == 0
    assert _anchor_count(chain) == 2

    batches = _batches(session_factory)
    assert {(b.kind, b.count, b.status) for b in batches} == {
        (RecordKind.SURVEY, 37, BatchStatus.CONFIRMED), (RecordKind.MEDICAL, 5, BatchStatus.CONFIRMED)}
    bundles = _bundles(session_factory, surveys + medical)
    for b in bundles:
        assert b["status"] == "anchored" and b["anchored"] is True
        assert b["chainId"] == chain.chain_id() and b["contract"] == chain.contract_address
        assert b["leafEncoding"] == ["bytes32", "uint8"] and b["value"] == [b["commitment"], b["kindCode"]]
        verdict = verify_bundle(b, None, w3=chain.w3)
        assert verdict.ok, verdict.render()
    assert {b["kind"] for b in bundles} == {"SURVEY", "MEDICAL"}
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(LedgerRecord).where(
            LedgerRecord.status == RecordStatus.ANCHORED)) == 42
        status = service.ledger_status(s).as_dict()
    assert status["records"] == {"pending": 0, "anchored": 42, "erased": 0}
    assert status["batches"]["confirmed"] == 2 and status["outbox"] == 0
    # the stored tree is OpenZeppelin's dump and holds exactly the batch's leaves
    from ledger.merkle import StandardMerkleTree

    with session_factory() as s:
        tree = StandardMerkleTree.load(service.batch_tree(s, root=batches[0].root))
    assert tree.root == batches[0].root and len(tree) == batches[0].count


@pytest.mark.npm
def test_bundles_verify_with_openzeppelin_js(chain: ChainClient, session_factory: Any) -> None:
    ids = _add(session_factory, 25) + _add(session_factory, 1, RecordKind.MEDICAL)
    assert anchor_pending(session_factory, chain, max_age=0).records == 26
    bundles = _bundles(session_factory, ids)
    assert js_verify(bundles) == [True] * 26
    tampered = [dict(bundles[0], value=[bundles[1]["value"][0], 3]), dict(bundles[2], proof=bundles[3]["proof"])]
    assert js_verify(tampered) == [False, False]


def test_batches_by_size_age_and_kind(chain: ChainClient, session_factory: Any) -> None:
    _add(session_factory, 25)
    young = anchor_pending(session_factory, chain, max_batch=10, max_age=3600)
    # 25 young records: two full batches of 10 are due by size; the young rest waits
    assert young.batches == 2 and young.records == 20 and young.pending == 5
    rest = anchor_pending(session_factory, chain, max_batch=10, max_age=0)
    assert rest.batches == 1 and rest.records == 5 and rest.pending == 0
    assert [b.count for b in _batches(session_factory)] == [10, 10, 5]
    assert anchor_pending(session_factory, chain, max_age=0).batches == 0
    assert _anchor_count(chain) == 3


def test_run_twice_never_sends_twice(chain: ChainClient, session_factory: Any) -> None:
    _add(session_factory, 8)
    first = anchor_pending(session_factory, chain, max_age=0)
    nonce = _nonce(chain)
    second = anchor_pending(session_factory, chain, max_age=0)
    assert first.batches == 1 and second.batches == 0 and _nonce(chain) == nonce
    root = first.roots[0]
    with pytest.raises(ChainRevertedError) as info:  # the contract refuses a root twice
        chain.sign_anchor(root, 8, RecordKind.SURVEY)
    assert info.value.error_name == "RootAlreadyAnchored"


def test_a_root_already_on_chain_is_finished_not_resent(chain: ChainClient, session_factory: Any) -> None:
    _add(session_factory, 6)

    class DiesBeforeSigning(ChainClient):
        def sign_anchor(self, root: bytes | str, count: int, kind: int) -> SignedTx:
            raise Crash

    with pytest.raises(Crash):
        anchor_pending(session_factory, _clone(chain, DiesBeforeSigning), max_age=0)
    (batch,) = _batches(session_factory)
    assert batch.status is BatchStatus.PREPARED
    # meanwhile the root got anchored (e.g. by an earlier incarnation's transaction)
    earlier = chain.sign_anchor(batch.root, 6, RecordKind.SURVEY)
    chain.send_raw(earlier)
    chain.wait_for_receipt(earlier.hash)
    nonce = _nonce(chain)
    result = anchor_pending(session_factory, chain, max_age=0)
    assert result.recovered == 1 and result.records == 6 and _nonce(chain) == nonce
    (batch,) = _batches(session_factory)
    assert batch.status is BatchStatus.CONFIRMED and batch.tx_hash == earlier.hash
    assert _anchor_count(chain) == 1


@pytest.mark.parametrize("moment", ["before_broadcast", "after_broadcast", "after_receipt"])
def test_crash_around_sending_recovers_from_the_chain(
    chain: ChainClient, session_factory: Any, moment: str
) -> None:
    ids = _add(session_factory, 12)

    class Dies(ChainClient):
        def send_raw(self, signed: SignedTx) -> str:
            if moment == "before_broadcast":
                raise Crash
            out = super().send_raw(signed)
            if moment == "after_broadcast":
                raise Crash
            return out

        def anchor_events(self, receipt: Any) -> Any:
            raise Crash  # after the receipt, before the proofs/tx are stored

    with pytest.raises(Crash):
        anchor_pending(session_factory, _clone(chain, Dies), max_age=0)
    (batch,) = _batches(session_factory)
    assert batch.status is BatchStatus.SENT and batch.tx_hash
    assert _bundles(session_factory, ids[:1])[0]["status"] == "pending"
    assert _anchor_count(chain) == (0 if moment == "before_broadcast" else 1)

    result = anchor_pending(session_factory, chain, max_age=0)
    assert result.ok and result.recovered == 1 and result.records == 12
    assert _anchor_count(chain) == 1  # anchored exactly once
    (batch,) = _batches(session_factory)
    assert batch.status is BatchStatus.CONFIRMED
    assert all(verify_bundle(b, None, w3=chain.w3).ok for b in _bundles(session_factory, ids))


def test_crash_inside_prepare_loses_nothing(chain: ChainClient, session_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _add(session_factory, 9)
    from ledger.proofs import pack_proof as real

    calls = {"n": 0}

    def dying(nodes: list[bytes]) -> bytes:
        calls["n"] += 1
        if calls["n"] == 5:
            raise Crash
        return real(nodes)

    monkeypatch.setattr("ledger.anchoring.pack_proof", dying)
    with pytest.raises(Crash):
        anchor_pending(session_factory, chain, max_age=0)
    monkeypatch.setattr("ledger.anchoring.pack_proof", real)
    assert _batches(session_factory) == []  # the prepare transaction rolled back whole
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(RecordProof)) == 0
    assert anchor_pending(session_factory, chain, max_age=0).records == 9
    assert all(b["anchored"] for b in _bundles(session_factory, ids))


def test_a_batch_sent_elsewhere_is_not_resent_on_another_network(
    chain: ChainClient, session_factory: Any, settings: Any
) -> None:
    _add(session_factory, 3)

    class Dies(ChainClient):
        def send_raw(self, signed: SignedTx) -> str:
            raise Crash

    with pytest.raises(Crash):
        anchor_pending(session_factory, _clone(chain, Dies), max_age=0)
    other = _tester_web3()
    acct = _funded(other)
    elsewhere = ChainClient(other, account=acct)
    elsewhere.deploy()
    result = anchor_pending(session_factory, elsewhere, max_age=0)
    assert not result.ok and "reconnect to the old network" in (result.error or "")
    assert _anchor_count(elsewhere) == 0
    assert anchor_pending(session_factory, chain, max_age=0).records == 3


# -------------------------------------------------------------------- outages


class FlakyProvider(EthereumTesterProvider):
    """eth-tester that can be 'down' (every call) or fail the next N calls of a method."""

    down = False
    failures: dict[str, int]

    def make_request(self, method: Any, params: Any) -> Any:
        if self.down:
            raise requests.ConnectionError("connection refused")
        left = self.failures.get(str(method), 0)
        if left:
            self.failures[str(method)] = left - 1
            raise requests.ConnectionError("connection reset by peer")
        return super().make_request(method, params)


@pytest.fixture
def flaky(settings: Any, session_factory: Any) -> tuple[ChainClient, FlakyProvider, list[float]]:
    w3 = _tester_web3(FlakyProvider)
    provider = w3.provider
    assert isinstance(provider, FlakyProvider)
    provider.failures = {}
    sleeps: list[float] = []
    client = open_chain(settings, session_factory, target=w3, account=_funded(w3), retries=3, sleep=sleeps.append)
    return client, provider, sleeps


def test_chain_down_keeps_records_pending_and_retries_later(
    flaky: tuple[ChainClient, FlakyProvider, list[float]], session_factory: Any
) -> None:
    client, provider, sleeps = flaky
    ids = _add(session_factory, 10)
    provider.down = True
    result = anchor_pending(session_factory, client, max_age=0)
    assert not result.ok and "unreachable" in (result.error or "")
    assert result.pending == 10 and result.batches == 0
    assert sleeps == [0.1, 0.2, 0.4]  # bounded exponential backoff inside the call
    assert _batches(session_factory) == []  # nothing prepared while the chain is down
    assert {b["status"] for b in _bundles(session_factory, ids)} == {"pending"}

    provider.down = False
    result = anchor_pending(session_factory, client, max_age=0)
    assert result.ok and result.records == 10 and _anchor_count(client) == 1


def test_transient_failures_are_retried_within_the_call(
    flaky: tuple[ChainClient, FlakyProvider, list[float]], session_factory: Any
) -> None:
    client, provider, sleeps = flaky
    _add(session_factory, 4)
    provider.failures = {"eth_sendRawTransaction": 2, "eth_getTransactionReceipt": 1, "eth_call": 1}
    result = anchor_pending(session_factory, client, max_age=0)
    assert result.ok and result.records == 4 and len(sleeps) == 4
    assert _anchor_count(client) == 1


def test_outage_after_prepare_resumes_the_same_batch(
    flaky: tuple[ChainClient, FlakyProvider, list[float]], session_factory: Any
) -> None:
    client, provider, _ = flaky
    ids = _add(session_factory, 7)
    provider.failures = {"eth_sendRawTransaction": 99}
    result = anchor_pending(session_factory, client, max_age=0)
    assert not result.ok and result.pending == 7
    (batch,) = _batches(session_factory)
    assert batch.status is BatchStatus.SENT and "unreachable" in (batch.last_error or "")
    provider.failures = {}
    result = anchor_pending(session_factory, client, max_age=0)
    assert result.ok and result.recovered == 1 and result.records == 7
    (batch,) = _batches(session_factory)
    assert batch.status is BatchStatus.CONFIRMED and batch.attempts == 2 and batch.last_error is None
    assert _anchor_count(client) == 1
    assert all(b["anchored"] for b in _bundles(session_factory, ids))


# ------------------------------------------------------------- registry, audit, loop


def test_registry_deployed_once_and_reused(
    chain: ChainClient, tester_w3: Web3, settings: Any, session_factory: Any
) -> None:
    again = open_chain(settings, session_factory, target=tester_w3, account=chain.account)
    assert again.contract_address == chain.contract_address
    with session_factory() as s:
        (dep,) = s.execute(select(LedgerDeployment)).scalars()
    assert dep.contract == chain.contract_address and dep.chain_id == chain.chain_id()
    assert dep.genesis_hash == chain.genesis_hash()
    # a network we know (chain id + genesis recorded) with no code at the recorded address:
    # the chain was reset — refuse, do not silently redeploy
    fresh = _tester_web3()
    probe = ChainClient(fresh)
    if probe.genesis_hash() != chain.genesis_hash():  # eth-tester's genesis carries a timestamp
        with transaction(session_factory) as s:
            s.add(LedgerDeployment(chain_id=probe.chain_id(), genesis_hash=probe.genesis_hash(),
                                   contract="0x" + "22" * 20, deployer=chain.sender))
    with pytest.raises(ContractMissingError, match="chain was reset"):
        open_chain(settings, session_factory, target=fresh, account=_funded(fresh))
    with pytest.raises(ContractMissingError):
        ensure_registry(session_factory, ChainClient(fresh), contract="0x" + "11" * 20)


def test_registry_address_from_the_environment(
    chain: ChainClient, tester_w3: Web3, settings: Any, session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSURE_LEDGER_CONTRACT", chain.contract_address.lower())
    pinned = open_chain(settings, session_factory, target=tester_w3, account=chain.account)
    assert pinned.contract_address == chain.contract_address
    monkeypatch.setenv("OPSURE_LEDGER_CONTRACT", "0x" + "11" * 20)
    with pytest.raises(ContractMissingError, match="no contract code"):
        open_chain(settings, session_factory, target=tester_w3, account=chain.account)


def test_anchor_audit_log(chain: ChainClient, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        for i in range(3):
            append_audit(s, actor="admin", role="admin", action=f"doThing{i}", input_digest="00" * 32)
    result = anchoring_round(session_factory, chain, max_age=0)
    assert result.ok and result.records == 3
    with session_factory() as s:
        rows = list(s.execute(select(LedgerRecord).order_by(LedgerRecord.id)).scalars())
        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
        assert [service.record_body(r) for r in rows] == [
            {"seq": e.seq, "hash": e.hash, "prevHash": e.prev_hash} for e in entries]
        bundles = [service.proof_bundle(s, record_id=r.id) for r in rows]
    assert {b["kind"] for b in bundles} == {"AUDIT_LOG"}
    assert all(verify_bundle(b, None, w3=chain.w3).ok for b in bundles)
    assert anchoring_round(session_factory, chain, max_age=0).records == 0
    with transaction(session_factory) as s:
        append_audit(s, actor="admin", role="admin", action="later", input_digest="11" * 32)
        assert service.anchor_audit_log(s) == 1
        assert service.anchor_audit_log(s) == 0


def test_erased_record_stays_committed_on_chain(chain: ChainClient, session_factory: Any) -> None:
    ids = _add(session_factory, 4)
    with transaction(session_factory) as s:
        service.erase(s, record_id=ids[0])  # erased before anchoring: still anchored, unlinkable
    assert anchor_pending(session_factory, chain, max_age=0).records == 4
    with transaction(session_factory) as s:
        service.erase(s, record_id=ids[1])  # erased after anchoring
    bundles = _bundles(session_factory, ids)
    assert [b["status"] for b in bundles] == ["erased", "erased", "anchored", "anchored"]
    with session_factory() as s:
        erased = [service.get_record(s, record_id=i) for i in ids[:2]]
        assert all(r.body is None and r.salt is None for r in erased)
        (batch,) = s.execute(select(AnchorBatch)).scalars()
        leaves = {v["value"][0] for v in service.batch_tree(s, root=batch.root)["values"]}
    assert {r.commitment for r in erased} <= leaves  # commitment still in the anchored tree
    assert chain.anchored_at(batch.root) == batch.block_number
    with session_factory() as s:
        exported = [b["commitment"] for b in service.anchored_bundles(s)]
    assert sorted(exported) == sorted(b["commitment"] for b in bundles[2:])


def test_leadership_is_exclusive(engine: Any, data_dir: Path) -> None:
    with leadership(engine, data_dir) as first:
        assert first is not None and first.alive()
        with leadership(engine, data_dir) as second:
            assert second is None
    with leadership(engine, data_dir) as again:
        assert again is not None


def test_loop_anchors_until_stopped(runtime: Any, chain: ChainClient, session_factory: Any) -> None:
    ids = _add(session_factory, 15)
    stop = threading.Event()
    rounds: list[AnchorResult] = []
    thread = threading.Thread(
        target=run_anchoring_loop,
        args=(runtime, stop),
        kwargs={"chain": chain, "interval": 0.02, "max_age": 0, "on_round": rounds.append},
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(b["anchored"] for b in _bundles(session_factory, ids)):
        time.sleep(0.02)
    with transaction(session_factory) as s:
        append_audit(s, actor="admin", role="admin", action="x", input_digest="22" * 32)
    while time.monotonic() < deadline and _anchor_count(chain) < 2:
        time.sleep(0.02)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert all(b["anchored"] for b in _bundles(session_factory, ids))
    assert _anchor_count(chain) == 2 and rounds and all(r.ok for r in rounds)


def test_loop_backs_off_while_the_chain_is_down(runtime: Any, session_factory: Any) -> None:
    _add(session_factory, 3)
    stop = threading.Event()
    rounds: list[tuple[float, AnchorResult]] = []

    def on_round(result: AnchorResult) -> None:
        rounds.append((time.monotonic(), result))
        if len(rounds) >= 4:
            stop.set()

    down = ChainClient.connect(f"http://127.0.0.1:{_free_port()}", timeout=0.5, retries=0)
    run_anchoring_loop(runtime, stop, chain=down, interval=0.01, max_backoff=0.2, on_round=on_round)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(rounds)]
    assert len(rounds) == 4 and all(not r.ok for _, r in rounds)
    assert gaps[0] >= 0.02 and gaps[-1] >= 0.08  # 0.02, 0.04, 0.08: exponential backoff
    with session_factory() as s:
        assert service.ledger_status(s).records[RecordStatus.PENDING] == 3


# ------------------------------------------------------------------- chain client


class _Node(http.server.BaseHTTPRequestHandler):
    """A misbehaving JSON-RPC node: ``mode`` picks the misbehaviour."""

    mode = "garbage"

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        rid = request.get("id", 0) if isinstance(request, dict) else 0
        if self.mode == "slow":
            time.sleep(1.0)
        status, body = 200, b""
        if self.mode == "garbage":
            body = b"<html>definitely not JSON-RPC</html>"
        elif self.mode == "http500":
            status, body = 500, b"internal error"
        elif self.mode == "bad-result":
            body = json.dumps({"jsonrpc": "2.0", "id": rid, "result": "0xzz"}).encode()
        elif self.mode == "rpc-error":
            body = json.dumps({"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": "nope"}}).encode()
        else:
            body = json.dumps({"jsonrpc": "2.0", "id": rid, "result": "0x1"}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def bad_node() -> Iterator[Callable[[str], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(mode: str) -> str:
        handler = type("Handler", (_Node,), {"mode": mode})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("mode", "error", "needle"),
    [
        ("garbage", ChainProtocolError, "garbage"),
        ("bad-result", ChainProtocolError, "unexpected answer"),
        ("http500", ChainUnavailableError, "HTTP 500"),
        ("slow", ChainTimeoutError, "did not answer in time"),
        ("rpc-error", ChainRPCError, "refused: nope"),
    ],
)
def test_misbehaving_nodes_raise_typed_errors(
    bad_node: Callable[[str], str], mode: str, error: type[Exception], needle: str
) -> None:
    sleeps: list[float] = []
    client = ChainClient.connect(bad_node(mode), timeout=0.3, retries=2, sleep=sleeps.append)
    with pytest.raises(error, match=needle):
        client.ping()
    assert sleeps == ([0.1, 0.2] if error is not ChainRPCError else [])  # only transient errors retry


def test_unreachable_node_is_a_typed_error() -> None:
    client = ChainClient.connect(f"http://127.0.0.1:{_free_port()}", timeout=0.5, retries=0)
    with pytest.raises(ChainUnavailableError, match="unreachable"):
        client.chain_id()
    with pytest.raises(ContractMissingError):
        client.anchored_at(b"\x01" * 32)  # no registry attached


def test_anchorer_key_is_created_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSURE_ANCHORER_KEY", raising=False)
    keys = tmp_path / "keys"
    first = load_or_create_account(keys)
    assert stat.S_IMODE(os.stat(keys / "anchorer.key").st_mode) == 0o600
    assert load_or_create_account(keys).address == first.address
    other = Account.create()
    monkeypatch.setenv("OPSURE_ANCHORER_KEY", other.key.hex())
    assert load_or_create_account(keys).address == other.address


# ------------------------------------------------------------------- embedded node


def test_anchoring_on_the_embedded_node_survives_a_restart(settings: Any, session_factory: Any, tmp_path: Path) -> None:
    """The persistent py-evm node, in process through DispatchProvider; restart reuses the registry."""
    acct: LocalAccount = Account.create()

    def open_node() -> Any:
        return EmbeddedNode(tmp_path / "chain", prefund={acct.address: 10**24}, allowlist=[acct.address])

    node = open_node()
    try:
        w3 = Web3(DispatchProvider(RpcDispatcher(node).handle_one))
        chain = open_chain(settings, session_factory, target=w3, account=acct)
        ids = _add(session_factory, 30)
        assert anchor_pending(session_factory, chain, max_age=0).records == 30
        first = chain.contract_address
    finally:
        node.close()
    node = open_node()  # same data directory: the chain resumes
    try:
        w3 = Web3(DispatchProvider(RpcDispatcher(node).handle_one))
        chain = open_chain(settings, session_factory, target=w3, account=acct)
        assert chain.contract_address == first
        ids += _add(session_factory, 5, RecordKind.MEDICAL)
        assert anchor_pending(session_factory, chain, max_age=0).records == 5
        for b in _bundles(session_factory, ids[:2] + ids[-2:]):
            verdict = verify_bundle(b, None, w3=w3)
            assert verdict.ok, verdict.render()
    finally:
        node.close()


# ------------------------------------------------------------------------ ganache


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def ganache_url() -> Iterator[str]:
    npm_tools.package(".bin/ganache")
    port = _free_port()
    proc = subprocess.Popen(
        [str(GANACHE), "--wallet.deterministic", "--chain.chainId", "1337", "--logging.quiet",
         "--server.host", "127.0.0.1", "--server.port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1)
                if r.ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ganache did not start: {proc.stderr.read() if proc.stderr else ''!r}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.npm
def test_anchoring_through_ganache_over_http(
    ganache_url: str, settings: Any, session_factory: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from ledger.cli import verify_cli

    w3 = Web3(Web3.HTTPProvider(ganache_url))
    acct = Account.create()
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": acct.address, "value": Web3.to_wei(100, "ether")}))
    chain = open_chain(settings.with_(ledger_rpc_url=ganache_url), session_factory, account=acct)
    assert chain.chain_id() == 1337
    ids = _add(session_factory, 40) + _add(session_factory, 3, RecordKind.MEDICAL)
    result = anchor_pending(session_factory, chain, max_age=0)
    assert result.ok and result.records == 43 and result.batches == 2
    bundles = _bundles(session_factory, ids)
    for b in bundles[:5] + bundles[-3:]:
        verdict = verify_bundle(b, ganache_url)
        assert verdict.ok, verdict.render()
    assert js_verify(bundles) == [True] * len(bundles)
    # restart: the deployment recorded for this network is reused
    again = open_chain(settings.with_(ledger_rpc_url=ganache_url), session_factory, account=acct)
    assert again.contract_address == chain.contract_address
    # the CLI verdict, good and tampered
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(bundles[0]))
    bad.write_text(json.dumps(dict(bundles[0], txHash=bundles[-1]["txHash"])))
    runner = CliRunner()
    ok = runner.invoke(verify_cli, [str(good), "--rpc", ganache_url, "--contract", chain.contract_address])
    assert ok.exit_code == 0 and ok.output.startswith("VERIFIED"), ok.output
    failed = runner.invoke(verify_cli, [str(bad), "--rpc", ganache_url])
    assert failed.exit_code == 1 and "NOT VERIFIED: transaction" in failed.output, failed.output
