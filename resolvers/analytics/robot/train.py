"""Train the high-risk monitoring robot reproducibly on the demo's labelled customers; print its evaluation.

Run::

    .venv/bin/python -m resolvers.analytics.robot.train      # writes model.json beside it

The labelled data set is synthetic, generated from a fixed seed the way the demo writes its
customers: most are ordinary, a minority high-risk (claims right after the waiting period,
an endorsement shortly before a claim, several policies bought in a short time, claims high
against premium, flags shared by other insurers, declined quotes), with noise and overlap so
the task is not trivially separable. The figures printed (ROC AUC, precision and recall at the
watch-list threshold) are measured on a held-out quarter, never on the training part; they
describe synthetic data, not a real book.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import precision_score, recall_score, roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from resolvers.analytics.robot.features import FEATURES
from resolvers.analytics.robot.model import MODEL_PATH

__all__ = ["labelled_customers", "main", "train"]

SEED = 20261128
VERSION = "robot-lr-2026.11-1"
THRESHOLD = 0.5


def labelled_customers(n: int = 10000, seed: int = SEED) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Synthetic customers (features in FEATURES order) and labels (1 = high-risk)."""
    rng = np.random.default_rng(seed)
    risky = rng.random(n) < 0.08
    early = np.where(risky, rng.poisson(0.9, n), rng.poisson(0.08, n))
    endorse = np.where(risky, rng.poisson(0.6, n), rng.poisson(0.05, n))
    policies = 1 + np.where(risky, rng.poisson(1.2, n), rng.poisson(0.15, n))
    claims = np.where(risky, rng.poisson(1.8, n), rng.poisson(0.5, n))
    ratio = np.log1p(np.where(claims > 0, np.where(risky, rng.lognormal(1.2, 1.0, n), rng.lognormal(-0.2, 1.0, n)),
                              0.0))
    flags = np.where(risky, rng.poisson(0.5, n), rng.poisson(0.03, n))
    declined = np.where(risky, rng.poisson(0.4, n), rng.poisson(0.1, n))
    x = np.column_stack([early, endorse, policies, claims, ratio, flags, declined]).astype(float)
    return x, risky.astype(int)


def train(seed: int = SEED, n: int = 10000) -> dict[str, Any]:
    """Fit scaler and logistic regression; the parameters and held-out figures."""
    x, y = labelled_customers(n, seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=1000, random_state=seed).fit(scaler.transform(x_train), y_train)
    proba = model.predict_proba(scaler.transform(x_test))[:, 1]
    flagged = proba >= THRESHOLD
    return {
        "version": VERSION, "seed": seed, "samples": n, "features": list(FEATURES), "threshold": THRESHOLD,
        "mean": [round(float(v), 8) for v in scaler.mean_], "scale": [round(float(v), 8) for v in scaler.scale_],
        "coef": [round(float(v), 8) for v in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 8),
        "evaluation": {"held_out": len(y_test), "positives": int(y_test.sum()),
                       "roc_auc": round(float(roc_auc_score(y_test, proba)), 4),
                       "precision": round(float(precision_score(y_test, flagged, zero_division=0)), 4),
                       "recall": round(float(recall_score(y_test, flagged, zero_division=0)), 4),
                       "data": "synthetic (resolvers/analytics/robot/train.py labelled_customers)"},
    }


def main(argv: list[str] | None = None) -> None:
    """Train, print the held-out figures, write model.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    params = train()
    args.output.write_text(json.dumps(params, indent=1) + "\n", encoding="utf-8")
    ev = params["evaluation"]
    print(f"robot {params['version']}: held-out {ev['held_out']} customers ({ev['positives']} high-risk), "
          f"ROC AUC {ev['roc_auc']}, precision {ev['precision']}, recall {ev['recall']} at {params['threshold']} "
          f"(synthetic data)")


if __name__ == "__main__":
    main()
