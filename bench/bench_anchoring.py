"""Anchoring throughput: batched Merkle anchoring against one transaction per record.

End to end means: records validated, canonicalised, committed (HMAC), encrypted and
stored in committed DB transactions; cut into batches; one ``anchor`` transaction per
batch mined and its receipt read; every record's proof stored and the batch confirmed.
The baseline runs the very same code with ``max_batch=1`` (one anchor transaction per
record) on the same chain in the same process. Also measured: off-chain proof checks
(OpenZeppelin's algorithm, ledger.merkle) and the registry's ``verify`` via eth_call.

Usage::

    python bench/bench_anchoring.py                     # eth-tester (py-evm) chain
    python bench/bench_anchoring.py --chain embedded    # the embedded py-evm node
    python bench/bench_anchoring.py --records 100000 --database-url postgresql+psycopg://…

Targets: ≥ 20,000 records/s end to end, ≥ 100x the one-tx-per-record baseline,
≥ 10,000 off-chain verifications/s.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account
from sqlalchemy import text
from web3 import Web3

from core.crypto import FieldKeys, install_field_keys
from core.db import make_engine, make_session_factory, transaction
from core.settings import Settings
from ledger import service
from ledger.anchoring import anchor_pending, open_chain
from ledger.chain_client import ChainClient, DispatchProvider
from ledger.commitments import TenantKey, install_tenant_key
from ledger.contract import RecordKind
from ledger.merkle import StandardMerkleTree, leaf_hash
from ledger.verify import verify_offline
from opsure.migrate import upgrade


def _bodies(n: int, offset: int) -> list[dict[str, Any]]:
    return [
        {
            "documentType": "invoice",
            "provider": "Peking Union Medical College Hospital",
            "issuedOn": "2026-05-01",
            "invoiceNo": f"INV-2026-{offset + i:08d}",
            "amount": f"{(offset + i) % 9000 + 100}.50",
            "diagnoses": ["J18.9", "I10"],
        }
        for i in range(n)
    ]


@contextlib.contextmanager
def _chain(kind: str, data_dir: Path) -> Iterator[tuple[Web3, Any]]:
    acct = Account.create()
    if kind == "embedded":
        from ledger.node import EmbeddedNode
        from ledger.node.rpc import RpcDispatcher

        node = EmbeddedNode(data_dir / "chain", prefund={acct.address: 10**24}, allowlist=[acct.address])
        try:
            yield Web3(DispatchProvider(RpcDispatcher(node).handle_one)), acct
        finally:
            node.close()
        return
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": acct.address, "value": Web3.to_wei(10_000, "ether")})
    )
    yield w3, acct


def _store(factory: Any, n: int, chunk: int, offset: int = 0) -> None:
    for start in range(0, n, chunk):
        with transaction(factory) as s:
            service.record_many(s, kind=RecordKind.MEDICAL, bodies=_bodies(min(chunk, n - start), offset + start))


_LEDGER_TABLES = ("record_proof", "anchor_tree", "ledger_record", "anchor_batch", "ledger_deployment", "ledger_cursor")


def _clear(engine: Any, wipe: bool) -> None:
    """Empty the ledger tables (a given database must be empty already, or ``--wipe``)."""
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT count(*) FROM ledger_record")).scalar_one()
        if rows and not wipe:
            raise SystemExit(f"the database already holds {rows} ledger records; pass --wipe to empty it")
        for table in _LEDGER_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


def _producer(url: str, field_key: str, tenant_key: str, n: int, chunk: int, offset: int,
              ready: Any, go: Any) -> None:
    """Child process: store ``n`` records in committed chunks (the API's share of the work)."""
    install_field_keys(FieldKeys.parse(field_key))
    install_tenant_key(TenantKey.from_hex(tenant_key))
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as s:  # warm up: connect, compile
        s.execute(text("SELECT 1"))
    ready.set()
    go.wait()
    _store(factory, n, chunk, offset)
    engine.dispose()


def _anchor_all(factory: Any, chain: ChainClient, n: int, max_batch: int, max_age: float) -> int:
    """Anchor until ``n`` records are anchored; returns the number of batches."""
    done = batches = 0
    while done < n:
        r = anchor_pending(factory, chain, max_batch=max_batch, max_age=max_age, count_pending=False)
        assert r.ok, r
        done += r.records
        batches += r.batches
        if not r.batches:
            time.sleep(0.002)
    return batches


def run(args: argparse.Namespace) -> dict[str, Any]:
    field_keys = FieldKeys.generate()
    tenant_key = TenantKey.generate()
    install_field_keys(field_keys)
    install_tenant_key(tenant_key)
    tmp = Path(tempfile.mkdtemp(prefix="bench-anchoring-"))
    settings = Settings(data_dir=tmp, database_url=args.database_url)
    url = settings.resolved_database_url
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    _clear(engine, args.wipe)
    n = args.records
    out: dict[str, Any] = {"chain": args.chain, "database": engine.dialect.name, "records": n}
    with _chain(args.chain, tmp) as (w3, acct):
        chain: ChainClient = open_chain(settings, factory, target=w3, account=acct)

        # -- batched, end to end, one process: store everything, then anchor ---------------
        w0, c0 = time.perf_counter(), time.process_time()
        _store(factory, n, args.chunk)
        w1 = time.perf_counter()
        batches = _anchor_all(factory, chain, n, args.max_batch, 0.0)
        w2, c2 = time.perf_counter(), time.process_time()
        out["sequential"] = {
            "records_per_s": round(n / (w2 - w0)),
            "records_per_cpu_s": round(n / (c2 - c0)),
            "seconds": round(w2 - w0, 3),
            "store_s": round(w1 - w0, 3),
            "anchor_s": round(w2 - w1, 3),
            "batches": batches,
        }

        # -- batched, end to end, API process + anchoring worker working at the same time ---
        ctx = multiprocessing.get_context("spawn")
        keys_hex = field_keys.dump(one_line=True)
        ready, go = ctx.Event(), ctx.Event()
        producer = ctx.Process(
            target=_producer, args=(url, keys_hex, tenant_key.key.hex(), n, args.chunk, 10**8, ready, go)
        )
        producer.start()
        ready.wait(120)
        w0 = time.perf_counter()
        go.set()
        batches = _anchor_all(factory, chain, n, args.max_batch, args.max_age)
        w1 = time.perf_counter()
        producer.join()
        assert producer.exitcode == 0
        out["pipelined"] = {"records_per_s": round(n / (w1 - w0)), "seconds": round(w1 - w0, 3), "batches": batches}

        # -- baseline: one anchor transaction per record ---------------------------------
        w0 = time.perf_counter()
        for i in range(args.baseline):
            _store(factory, 1, 1, offset=10**7 + i)
            r = anchor_pending(factory, chain, max_batch=1, max_age=0, count_pending=False)
            assert r.ok and r.records == 1, r
        w1 = time.perf_counter()
        baseline = args.baseline / (w1 - w0)
        out["baseline"] = {"records_per_s": round(baseline, 1), "seconds": round(w1 - w0, 3), "records": args.baseline}
        out["speedup_sequential"] = round(out["sequential"]["records_per_s"] / baseline, 1)
        out["speedup_pipelined"] = round(out["pipelined"]["records_per_s"] / baseline, 1)

        # -- verification -----------------------------------------------------------------
        with factory() as s:
            bundles = list(itertools.islice(service.anchored_bundles(s), args.verify))
        w0 = time.perf_counter()
        for b in bundles:
            assert StandardMerkleTree.verify(b["root"], b["leafEncoding"], b["value"], b["proof"])
        w1 = time.perf_counter()
        out["offchain_verify_per_s"] = round(len(bundles) / (w1 - w0))
        quarter = bundles[: max(1, len(bundles) // 4)]
        w0 = time.perf_counter()
        for b in quarter:
            assert verify_offline(b).proof_ok
        w1 = time.perf_counter()
        out["offchain_full_bundle_check_per_s"] = round(len(quarter) / (w1 - w0))
        sample = bundles[: args.eth_calls]
        leaves = [leaf_hash(b["leafEncoding"], b["value"]) for b in sample]
        w0 = time.perf_counter()
        for b, leaf in zip(sample, leaves, strict=True):
            assert chain.verify_proof(b["proof"], b["root"], leaf)
        w1 = time.perf_counter()
        out["eth_call_verify_per_s"] = round(len(sample) / (w1 - w0), 1)
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chain", choices=["tester", "embedded"], default="tester")
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=5_000, help="records per committed insert transaction")
    parser.add_argument("--max-batch", type=int, default=10_000)
    parser.add_argument("--max-age", type=float, default=0.25, help="worker's batch age limit (pipelined run)")
    parser.add_argument("--baseline", type=int, default=100, help="records anchored one tx each")
    parser.add_argument("--verify", type=int, default=20_000)
    parser.add_argument("--eth-calls", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary directory")
    parser.add_argument("--wipe", action="store_true", help="empty the ledger tables of --database-url first")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args()
    out = run(args)
    if args.json:
        print(json.dumps(out))
        return
    seq, pipe, base = out["sequential"], out["pipelined"], out["baseline"]
    print(f"chain: {out['chain']}   database: {out['database']}   load average: {out['load_average']}")
    print(f"batched, one process   : {seq['records_per_s']:>9,} records/s  ({out['records']:,} records in "
          f"{seq['seconds']} s: store {seq['store_s']} s, batch+anchor+proofs {seq['anchor_s']} s, "
          f"{seq['batches']} txs; {seq['records_per_cpu_s']:,} records per CPU-second)")
    print(f"batched, API + worker  : {pipe['records_per_s']:>9,} records/s  (storing process and anchoring "
          f"worker at once; {pipe['seconds']} s, {pipe['batches']} txs)")
    print(f"one tx per record      : {base['records_per_s']:>9,} records/s  ({base['records']} records in {base['seconds']} s)")
    print(f"speed-up               : {out['speedup_sequential']:>9,}x one process, {out['speedup_pipelined']:,}x "
          f"API + worker   (targets: >= 100x, >= 20,000 records/s)")
    print(f"off-chain verify       : {out['offchain_verify_per_s']:>9,} proofs/s  (target >= 10,000)")
    print(f"full bundle check      : {out['offchain_full_bundle_check_per_s']:>9,} bundles/s (shape + leaf + Merkle)")
    print(f"verify via eth_call    : {out['eth_call_verify_per_s']:>9,} calls/s")


if __name__ == "__main__":
    main()
