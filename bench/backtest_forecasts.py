"""Backtest the analytics forecasts on demo history: errors and interval coverage, printed, not claimed.

Loads the demo's policy history (``opsure.demo.load_demo``: products, customers, two years of
policies, renewals and surrenders) into a temporary SQLite database, rebuilds the rollups, then
for several forecast origins over the last months fits the ETS model on the year before each
origin and forecasts the next ``--horizon`` days. Printed per metric: MAE of the model and of
the seasonal-naive forecast (the same weekday a week earlier), their ratio (below 1: the model
beats naive), sMAPE, and how often the actual fell inside the prediction interval (the nominal
level is 95%). The data are synthetic; the figures describe this generator, not a real book.

Run::

    .venv/bin/python bench/backtest_forecasts.py                   # 1500 customers, 8 origins, 14 days
    .venv/bin/python bench/backtest_forecasts.py --customers 3000 --origins 12
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db import transaction  # noqa: E402
from core.settings import Settings  # noqa: E402
from opsure.demo import load_demo  # noqa: E402
from opsure.migrate import upgrade  # noqa: E402
from opsure.runtime import open_runtime  # noqa: E402
from resolvers.analytics import service as analytics  # noqa: E402

TODAY = dt.date(2026, 6, 1)
METRICS = ("written_premium", "policies_issued")


def backtest(session: object, metric: str, *, origins: int, horizon: int, history: int) -> dict[str, float]:
    """Errors of the model and of seasonal naive over ``origins`` origins spaced ``horizon`` days apart."""
    model_err: list[float] = []
    naive_err: list[float] = []
    smape: list[float] = []
    inside = total = 0
    for k in range(origins, 0, -1):
        origin = TODAY - dt.timedelta(days=k * horizon)
        f = analytics.forecast(session, metric=metric, end=origin, horizon=horizon, history_days=history)  # type: ignore[arg-type]
        s = analytics.series(session, metric=metric, start=origin - dt.timedelta(days=6),  # type: ignore[arg-type]
                             end=origin + dt.timedelta(days=horizon), bucket=analytics.Bucket.DAY)
        values = [float(p.value or 0) for p in s.points]
        last_week, actual = values[:7], values[7:]
        for i, (p, a) in enumerate(zip(f.points, actual, strict=True)):
            naive = last_week[i % 7] if i < 7 else actual[i - 7]
            model_err.append(abs(float(p.mean) - a))
            naive_err.append(abs(naive - a))
            denom = abs(float(p.mean)) + abs(a)
            smape.append(0.0 if denom == 0 else 2 * abs(float(p.mean) - a) / denom)
            inside += float(p.low) <= a <= float(p.high)
            total += 1
    mae, naive_mae = statistics.mean(model_err), statistics.mean(naive_err)
    return {"mae": mae, "naive_mae": naive_mae, "ratio": mae / naive_mae if naive_mae else float("nan"),
            "smape": statistics.mean(smape), "coverage": inside / total, "points": total}


def main(argv: list[str] | None = None) -> None:
    """Load, rebuild, backtest, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1500)
    parser.add_argument("--origins", type=int, default=8)
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--history", type=int, default=365)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = open_runtime(Settings(data_dir=Path(tmp), ledger_mode="off"))
        upgrade(runtime.engine)
        t0 = time.perf_counter()
        counts = load_demo(runtime, customers=args.customers, years=2, seed=7, today=TODAY)
        with transaction(runtime.session_factory) as s:
            analytics.rebuild(s)
        print(f"demo history: {counts['customers']} customers, {counts['policies']} policies "
              f"({time.perf_counter() - t0:.0f} s to load and roll up); origins {args.origins} x {args.horizon} days "
              f"before {TODAY}, each fitted on {args.history} days; data: synthetic")
        print(f"{'metric':<18}{'MAE':>10}{'naive MAE':>11}{'ratio':>7}{'sMAPE':>8}{'in 95% PI':>11}{'points':>8}")
        with runtime.session_factory() as s:
            for metric in METRICS:
                r = backtest(s, metric, origins=args.origins, horizon=args.horizon, history=args.history)
                print(f"{metric:<18}{r['mae']:>10.2f}{r['naive_mae']:>11.2f}{r['ratio']:>7.2f}{r['smape']:>8.2f}"
                      f"{r['coverage']:>10.0%}{int(r['points']):>8}")
        runtime.close()


if __name__ == "__main__":
    main()
