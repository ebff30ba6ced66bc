"""The claim risk model: a logistic regression trained by ``train.py``, scored in plain Python.

The trained parameters live in ``model.json`` beside this file (features, scaler, weights,
and the evaluation figures the training run printed). Scoring needs no scikit-learn: a
standardised dot product and a sigmoid, about a microsecond per claim. Each feature's
contribution (weight x standardised value) says which feature pushed the score up.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["FEATURES", "MODEL_PATH", "RiskModel", "Score", "risk_model"]

MODEL_PATH = Path(__file__).with_name("model.json")
#: Feature names, in the order the model expects them; see ``features`` in train.py.
FEATURES: tuple[str, ...] = (
    "log_amount", "policy_age_years", "claims_365", "log_amount_365", "item_count", "max_line_share",
    "report_delay_months", "weekend_admission", "rejected_365",
)


@dataclass(frozen=True)
class Score:
    """A probability of an irregular claim and the features that raised it most."""

    probability: float
    top_features: tuple[tuple[str, float], ...]


class RiskModel:
    """Scores feature vectors with the stored logistic-regression parameters."""

    def __init__(self, params: dict[str, Any]) -> None:
        if tuple(params["features"]) != FEATURES:
            raise ValueError("model.json was trained on other features; run train.py again")
        self.version = str(params["version"])
        self._mean = [float(v) for v in params["mean"]]
        self._scale = [float(v) or 1.0 for v in params["scale"]]
        self._coef = [float(v) for v in params["coef"]]
        self._intercept = float(params["intercept"])

    def score(self, values: dict[str, float]) -> Score:
        """Probability and the (up to three) features with the largest positive contribution."""
        contributions = [
            (name, c * (values[name] - m) / s)
            for name, c, m, s in zip(FEATURES, self._coef, self._mean, self._scale, strict=True)
        ]
        z = self._intercept + sum(v for _, v in contributions)
        p = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        top = sorted((c for c in contributions if c[1] > 0.25), key=lambda c: -c[1])[:3]
        return Score(p, tuple((n, round(v, 3)) for n, v in top))


@cache
def risk_model(path: Path = MODEL_PATH) -> RiskModel:
    """The trained model, loaded once per process."""
    return RiskModel(json.loads(path.read_text(encoding="utf-8")))
