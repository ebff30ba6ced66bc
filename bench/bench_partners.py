"""Signed-record throughput: EIP-712 submissions verified and stored, against raw recovery.

"Verified and stored" is the whole service path of ``partners.signed_records``: typed data
parsed and checked against the domain, low-s checked, deadline, assignment, signature
recovered (coincurve), signer key and its status, nonce unused; then nonce, signed record
and ledger record (canonical JSON, HMAC commitment, AES-GCM at rest, outbox) written in
committed DB transactions. The baseline, in the same run and process over the same
signatures: raw recovery only (``coincurve.PublicKey.from_signature_and_message`` + the
keccak address), no hashing of the typed data, no database.

Usage::

    python bench/bench_partners.py                       # 20,000 surveys, batches of 1,000
    python bench/bench_partners.py --records 50000 --batch 2000
    python bench/bench_partners.py --single 2000         # also one submission per transaction
    python bench/bench_partners.py --database-url postgresql+psycopg://postgres@127.0.0.1/opsure_partners_dev

Target: >= 5,000 verified and stored submissions/s.
"""

from __future__ import annotations

import os

os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")  # eth-account's keccak: 7x pycryptodome's

import argparse
import datetime as dt
import gc
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import coincurve
from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy import func, select, text

from core.auth import Principal, Role
from core.crypto import FieldKeys, install_field_keys
from core.db import make_engine, make_session_factory, transaction
from ledger.commitments import TenantKey, install_tenant_key
from ledger.merkle import keccak256
from opsure.migrate import upgrade
from partners import assignments, eip712, keys, review, signed_records
from partners import service as registry
from partners.models import AssignmentKind, PartnerKind, SignedRecord
from partners.verification import verification_pool

NOW = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
MAKER = Principal(subject="bench-maker", role=Role.AGENT)
CHECKER = Principal(subject="bench-checker", role=Role.MANAGER)
DOMAIN = eip712.Domain(chain_id=1337, verifying_contract="0x" + "5a" * 20)


