"""Benchmark the embedded ledger node: batched vs single-tx mining, receipt lookups, disk.

Run: .venv/bin/python bench/bench_node.py [--txs 2000] [--lookup-blocks 2000]
Prints figures and ratios only; nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from ledger.node import EmbeddedNode
from tests.ledger.node_helpers import ALICE, BOB, INIT_CODE, OWNER, create_address, serve, signed

SENDERS = [OWNER, ALICE, BOB]


def _setup(data_dir: Path) -> tuple[EmbeddedNode, str]:
    node = EmbeddedNode(data_dir, prefund=[a.address for a in SENDERS], automine=False)
    node.send_raw_transaction(signed(OWNER, 0, data=INIT_CODE, gas=300_000))
    node.mine_pending()
    return node, create_address(OWNER.address, 0)


def _presign(contract: str, count: int, first_nonce: Mapping[Any, int]) -> list[bytes]:
    """Anchor-like calls: 32-byte root + 64 bytes payload, each emitting one log."""
    rng = random.Random(7)
    nonces = dict(first_nonce)
    raws = []
    for i in range(count):
        sender = SENDERS[i % len(SENDERS)]
        data = b"\x01" + rng.randbytes(95)  # first byte 0xff would take the revert path
        raws.append(signed(sender, nonces[sender.address], to=contract, data=data))
        nonces[sender.address] += 1
    return raws


def mining_rate(batch: int, count: int) -> tuple[float, float, int]:
    """(tx/s incl. admission, tx/s block building+commit only, bytes per tx)."""
    with tempfile.TemporaryDirectory() as tmp:
        node, contract = _setup(Path(tmp))
        try:
            start_nonces = {a.address: node.transaction_count(a.address) for a in SENDERS}
            raws = _presign(contract, count, start_nonces)
            size_before = node.store.size_bytes()
            total = mine = 0.0
            for i in range(0, count, batch):
                t0 = time.perf_counter()
                for raw in raws[i : i + batch]:
                    node.send_raw_transaction(raw)
                t1 = time.perf_counter()
                node.mine_pending()
                t2 = time.perf_counter()
                total += t2 - t0
                mine += t2 - t1
            node.store.checkpoint()
            per_tx = (node.store.size_bytes() - size_before) // count
            return count / total, count / mine, per_tx
        finally:
            node.close()


def receipt_latency(blocks: int, samples: int) -> dict[str, float]:
    """Receipt lookup latency (direct and over HTTP JSON-RPC) with `blocks` blocks."""
    with tempfile.TemporaryDirectory() as tmp:
        node, contract = _setup(Path(tmp))
        try:
            start_nonces = {a.address: node.transaction_count(a.address) for a in SENDERS}
            raws = _presign(contract, blocks, start_nonces)
            hashes = []
            for raw in raws:
                hashes.append(node.send_raw_transaction(raw))
                node.mine_pending()
            rng = random.Random(1)
            picks = [rng.choice(hashes) for _ in range(samples)]
            t0 = time.perf_counter()
            for h in picks:
                assert node.receipt(h) is not None
            direct = (time.perf_counter() - t0) / samples * 1000
            with serve(node) as url, httpx.Client() as client:
                timings = []
                for h in picks:
                    body = {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "eth_getTransactionReceipt",
                        "params": ["0x" + h.hex()],
                    }
                    t = time.perf_counter()
                    answer = client.post(url, json=body).json()
                    timings.append((time.perf_counter() - t) * 1000)
                    assert answer["result"]["status"] == "0x1"
                logs_t = time.perf_counter()
                logs = client.post(
                    url,
                    json={
                        "jsonrpc": "2.0",
                        "id": 2,
                        "method": "eth_getLogs",
                        "params": [{"fromBlock": "0x0", "address": contract}],
                    },
                ).json()["result"]
                logs_ms = (time.perf_counter() - logs_t) * 1000
            return {
                "head": float(node.block_number()),
                "direct_ms": direct,
                "rpc_median_ms": statistics.median(timings),
                "rpc_p95_ms": sorted(timings)[int(len(timings) * 0.95)],
                "get_logs_all_ms": logs_ms,
                "logs": float(len(logs)),
            }
        finally:
            node.close()


def clock_drift(seconds: float, cap: float) -> tuple[int, float, int, float]:
    """Sequential send+wait for `seconds`, unthrottled then with the miner's drift cap.

    Returns (blocks unthrottled, drift unthrottled, blocks capped, max drift capped).
    """
    results: list[tuple[int, float]] = []
    drift_cap: float | None
    for drift_cap in (None, cap):
        with tempfile.TemporaryDirectory() as tmp:
            node = EmbeddedNode(
                Path(tmp),
                prefund=[OWNER.address],
                max_clock_drift=drift_cap,
                coalesce_delay=0.0,
            )
            try:
                deadline = time.time() + seconds
                worst = 0.0
                nonce = 0
                while time.time() < deadline:
                    raw = signed(OWNER, nonce, to=BOB.address, value=1, gas=21_000)
                    node.wait_for_receipt(node.send_raw_transaction(raw), 30)
                    nonce += 1
                    worst = max(worst, node.head.timestamp - time.time())
                results.append((node.block_number(), worst))
            finally:
                node.close()
    return results[0][0], results[0][1], results[1][0], results[1][1]


def main() -> None:
    """Run all measurements and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--txs", type=int, default=2000)
    parser.add_argument("--lookup-blocks", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()

    batched = mining_rate(100, args.txs)
    single = mining_rate(1, min(args.txs, 1000))
    print(f"100 tx/block: {batched[0]:7.0f} tx/s end-to-end, {batched[1]:7.0f} tx/s mining only")
    print(f"  1 tx/block: {single[0]:7.0f} tx/s end-to-end, {single[1]:7.0f} tx/s mining only")
    print(f"  ratio batched/single (end-to-end): {batched[0] / single[0]:.1f}x")
    print(f"disk per tx (SQLite+WAL, checkpointed): {batched[2]} B at 100/block, {single[2]} B at 1/block")
    lat = receipt_latency(args.lookup_blocks, args.samples)
    print(
        f"receipt lookup at {lat['head']:.0f} blocks: {lat['direct_ms']:.3f} ms direct, "
        f"{lat['rpc_median_ms']:.2f} ms RPC median, {lat['rpc_p95_ms']:.2f} ms RPC p95"
    )
    print(f"eth_getLogs over all blocks: {lat['logs']:.0f} logs in {lat['get_logs_all_ms']:.0f} ms")
    free, free_drift, capped, capped_drift = clock_drift(6.0, 3.0)
    print(
        f"clock drift, sequential send+wait for 6 s: unthrottled {free} blocks, head "
        f"{free_drift:+.0f} s ahead; max_clock_drift=3: {capped} blocks, max {capped_drift:+.1f} s"
    )


if __name__ == "__main__":
    main()
