"""Advances: application to payout on the pay-first path per second, against fast-claim on the same run.

One process builds the demo's policy history (``bench.common.build_data``, fixed seed and
date) in a temporary directory, registers every claimant's bank account, and prepares, untimed:
small complete claims reported with an invoice (``bench_claims.generate_claims``), and for as
many other policies a credit provider's signed CreditReport (EIP-712, verified and committed to
the ledger outbox) at the pay-first band. Then, interleaved one by one in the same process:

(a) fast-claim: ``claims.service.submit_claim`` of a small claim, one transaction: risk profile,
    decision tables, model, benefit calculation, the payout instructed on the rail, commit;
(b) pay-first advance: ``advances.service.apply_advance`` with the credit report, one
    transaction: eligibility (policy, diagnosis, product cap, annual limit still open, open
    advances), the signed report's case, age and band, the advance, the payout instructed on
    the rail, events, commit.

Both stop at the instruction; the bank's part (export to a batch file, returns file read,
the advance PAID with its schedule, the claim PAID) is timed once for everything at the end,
per instruction. Nothing asserts on time. Run::

    .venv/bin/python bench/bench_advances.py                 # 300 customers, 150 of each
    .venv/bin/python bench/bench_advances.py --count 400 --customers 600
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import secrets
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.bench_claims import generate_claims
from bench.common import DEMO_TODAY, BenchEnv, build_data, percentile
from core.auth import Principal, Role

TODAY = DEMO_TODAY
NOW = dt.datetime.combine(TODAY, dt.time(2), dt.UTC)
AGENT = Principal(subject="bench-agent", role=Role.AGENT)
ADJUSTER = Principal(subject="bench-adjuster", role=Role.ADJUSTER)


def register_accounts(env: BenchEnv) -> int:
    """Every customer registers the bank account payouts go to (untimed)."""
    from core.db import transaction
    from resolvers.payments import service as rail
    from resolvers.policies.models import Customer

    with transaction(env.runtime.session_factory) as s:
        ids = list(s.scalars(select(Customer.id)))
        for cid in ids:
            rail.register_account(s, principal=ADJUSTER, payee=rail.Payee(rail.PayeeKind.CUSTOMER, cid),
                                  bank_code="ICBC", account_number=f"6222{cid:015d}", holder_name="客户")
    return len(ids)


def credit_reports(env: BenchEnv, policy_ids: list[int]) -> dict[int, int]:
    """A credit provider (registered, approved, with a key) signs a band-4 report per policy's case (untimed)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    from core.db import transaction
    from partners import assignments, keys, review, signed_records
    from partners import service as registry
    from partners.eip712 import Domain, typed_data
    from partners.models import AssignmentKind, PartnerKind
    from resolvers.policies.models import Policy

    maker = Principal(subject="bench-maker", role=Role.AGENT)
    checker = Principal(subject="bench-checker", role=Role.MANAGER)
    domain = Domain(chain_id=1337, verifying_contract="0x" + "5a" * 20)
    account = Account.create()
    nonce = itertools.count(1)
    out: dict[int, int] = {}
    with transaction(env.runtime.session_factory) as s:
        bureau = registry.register_partner(
            s, principal=maker, code="BENCH-CREDIT", name="Bench Credit", kind=PartnerKind.CREDIT_PROVIDER,
            licences=[registry.LicenceSpec("LIC-BENCH", "PBOC", dt.date(2025, 1, 1), dt.date(2099, 1, 1))], now=NOW)
        review.start_review(s, principal=checker, partner_id=bureau.id, now=NOW)
        review.approve(s, principal=checker, partner_id=bureau.id, now=NOW)
        keys.register_key(s, principal=checker, partner_id=bureau.id, address=account.address, now=NOW)
        bureau_principal = Principal(subject="bench-bureau", role=Role.PARTNER, partner_id=bureau.id)
        numbers = {pid: number for pid, number in s.execute(
            select(Policy.id, Policy.number).where(Policy.id.in_(policy_ids)))}
        for pid in policy_ids:
            case = f"ADV-{numbers[pid]}"
            assignments.create_assignment(s, principal=ADJUSTER, partner_id=bureau.id,
                                          kind=AssignmentKind.CREDIT_REPORT, case_reference=case,
                                          investigation_id=None, now=NOW)
            message = {"caseReference": case, "reportReference": f"R-{pid}", "scoreBand": 4,
                       "reportCommitment": "0x" + secrets.token_bytes(32).hex(), "issuedOn": TODAY.isoformat(),
                       "bureau": account.address, "nonce": next(nonce), "deadline": 4102444800}
            payload = typed_data("CreditReport", message, domain)
            signature = "0x" + bytes(account.sign_message(encode_typed_data(full_message=payload)).signature).hex()
            out[pid] = signed_records.submit_signed_record(s, principal=bureau_principal, domain=domain,
                                                           typed_data=payload, signature=signature, now=NOW).id
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=300)
    ap.add_argument("--count", type=int, default=150, help="claims and advances each")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    args = ap.parse_args(argv)

    from core.db import transaction
    from partners.risk import consortium_key
    from resolvers.advances import service as advances
    from resolvers.claims import service as claims
    from resolvers.claims.models import Claim
    from resolvers.payments import jobs
    from resolvers.payments.adapter import FileRailAdapter
    from resolvers.payments.bankfile import answer_batch
    from resolvers.policies.models import Policy, PolicyStatus

    with tempfile.TemporaryDirectory(prefix="opsure-bench-advances-") as tmp:
        t0 = time.perf_counter()
        env = build_data(Path(tmp) / "data", customers=args.customers, database_url=args.database_url)
        accounts = register_accounts(env)
        drafts = generate_claims(env, claims=args.count * 3 // 2)["fast"][: args.count]
        with env.runtime.session_factory() as s:
            claimed = set(s.scalars(select(Claim.policy_id)))
            free = [p.id for p in s.scalars(select(Policy).where(
                Policy.status == PolicyStatus.ACTIVE, Policy.period_start <= TODAY - dt.timedelta(days=30),
                Policy.period_end >= TODAY).order_by(Policy.id))
                if p.id not in claimed and not p.exclusions][: args.count]  # nothing excluded: J18.9 is covered
        reports = credit_reports(env, free)
        n = min(len(drafts), len(free))
        print(f"data: {env.runtime.engine.url.render_as_string(hide_password=True)} ({args.customers} customers, "
              f"{accounts} bank accounts, {n} small claims and {n} signed credit reports, ready in "
              f"{time.perf_counter() - t0:.1f} s)")

        extra = dict(env.runtime.settings.extra)
        consortium = consortium_key(env.runtime.settings.keys_dir)
        config = advances.AdvanceConfig.from_extra(extra)
        times: dict[str, list[float]] = {"fast-claim": [], "advance": []}
        outcomes: dict[str, dict[str, int]] = {"fast-claim": {}, "advance": {}}
        for i in range(n):  # interleaved: both see the same machine, cache and database state
            t = time.perf_counter()
            with transaction(env.runtime.session_factory) as s:
                claim = claims.submit_claim(s, principal=ADJUSTER, claim_id=drafts[i], expected_version=None,
                                            today=TODAY, now=NOW, extra=extra, consortium=consortium)
                state = claim.state.value + (" (fast)" if claim.fast_track else "")
            times["fast-claim"].append(time.perf_counter() - t)
            outcomes["fast-claim"][state] = outcomes["fast-claim"].get(state, 0) + 1
            t = time.perf_counter()
            with transaction(env.runtime.session_factory) as s:
                advance = advances.apply_advance(
                    s, principal=AGENT, policy_id=free[i], diagnosis_code="J18.9",
                    admission_date=TODAY - dt.timedelta(days=1), hospital="浙江大学医学院附属第一医院",
                    amount=Decimal("3000.00"), credit_report_id=reports[free[i]], today=TODAY, now=NOW, config=config)
                state = advance.state.value
            times["advance"].append(time.perf_counter() - t)
            outcomes["advance"][state] = outcomes["advance"].get(state, 0) + 1

        print("application to payout instruction, one transaction each, interleaved:")
        for name, label in (("fast-claim", "fast-claim submit_claim"), ("advance", "pay-first apply_advance")):
            ts = times[name]
            print(f"  {label:<26} {len(ts) / sum(ts):7.1f} /s   p50 {percentile(ts, 0.5) * 1000:6.2f} ms   "
                  f"p95 {percentile(ts, 0.95) * 1000:6.2f} ms   outcomes {dict(sorted(outcomes[name].items()))}")
        ratio = (len(times["advance"]) / sum(times["advance"])) / (len(times["fast-claim"]) / sum(times["fast-claim"]))
        print(f"  ratio advance / fast-claim: {ratio:.2f}x")

        adapter = FileRailAdapter(env.runtime.settings.data_dir / "payments")
        t = time.perf_counter()
        sent = jobs.export_batches(env.runtime.session_factory, NOW, adapter)
        t_export = time.perf_counter() - t
        for batch in adapter.outbox.glob("*.txt"):
            name, text = answer_batch(batch.read_text(encoding="utf-8"), date_iso=TODAY.isoformat())
            adapter.drop_returns(name, text)
        t = time.perf_counter()
        summary = jobs.import_returns(env.runtime.session_factory, NOW, adapter)
        t_import = time.perf_counter() - t
        print(f"the bank's part: {sent} instructions exported in {t_export * 1000:.0f} ms "
              f"({sent / t_export:.0f}/s), returns read and applied in {t_import * 1000:.0f} ms "
              f"({summary.settled / t_import:.0f}/s; advances PAID with their schedules, claims PAID)")
        with env.runtime.session_factory() as s:
            states = {st.value: advances.count_advances(s, principal=ADJUSTER, state=st)
                      for st in advances.AdvanceState}
        print(f"  advances after the bank: { {k: v for k, v in states.items() if v} }")
        env.runtime.close()


if __name__ == "__main__":
    main()
