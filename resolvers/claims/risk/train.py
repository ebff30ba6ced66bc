"""Train the claim risk model reproducibly on the demo data and print its evaluation.

Run::

    .venv/bin/python -m resolvers.claims.risk.train            # writes model.json beside it

The demo data is generated from a fixed seed: legitimate claims and a minority of
irregular ones (early claims, inflated bills dominated by one item, frequent and late
reporting), with noise and overlap so the task is not trivially separable. The figures
printed (ROC AUC, precision and recall at the routing thresholds) are measured on a
held-out quarter of the data, never on the training part.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import precision_score, recall_score, roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from resolvers.claims.risk.model import FEATURES, MODEL_PATH

__all__ = ["demo_data", "main", "train"]

SEED = 20260601
VERSION = "lr-2026.06-1"


def demo_data(n: int = 8000, seed: int = SEED) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Synthetic claims (features in FEATURES order) and labels (1 = irregular)."""
    rng = np.random.default_rng(seed)
    irregular = rng.random(n) < 0.12
    amount = np.where(irregular, rng.lognormal(8.6, 1.1, n), rng.lognormal(7.4, 1.0, n))
    policy_age = np.where(irregular, rng.exponential(0.35, n), rng.exponential(1.2, n))
    claims = np.where(irregular, rng.poisson(2.2, n), rng.poisson(0.8, n))
    amount_365 = claims * np.where(irregular, rng.lognormal(8.2, 1.0, n), rng.lognormal(7.2, 1.0, n))
    items = np.maximum(1, np.where(irregular, rng.poisson(2.0, n), rng.poisson(4.0, n)))
    share = np.clip(np.where(irregular, rng.beta(6, 2, n), rng.beta(3, 3, n)), 1 / items, 1.0)
    delay = np.where(irregular, rng.exponential(2.5, n), rng.exponential(0.8, n))
    weekend = (rng.random(n) < np.where(irregular, 0.4, 0.28)).astype(float)
    rejected = np.where(irregular, rng.poisson(0.5, n), rng.poisson(0.1, n))
    x = np.column_stack([np.log1p(amount), policy_age, claims, np.log1p(amount_365), items, share, delay,
                         weekend, rejected])
    return x, irregular.astype(int)


def train(seed: int = SEED, n: int = 8000) -> dict[str, Any]:
    """Fit scaler and logistic regression; returns the parameters and held-out metrics."""
    x, y = demo_data(n, seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=1000, random_state=seed).fit(scaler.transform(x_train), y_train)
    proba = model.predict_proba(scaler.transform(x_test))[:, 1]
    metrics: dict[str, float] = {"roc_auc": round(float(roc_auc_score(y_test, proba)), 4),
                                 "test_size": float(len(y_test)), "positive_rate": round(float(y_test.mean()), 4)}
    for threshold in (0.4, 0.7):
        pred = (proba >= threshold).astype(int)
        metrics[f"precision@{threshold}"] = round(float(precision_score(y_test, pred, zero_division=0)), 4)
        metrics[f"recall@{threshold}"] = round(float(recall_score(y_test, pred, zero_division=0)), 4)
    return {
        "version": VERSION, "seed": seed, "samples": n, "features": list(FEATURES),
        "mean": [round(float(v), 8) for v in scaler.mean_], "scale": [round(float(v), 8) for v in scaler.scale_],
        "coef": [round(float(v), 8) for v in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 8),
        "metrics": metrics,
    }


def main(argv: list[str] | None = None) -> None:
    """Train, print the evaluation, write model.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    params = train(args.seed)
    print(f"claim risk model {params['version']} (seed {params['seed']}, {params['samples']} demo claims)")
    for key, value in params["metrics"].items():
        print(f"  {key:<16} {value}")
    for name, coef in zip(FEATURES, params["coef"], strict=True):
        print(f"  weight {name:<20} {coef:+.3f}")
    assert not any(math.isnan(c) for c in params["coef"])
    args.output.write_text(json.dumps(params, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
