"""The robot's model: a logistic regression trained by ``train.py``, scored in plain Python.

The parameters live in ``model.json`` beside this file (features, scaler, weights, threshold and
the held-out figures the training run printed). A score is a probability; the reasons are the
features that pushed it up most (weight x standardised value > 0), each kept as a code with its
raw value as parameter — never prose.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from resolvers.analytics.robot.features import FEATURES, CustomerFeatures

__all__ = ["MODEL_PATH", "REASON_CODES", "RobotModel", "RobotScore", "robot_model"]

MODEL_PATH = Path(__file__).with_name("model.json")
#: The reason code of each feature (a reason's parameter is the feature's raw value).
REASON_CODES: dict[str, str] = {
    "early_claims": "CLAIM_SOON_AFTER_WAITING_PERIOD",
    "endorse_then_claim": "ENDORSEMENT_THEN_CLAIM",
    "policies_90d": "MANY_POLICIES_IN_90_DAYS",
    "claims_365": "FREQUENT_CLAIMS",
    "claim_premium_ratio": "CLAIMS_HIGH_AGAINST_PREMIUM",
    "shared_flags": "SHARED_RISK_FLAGS",
    "declined_quotes": "DECLINED_OR_REFERRED_QUOTES",
}


@dataclass(frozen=True)
class RobotScore:
    """A customer's probability of being high-risk and the reasons (code, raw value), strongest first."""

    customer_id: int
    probability: float
    reasons: tuple[tuple[str, float], ...]


class RobotModel:
    """Scores customer features with the stored parameters."""

    def __init__(self, params: dict[str, Any]) -> None:
        if tuple(params["features"]) != FEATURES:
            raise ValueError("model.json was trained on other features; run resolvers.analytics.robot.train")
        self.params = params
        self.version: str = params["version"]
        self.threshold: float = float(params["threshold"])
        self._mean = [float(v) for v in params["mean"]]
        self._scale = [float(v) or 1.0 for v in params["scale"]]
        self._coef = [float(v) for v in params["coef"]]
        self._intercept = float(params["intercept"])

    def score(self, f: CustomerFeatures) -> RobotScore:
        """The probability and its reasons."""
        parts = [(name, w * (x - m) / s, x) for name, w, x, m, s in
                 zip(FEATURES, self._coef, f.values, self._mean, self._scale, strict=True)]
        z = self._intercept + sum(p for _, p, _ in parts)
        probability = 1.0 / (1.0 + math.exp(-z))
        reasons = tuple((REASON_CODES[name], round(x, 4)) for name, part, x in sorted(parts, key=lambda t: -t[1])
                        if part > 0.25 and x > 0)
        return RobotScore(f.customer_id, probability, reasons[:4])


@cache
def robot_model() -> RobotModel:
    """The trained model (loaded once)."""
    return RobotModel(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