def setup(url: str, *, signers: int, cases: int) -> tuple[Any, Principal, list[Any], list[Any]]:
    """A migrated database with one approved assessor firm, its keys and survey assignments."""
    engine = make_engine(url)
    if not url.startswith("sqlite"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    factory = make_session_factory(engine)
    accounts = [Account.create() for _ in range(signers)]
    with transaction(factory) as s:
        firm = registry.register_partner(
            s, principal=MAKER, code="BENCH-FIRM", name="Bench Assessors", kind=PartnerKind.ASSESSOR_FIRM, now=NOW,
            licences=[registry.LicenceSpec("L-1", "NFRA", dt.date(2025, 1, 1), dt.date(2099, 1, 1))])
        review.start_review(s, principal=CHECKER, partner_id=firm.id, now=NOW)
        review.approve(s, principal=CHECKER, partner_id=firm.id, now=NOW)
        for acct in accounts:
            keys.register_key(s, principal=CHECKER, partner_id=firm.id, address=acct.address, now=NOW)
        cases_ = [assignments.create_assignment(s, principal=CHECKER, partner_id=firm.id, kind=AssignmentKind.SURVEY,
                                                case_reference=f"CLM-{i}", investigation_id=1000 + i, now=NOW)
                  for i in range(cases)]
        case_refs = [(c.investigation_id, c.case_reference) for c in cases_]
    principal = Principal(subject="partner-client:bench", role=Role.PARTNER, partner_id=firm.id)
    return factory, principal, accounts, case_refs


def presign(accounts: list[Any], cases: list[Any], n: int, offset: int) -> list[signed_records.Submission]:
    """``n`` survey submissions (digest by eth-account's public API, signed with coincurve)."""
    rng = random.Random(offset)
    keys_ = {a.address: coincurve.PrivateKey(bytes(a.key)) for a in accounts}
    out = []
    for i in range(n):
        acct = accounts[i % len(accounts)]
        inv, ref = cases[rng.randrange(len(cases))]
        message = {
            "investigationId": inv, "caseReference": ref, "findingsCommitment": "0x" + rng.randbytes(32).hex(),
            "conclusionCode": rng.randrange(8), "assessor": acct.address, "nonce": offset + i,
            "deadline": 4102444800,
        }
        payload = eip712.typed_data("SurveyReport", message, DOMAIN)
        signable = encode_typed_data(full_message=payload)
        digest = keccak256(b"\x19\x01" + signable.header + signable.body)
        sig = keys_[acct.address].sign_recoverable(digest, hasher=None)  # r ‖ s ‖ recid, low-s
        out.append(signed_records.Submission(json.loads(json.dumps(payload)), "0x" + sig[:64].hex()
                                             + format(sig[64] + 27, "02x")))
    return out


def raw_recovery(subs: list[signed_records.Submission]) -> float:
    """Recoveries per second over the submissions' (digest, signature) pairs."""
    pairs = []
    for sub in subs:
        record = eip712.parse_typed_data(sub.typed_data, expected=DOMAIN)
        pairs.append((eip712.digest(record, DOMAIN), eip712.parse_signature(sub.signature)))
    start = time.perf_counter()
    for digest, sig in pairs:
        key = coincurve.PublicKey.from_signature_and_message(sig, digest, hasher=None)
        keccak256(key.format(compressed=False)[1:])
    return len(pairs) / (time.perf_counter() - start)


def verified_and_stored(factory: Any, principal: Principal, subs: list[Any], batch: int,
                        executor: Any = None) -> float:
    """Submissions per second through the service in committed batches.

    Without ``executor``: ``verify_and_store`` per batch, all in this process. With one:
    ``ingest``, which checks batch k+1 on the executor's processes while batch k is stored.
    """
    batches = [subs[i : i + batch] for i in range(0, len(subs), batch)]
    start = time.perf_counter()
    if executor is None:
        outcomes = []
        for part in batches:
            with transaction(factory) as s:
                outcomes.extend(signed_records.verify_and_store(s, principal=principal, domain=DOMAIN,
                                                                submissions=part, now=NOW))
    else:
        outcomes = [o for done in signed_records.ingest(factory, principal=principal, domain=DOMAIN,
                                                        batches=batches, now=lambda: NOW, executor=executor)
                    for o in done]
    elapsed = time.perf_counter() - start
    bad = [o.error for o in outcomes if o.error]
    if bad or len(outcomes) != len(subs):
        raise SystemExit(f"unexpected refusal: {bad[:1]}")
    return len(subs) / elapsed


def single(factory: Any, principal: Principal, subs: list[Any]) -> float:
    """Submissions per second, one per committed transaction."""
    start = time.perf_counter()
    for sub in subs:
        with transaction(factory) as s:
            signed_records.submit_signed_record(s, principal=principal, domain=DOMAIN, typed_data=sub.typed_data,
                                                signature=sub.signature, now=NOW)
    return len(subs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--signers", type=int, default=50)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--single", type=int, default=0, help="also time N one-per-transaction submissions")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="verification worker processes for the parse/hash/recover half (0: none)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    install_field_keys(FieldKeys.generate())
    install_tenant_key(TenantKey.generate())
    tmp = Path(tempfile.mkdtemp(prefix="opsure-bench-partners-"))
    try:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        factory, principal, accounts, cases = setup(url, signers=args.signers, cases=args.cases)
        t = time.perf_counter()
        subs = presign(accounts, cases, args.records, 0)
        print(f"pre-signed {len(subs):,} surveys in {time.perf_counter() - t:.1f}s "
              f"({args.signers} signers, {args.cases} investigations; {url.split(':')[0]})")
        gc.freeze()  # the pre-signed corpus is input, not the system under test: keep it out of GC scans
        pool = verification_pool(args.workers) if args.workers else None
        warm = presign(accounts, cases, 2_000, 10_000_000)
        verified_and_stored(factory, principal, warm, 1_000, pool)  # start the workers, warm caches
        half = len(subs) // 2
        raw = raw_recovery(subs)
        inline = verified_and_stored(factory, principal, subs[:half], args.batch)
        full = verified_and_stored(factory, principal, subs[half:], args.batch, pool) if pool else inline
        with factory() as s:
            stored = s.scalar(select(func.count()).select_from(SignedRecord))
        print(f"raw signature recovery (coincurve + keccak address): {raw:>10,.0f} /s")
        print(f"verified + stored, one process (verify_and_store):   {inline:>10,.0f} /s "
              f"({inline / raw:.0%} of raw recovery)")
        if pool:
            print(f"verified + stored, {args.workers} check processes (ingest):  {full:>10,.0f} /s "
                  f"({full / raw:.0%} of raw recovery)")
        print(f"batches of {args.batch:,}; {stored:,} rows stored in all")
        if args.single:
            one = single(factory, principal, presign(accounts, cases, args.single, 20_000_000))
            print(f"verified + stored, one per transaction:          {one:>10,.0f} /s")
        best = max(full, inline)
        print(f"target >= 5,000 /s: {'met' if best >= 5000 else 'NOT met'} ({best:,.0f} /s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
