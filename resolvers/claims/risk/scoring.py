"""Combine rule hits and the model score into a risk level and adjuster hints.

Levels: *high* when any rule says high, or the model's probability reaches
``high_probability``, or rule scores add up to ``high_score``; *medium* likewise at the
lower marks; otherwise *low*. Only *low* claims may take the fast-claim path.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from resolvers.claims.models import RiskHintSource, RiskLevel
from resolvers.claims.risk.model import risk_model
from resolvers.claims.risk.profile import RiskProfile
from resolvers.claims.risk.rules import RuleLibrary, rule_library

__all__ = ["ClaimFacts", "RiskAssessment", "RiskThresholds", "assess_risk"]


@dataclass(frozen=True)
class RiskThresholds:
    """Marks between the risk levels (configurable through settings.extra)."""

    medium_probability: float = 0.5
    high_probability: float = 0.8
    medium_score: int = 25
    high_score: int = 60

    @classmethod
    def from_extra(cls, extra: dict[str, str]) -> RiskThresholds:
        """Read ``claims.risk.*`` keys, defaulting each."""
        d = cls()
        return cls(
            medium_probability=float(extra.get("claims.risk.medium_probability", d.medium_probability)),
            high_probability=float(extra.get("claims.risk.high_probability", d.high_probability)),
            medium_score=int(extra.get("claims.risk.medium_score", d.medium_score)),
            high_score=int(extra.get("claims.risk.high_score", d.high_score)),
        )


@dataclass(frozen=True)
class ClaimFacts:
    """The claim-side inputs of risk control."""

    amount: Decimal
    line_amounts: tuple[Decimal, ...]
    diagnosis: str
    event_date: dt.date
    admission_date: dt.date
    reported_on: dt.date
    policy_start: dt.date
    duplicate: bool


@dataclass(frozen=True)
class RiskAssessment:
    """Score (0..1), level, hints for the adjuster and the rule-set version used."""

    score: float
    level: RiskLevel
    hints: list[dict[str, Any]]
    rules_version: str


def assess_risk(facts: ClaimFacts, profile: RiskProfile, thresholds: RiskThresholds,
                rules_version: str | None = None, *, library: RuleLibrary | None = None) -> RiskAssessment:
    """Run the decision tables (``library``, else the built-in ``rules_version``) and the model; explain what fired."""
    amount = float(facts.amount)
    total = float(sum(facts.line_amounts)) or 1.0
    max_share = max((float(a) for a in facts.line_amounts), default=0.0) / total
    policy_days = (facts.event_date - facts.policy_start).days
    delay = (facts.reported_on - facts.event_date).days
    library = library or rule_library(rules_version)
    outcome = library.evaluate({
        "claim": {"amount": amount, "itemCount": len(facts.line_amounts), "duplicate": facts.duplicate,
                  "diagnosis": facts.diagnosis.upper(), "maxLineShare": max_share, "reportDelayDays": delay,
                  "weekendAdmission": facts.admission_date.weekday() >= 5},
        "policy": {"ageDays": policy_days},
        "history": {"claims365": profile.claims_365, "sharedFlags": profile.shared_flags},
    })
    model = risk_model()
    scored = model.score({
        "log_amount": math.log1p(amount), "policy_age_years": max(policy_days, 0) / 365.0,
        "claims_365": float(profile.claims_365), "log_amount_365": math.log1p(float(profile.amount_365)),
        "item_count": float(len(facts.line_amounts)), "max_line_share": max_share,
        "report_delay_months": max(delay, 0) / 30.0, "weekend_admission": float(facts.admission_date.weekday() >= 5),
        "rejected_365": float(profile.rejected_365),
    })
    hints: list[dict[str, Any]] = [
        {"source": RiskHintSource.RULE.value, "code": h.code, "level": h.level, "score": h.score, "message": h.message}
        for h in outcome.hits
    ]
    for name, contribution in scored.top_features:
        hints.append({"source": RiskHintSource.MODEL.value, "code": f"FEATURE_{name.upper()}", "level": "info",
                      "score": contribution, "message": f"model feature {name} raised the score by {contribution}"})
    rule_score = sum(h.score for h in outcome.hits)
    if (any(h.level == "high" for h in outcome.hits) or scored.probability >= thresholds.high_probability
            or rule_score >= thresholds.high_score):
        level = RiskLevel.HIGH
    elif (any(h.level == "medium" for h in outcome.hits) or scored.probability >= thresholds.medium_probability
          or rule_score >= thresholds.medium_score):
        level = RiskLevel.MEDIUM
    else:
        level = RiskLevel.LOW
    hints.insert(0, {"source": RiskHintSource.MODEL.value, "code": "MODEL_SCORE", "level": level.value,
                     "score": round(scored.probability, 4),
                     "message": f"model {model.version} probability {scored.probability:.2f}; rule score {rule_score}"})
    return RiskAssessment(round(scored.probability, 4), level, hints, outcome.version)
