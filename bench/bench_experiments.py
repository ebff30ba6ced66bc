"""Experiments: variant assignments per second, Opsure's against the GrowthBook SDK in the same run.

One process, N subjects (default 20,000), one experiment (two variants 50/50, coverage 0.9, a
namespace range [0, 0.8), hash v2), measured in turn:

(a) the GrowthBook SDK: ``GrowthBook(attributes={"id": subject}).run(Experiment(...))`` per
    subject (a client per user, as a server evaluates a request);
(b) Opsure's pure assignment (``experiments._bucket``: namespace, hash, bucket ranges), the part
    that must equal the SDK: every subject's variant is compared with (a) and a mismatch stops
    the run;
(c) ``variant()`` as flows call it, inside the flow's own transaction (here one per 1,000 asks),
    on a fresh SQLite (or ``--database-url``) database: the first ask of each subject (reads the
    flow's experiments, the override and sticky rows, inserts the exposure);
(d) the same subjects asked again (sticky: the stored exposure answers);
(e) for reference, the first ask in a transaction of its own (commit included) for 1,000 new
    subjects.

Rates are per assignment; ratios are against (a). Nothing asserts on time. Run::

    .venv/bin/python bench/bench_experiments.py
    .venv/bin/python bench/bench_experiments.py --subjects 5000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/opsure_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from growthbook import Experiment as GbExperiment
from growthbook import GrowthBook
from sqlalchemy import func, select, text

from core.auth import Principal, Role
from core.db import make_engine, make_session_factory, transaction
from opsure.migrate import upgrade
from resolvers.operations import experiments
from resolvers.operations.experiments import ExperimentSpec
from resolvers.operations.models import Experiment, ExperimentExposure, Flow

NOW = dt.datetime(2026, 11, 11, 2, tzinfo=dt.UTC)
MANAGER = Principal(subject="bench", role=Role.MANAGER)
WEIGHTS, COVERAGE, NAMESPACE = [0.5, 0.5], 0.9, ("claim", 0.0, 0.8)


def _rate(label: str, n: int, run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    print(f"{label:<58} {n / seconds:>12,.0f}/s  ({seconds:.2f} s)")
    return n / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    subjects = [f"customer:{i}" for i in range(args.subjects)]
    n = len(subjects)

    sdk_variants: list[int] = []

    def sdk() -> None:
        for s in subjects:
            r = GrowthBook(attributes={"id": s}).run(GbExperiment(
                key="claim-fast", variations=[0, 1], weights=WEIGHTS, coverage=COVERAGE, namespace=NAMESPACE,
                hashVersion=2))
            sdk_variants.append(r.variationId if r.inExperiment else -1)

    row = Experiment(key="claim-fast", flow=Flow.CLAIM, variants=[{"key": "fast", "weight": 0.5},
                                                                  {"key": "standard", "weight": 0.5}],
                     coverage=COVERAGE, namespace=NAMESPACE[0], namespace_start=NAMESPACE[1],
                     namespace_end=NAMESPACE[2], seed="claim-fast", hash_version=2)
    ours: list[int] = []

    def pure() -> None:
        ours.extend(experiments._bucket(row, s) for s in subjects)

    base = _rate("(a) GrowthBook SDK run()", n, sdk)
    fast = _rate("(b) Opsure assignment (pure)", n, pure)
    if ours != sdk_variants:
        sys.exit("MISMATCH: Opsure's assignment differs from the SDK's")
    print(f"    identical for all {n:,} subjects; in experiment: {sum(v >= 0 for v in ours):,}")

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        if args.database_url:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        factory = make_session_factory(engine)
        with transaction(factory) as s:
            exp = experiments.create_experiment(s, principal=MANAGER, now=NOW, spec=ExperimentSpec(
                key="claim-fast", flow=Flow.CLAIM, variants=[("fast", 0.5), ("standard", 0.5)], coverage=COVERAGE,
                namespace=NAMESPACE[0], namespace_start=NAMESPACE[1], namespace_end=NAMESPACE[2]))
            experiments.set_status(s, principal=MANAGER, experiment_id=exp.id, action="start",
                                   expected_version=None, now=NOW)
        got: list[str] = []

        def ask() -> None:
            for i in range(0, n, 1000):
                with transaction(factory) as s:
                    got.extend(experiments.variant(s, flow=Flow.CLAIM, subject=subj, now=NOW).variant
                               for subj in subjects[i:i + 1000])

        def ask_alone() -> None:
            for i in range(1000):
                with transaction(factory) as s:
                    experiments.variant(s, flow=Flow.CLAIM, subject=f"alone:{i}", now=NOW)

        first = _rate("(c) variant(): first ask, exposure logged", n, ask)
        again = _rate("(d) variant(): sticky re-ask", n, ask)
        alone = _rate("(e) variant(): first ask, one transaction (commit) each", 1000, ask_alone)
        with factory() as s:
            logged = s.scalar(select(func.count()).select_from(ExperimentExposure))
        expected = [("fast", "standard")[v] if v >= 0 else "fast" for v in ours]
        alone_in = sum(experiments._bucket(row, f"alone:{i}") >= 0 for i in range(1000))
        if got[:n] != expected or got[n:] != expected or logged != sum(v >= 0 for v in ours) + alone_in:
            sys.exit("MISMATCH: variant() disagrees with the assignment or the exposure log")
        print(f"    exposures logged once each: {logged:,}")
        engine.dispose()
    print(f"ratios against the SDK: pure {fast / base:.1f}x, variant() first ask {first / base:.2f}x, "
          f"sticky {again / base:.2f}x, one transaction each {alone / base:.3f}x")


if __name__ == "__main__":
    main()
