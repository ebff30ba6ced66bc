"""kill -9 while recording and anchoring: no record, proof or block is lost, none doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from web3 import Web3

from ledger import service as ledger_service
from ledger.chain_client import DispatchProvider
from ledger.contract import abi
from ledger.models import AnchorBatch, BatchStatus, LedgerRecord, RecordStatus
from ledger.node.rpc import RpcDispatcher
from ledger.verify import verify_bundle
from opsure.ledger_host import LedgerHost
from opsure.runtime import Runtime
from tests.conftest import FIELD_KEYS, TENANT_KEY

KILLS = int(os.environ.get("OPSURE_ANCHOR_KILLS", "6"))
CHILD = Path(__file__).with_name("anchor_crash_child.py")


def _run_until_killed(env: dict[str, str], start: int, rng: random.Random) -> int:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(start)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    last = start
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.time() + 60
    while not lines and time.time() < deadline and proc.poll() is None:  # wait for the first commit
        time.sleep(0.05)
    assert lines, proc.stderr.read() if proc.stderr else "child printed nothing"
    time.sleep(rng.uniform(0.05, 1.5))  # somewhere inside record / prepare / send / store
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    reader.join(5)
    for line in lines:
        if line.startswith("committed "):
            last = int(line.split()[1])
    return last


@pytest.mark.slow
def test_kill_9_during_anchoring_loses_and_doubles_nothing(runtime: Runtime) -> None:
    settings = runtime.settings.with_(ledger_mode="embedded", anchoring_in_process=False)
    runtime.settings = settings
    env = {
        **os.environ,
        "OPSURE_DATA_DIR": str(settings.data_dir),
        "OPSURE_DATABASE_URL": settings.resolved_database_url,
        "OPSURE_FIELD_KEY": FIELD_KEYS.dump(one_line=True),
        "OPSURE_TENANT_KEY": TENANT_KEY.key.hex(),
        "OPSURE_LEDGER": "embedded",
    }
    rng = random.Random(1234)
    committed = 0
    for _ in range(KILLS):
        committed = _run_until_killed(env, committed, rng)

    host = LedgerHost(runtime)
    host.start()
    try:
        for _ in range(5):  # finish whatever the kills interrupted
            host.anchor_now(max_batch=10_000)
        with runtime.session_factory() as s:
            total = s.scalar(select(func.count()).select_from(LedgerRecord))
            assert total is not None and total >= committed > 0
            assert s.scalar(select(func.count()).select_from(LedgerRecord)
                            .where(LedgerRecord.status != RecordStatus.ANCHORED)) == 0
            batches = s.scalars(select(AnchorBatch)).all()
            assert all(b.status is BatchStatus.CONFIRMED for b in batches)
            record_ids = s.scalars(select(LedgerRecord.id)).all()
            bundles = ledger_service.proof_bundles(s, record_ids=record_ids)
        assert host.node is not None
        walked = host.node.verify()  # raises LedgerStoreCorrupt on any gap
        assert walked["txs"] >= len(batches) + 1  # registry deployment + one tx per batch
        w3 = Web3(DispatchProvider(RpcDispatcher(host.node).handle_one))
        registry = w3.eth.contract(address=Web3.to_checksum_address(batches[0].contract or ""), abi=abi())
        events = registry.events.Anchored().get_logs(from_block=0)
        assert sorted(e["args"]["root"].hex().removeprefix("0x") for e in events) == sorted(
            b.root.removeprefix("0x") for b in batches
        ), "every batch anchored exactly once, and nothing else anchored"
        for rid in rng.sample(list(record_ids), min(25, len(record_ids))):
            verdict = verify_bundle(bundles[rid], None, w3=w3)
            assert verdict.ok, verdict
    finally:
        host.close()
