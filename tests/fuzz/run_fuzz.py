"""The long fuzz run (``make fuzz``): schemathesis against the GraphQL API, every role.

Builds a throwaway data directory and database (SQLite; the PostgreSQL schema named by
``OPSURE_TEST_DATABASE_URL`` when set, dropped and migrated as the test suite does), seeds
a customer, a policy, a claim and a hospital, then sends at least ``--cases`` generated
cases through the real ASGI app. Prints the count and every failure with a reproducer;
exits 1 on any failure or when fewer cases than asked for were sent.

    python -m tests.fuzz.run_fuzz [--cases 10000] [--seed N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from starlette.testclient import TestClient

from core.db import make_engine
from core.settings import Settings
from opsure.app import create_app
from opsure.migrate import upgrade
from opsure.runtime import open_runtime
from tests.fuzz.graphql_fuzz import FuzzReport, fuzz, load_schema, principal_tokens, render_findings, seed

DEFAULT_CASES = 10_000


def _database_url(data_dir: Path) -> str:
    """A migrated throwaway database: the test PostgreSQL schema when configured, else a SQLite file."""
    url = os.environ.get("OPSURE_TEST_DATABASE_URL") or f"sqlite:///{data_dir / 'fuzz.db'}"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return url


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer; 0 when every case got a well-formed answer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="cases to send at least")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: a random one)")
    args = parser.parse_args(argv)
    run_seed = args.seed if args.seed is not None else random.randrange(2**32)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="opsure-fuzz-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        settings = Settings(data_dir=data_dir, database_url=_database_url(data_dir), ledger_mode="off",
                            anchoring_in_process=False)
        runtime = open_runtime(settings)
        tokens = principal_tokens(runtime, seed(runtime.session_factory))
        schema = load_schema(runtime)

        def progress(run: FuzzReport) -> None:
            print(f"\r{run.cases} cases, {len(run.findings)} failures", end="", file=sys.stderr, flush=True)

        with TestClient(create_app(settings, runtime)) as client:
            report = fuzz(client, tokens, schema, cases=args.cases, seed=run_seed, on_progress=progress)
        runtime.close()
    print(file=sys.stderr)
    if report.findings:
        print(render_findings(report.findings), end="\n\n")
    print(report.summary())
    print(f"seed {run_seed}; {time.monotonic() - started:.0f} s")
    if report.cases < args.cases:
        print(f"FAIL: {report.cases} cases sent, fewer than {args.cases}")
        return 1
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())
