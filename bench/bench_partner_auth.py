"""What revocable partner tokens cost: the per-request revocation check, against no check.

Two bearer tokens of the same partner hit ``POST /graphql {__typename}`` through the real
app (uvicorn, the whole middleware stack), interleaved: one issued by ``/oauth/token`` (it
names its client, so every request runs the one indexed revocation query), and one minted
without a client (no query). The ratio is the check's price on a minimal request.

Usage::

    python bench/bench_partner_auth.py                  # SQLite, 2,000 rounds
    python bench/bench_partner_auth.py --database-url postgresql+psycopg://postgres@127.0.0.1/opsure_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import text

from bench.common import free_port, interleaved, percentile, serve_in_thread
from core.auth import Principal, Role, issue_token
from core.db import transaction
from core.settings import Settings
from opsure.app import create_app
from opsure.migrate import upgrade
from opsure.runtime import open_runtime
from partners import credentials, review
from partners import service as registry
from partners.models import PartnerKind

CHECKER = Principal(subject="bench-checker", role=Role.MANAGER)
QUERY = {"query": "{ __typename }"}


def main() -> None:
    """Run the benchmark and print p50/p95 and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=args.database_url, ledger_mode="off",
                            anchoring_in_process=False)
        runtime = open_runtime(settings)
        if args.database_url:
            with runtime.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        upgrade(runtime.engine)
        now = dt.datetime.now(dt.UTC)
        with transaction(runtime.session_factory) as s:
            partner = registry.register_partner(
                s, principal=Principal(subject="bench-maker", role=Role.AGENT), now=now, code="P-BENCH",
                name="Bench", kind=PartnerKind.ASSESSOR_FIRM,
                licences=[registry.LicenceSpec("LIC-1", "NFRA", dt.date(2025, 1, 1), dt.date(2099, 1, 1))])
            review.start_review(s, principal=CHECKER, partner_id=partner.id, now=now)
            review.approve(s, principal=CHECKER, partner_id=partner.id, now=now)
            client, secret = credentials.create_client(s, principal=CHECKER, partner_id=partner.id, label="b", now=now)
            client_id, partner_id = client.client_id, partner.id
        plain = issue_token(runtime.token_keys, settings, subject="bench", role=Role.PARTNER, partner_id=partner_id)
        port = free_port()
        with serve_in_thread(create_app(settings, runtime), port), \
                httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            login = http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                    "client_secret": secret})
            revocable = login.json()["access_token"]
            tokens = {"revocable": revocable, "no-client": plain}

            def send(name: str) -> None:
                r = http.post("/graphql", json=QUERY, headers={"authorization": f"Bearer {tokens[name]}"})
                assert r.status_code == 200, r.text

            results = interleaved(send, {name: name for name in tokens}, args.rounds, warmup=200)
        runtime.close()
    print(f"partner token check, POST /graphql {{__typename}}, {args.rounds} rounds "
          f"({'PostgreSQL' if args.database_url else 'SQLite'})")
    p50 = {}
    for name, samples in results.items():
        p50[name] = percentile(samples, 0.5) * 1000
        print(f"  {name:<10} p50 {p50[name]:7.3f} ms   p95 {percentile(samples, 0.95) * 1000:7.3f} ms")
    print(f"  ratio revocable/no-client p50: {p50['revocable'] / p50['no-client']:.2f}x "
          f"(+{p50['revocable'] - p50['no-client']:.3f} ms)")


if __name__ == "__main__":
    main()
