"""The claims rule library: testing a drafted version against past claims, and the compiled-table cache.

One process builds demo policies (``bench.common.build_data``, fixed seed) in a temporary
directory, reports and submits claims through the claims services (risk control judges each
with the live version), then measures in the same process:

(a) ``testClaimRuleVersion``'s work (``rules_service.test_version`` over the last N claims:
    facts and risk profile read back per claim, the judging version and the candidate each
    run) as claims/s, against the baseline of risk control alone over the same claims' facts
    (``assess_risk`` once per claim, facts in memory): the ratio says what re-reading the
    history and running two versions costs per claim;
(b) evaluating a version through the compiled-table cache (``rules.compiled``, keyed by the
    table's digest) against compiling the JDM document on every evaluation, per call.

Nothing asserts on time. Run::

    .venv/bin/python bench/bench_rules.py              # 200 claims
    .venv/bin/python bench/bench_rules.py --claims 500
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.common import DEMO_TODAY, build_data
from core.auth import Principal, Role
from core.clock import moved_clock
from core.db import transaction
from resolvers.claims import service
from resolvers.claims.models import ClaimChannel, ClaimDocument, DocumentKind
from resolvers.claims.risk import rules_service
from resolvers.claims.risk.profile import risk_profile
from resolvers.claims.risk.rules import RuleLibrary, available_versions, builtin_document, compiled
from resolvers.claims.risk.scoring import RiskThresholds, assess_risk
from resolvers.policies.models import Policy, PolicyStatus

MANAGER = Principal(subject="bench-risk-manager", role=Role.MANAGER)
ADJUSTER = Principal(subject="bench-adjuster", role=Role.ADJUSTER)


def _submit_claims(env: object, count: int, now: dt.datetime) -> None:
    sessions = env.runtime.session_factory  # type: ignore[attr-defined]
    with sessions() as s:
        policies = list(s.scalars(select(Policy).where(
            Policy.status == PolicyStatus.ACTIVE, Policy.period_start <= DEMO_TODAY - dt.timedelta(days=60),
            Policy.period_end >= DEMO_TODAY).limit(count)))
    today = DEMO_TODAY
    for i, policy in enumerate(policies[:count]):
        amount = Decimal(600 + (i * 137) % 9000)
        start = today - dt.timedelta(days=5 + i % 20)
        with transaction(sessions) as s:
            customer = Principal(subject=f"customer-{policy.customer_id}", role=Role.CUSTOMER,
                                 customer_id=policy.customer_id)
            claim = service.report_claim(
                s, principal=customer, policy_id=policy.id, event_date=start, admission_date=start,
                discharge_date=start + dt.timedelta(days=2), hospital="bench hospital", diagnosis_code="J18.9",
                claimed_amount=amount, channel=ClaimChannel.AGENT,
                items=[service.LineItemSpec("BED", "inpatient", amount)], today=today, now=now)
            s.add(ClaimDocument(claim_id=claim.id, kind=DocumentKind.INVOICE, filename="i.pdf",
                                content_type="application/pdf", size=1, sha256=f"{claim.id:064x}",
                                storage_key=f"bench/{claim.id}", uploaded_by="bench"))
            s.flush()
            service.submit_claim(s, principal=ADJUSTER, claim_id=claim.id, expected_version=None, today=today,
                                 now=now)


def _candidate() -> dict[str, object]:
    document = builtin_document(available_versions()[-1])
    document = {**document, "version": "bench"}
    table = next(n["content"] for n in document["nodes"] if n["type"] == "decisionTableNode")  # type: ignore[index]
    table["rules"] = [*table["rules"], {**table["rules"][3], "_id": "rb", "amount": "> 3000",
                                        "code": "'BENCH_MID_AMOUNT'"}]
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    now = dt.datetime.combine(DEMO_TODAY, dt.time(4), dt.UTC)
    with tempfile.TemporaryDirectory() as tmp, moved_clock(now):
        env = build_data(Path(tmp), customers=max(args.claims, 100))
        _submit_claims(env, args.claims, now)
        sessions = env.runtime.session_factory
        with transaction(sessions) as s:
            draft = rules_service.draft_version(s, principal=MANAGER, label="bench-1", description="",
                                                document={k: v for k, v in _candidate().items() if k != "version"},
                                                now=now)
            draft_id = draft.id
        test_rates, base_rates = [], []
        for _ in range(args.repeat):
            with transaction(sessions) as s:
                started = time.perf_counter()
                report = rules_service.test_version(s, principal=MANAGER, version_id=draft_id, last=min(args.claims,
                                                    rules_service.MAX_TEST_CLAIMS), now=now)
                test_rates.append(len(report.results) / (time.perf_counter() - started))
            with sessions() as s:  # baseline: risk control alone over the same claims' facts, in memory
                facts = [rules_service.claim_facts(s, c) for c in (r.claim for r in report.results)]
                profiles = [risk_profile(s, customer_id=r.claim.customer_id, today=f[2]) for r, f in
                            zip(report.results, facts, strict=True)]
                library = rules_service.live_library(s)
                started = time.perf_counter()
                for (fact, _, _), profile in zip(facts, profiles, strict=True):
                    assess_risk(fact, profile, RiskThresholds(), library=library)
                base_rates.append(len(facts) / (time.perf_counter() - started))
        best_test, best_base = max(test_rates), max(base_rates)
        print(f"(a) testClaimRuleVersion over {len(report.results)} claims: {best_test:,.0f} claims/s; "
              f"risk control alone: {best_base:,.0f} claims/s; ratio {best_test / best_base:.2f} "
              f"({report.changed} would change)")
        document = _candidate()
        facts_json = {"claim": {"amount": 6000.0, "itemCount": 1, "duplicate": False, "diagnosis": "J18.9",
                                "maxLineShare": 1.0, "reportDelayDays": 3, "weekendAdmission": False},
                      "policy": {"ageDays": 200}, "history": {"claims365": 1, "sharedFlags": 0}}
        n = 300
        started = time.perf_counter()
        for _ in range(n):
            compiled(document, "bench-digest").evaluate(facts_json)
        cached = n / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(n):
            RuleLibrary(document).evaluate(facts_json)
        fresh = n / (time.perf_counter() - started)
        print(f"(b) evaluations through the compiled cache: {cached:,.0f}/s; compiling each time: {fresh:,.0f}/s; "
              f"ratio {cached / fresh:.1f}")


if __name__ == "__main__":
    main()
