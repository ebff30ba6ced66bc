"""Crash safety: SIGKILL the node at random moments; every reopen is consistent."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.node import EmbeddedNode
from tests.ledger.node_helpers import CRASH_SENDERS

REPO = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("OPSURE_CRASH_KILLS", "32"))


def _start(data_dir: Path, seed: int, pause: bool) -> subprocess.Popen[str]:
    code = (
        "from tests.ledger.node_helpers import crash_worker; "
        f"crash_worker({str(data_dir)!r}, {seed}, {pause})"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _check(data_dir: Path, verified_up_to: int) -> tuple[int, int]:
    """Reopen, verify new blocks, and compare sender nonces with mined tx counts."""
    with EmbeddedNode(data_dir, automine=False) as node:
        report = node.verify(max(0, verified_up_to - 1))
        for account in CRASH_SENDERS:
            sender = bytes.fromhex(account.address[2:])
            mined = node.store.query_one("SELECT COUNT(*) FROM txs WHERE sender = ?", (sender,))
            assert mined is not None
            assert node.transaction_count(account.address) == mined[0], account.address
        total = node.store.query_one("SELECT COUNT(*) FROM txs")
        assert total is not None
        return int(report["head"]), int(total[0])


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_half_block(tmp_path: Path) -> None:
    """Kill -9 the mining node many times; each reopen walks the new blocks and checks state."""
    rng = random.Random(20240601)
    head, txs, started = 0, 0, time.monotonic()
    for kill in range(KILLS):
        # every 8th run stops inside a block's transaction, after its last write
        pause = kill % 8 == 7
        worker = _start(tmp_path, kill, pause)
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert line.strip() == "ready", f"worker did not start (kill {kill}): {line!r}"
        paused_at = None
        if pause:
            word, number = worker.stdout.readline().split()
            assert word == "committing"
            paused_at = int(number)
        else:
            time.sleep(rng.uniform(0.05, 0.6))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        new_head, new_txs = _check(tmp_path, head)
        if paused_at is not None:
            assert new_head == paused_at - 1, "a block killed before COMMIT must vanish whole"
        assert new_head >= head and new_txs >= txs
        head, txs = new_head, new_txs
    with EmbeddedNode(tmp_path, automine=False) as node:
        full = node.verify()
    assert full["head"] == head and full["txs"] == txs
    assert head > KILLS, "the workers should have mined blocks between kills"
    print(
        f"\n{KILLS} kills survived: {head} blocks, {txs} txs, {full['logs']} logs, "
        f"{time.monotonic() - started:.1f}s"
    )
