"""Risk hints as typed data: why risk control rated a claim as it did.

Risk control stores its hints as JSON on the claim (``Claim.risk_hints``): one per rule
that fired, the model's score and its strongest features, and each risk flag a partner
shared on the insured. A model feature explains the score and has no level of its own
(stored as ``info``); it reads back with ``level`` None.

Example::

    [h.code for h in read_hints(claim.risk_hints) if h.source is RiskHintSource.RULE]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from resolvers.claims.models import RiskHintSource, RiskLevel

__all__ = ["RiskHint", "read_hints"]


@dataclass(frozen=True)
class RiskHint:
    """One reason behind a risk rating: its source, code, level, score contribution and message."""

    source: RiskHintSource
    code: str
    level: RiskLevel | None
    score: float
    message: str


def _level(value: Any) -> RiskLevel | None:
    try:
        return RiskLevel(str(value).lower())
    except ValueError:
        return None


def _source(value: Any) -> RiskHintSource:
    try:
        return RiskHintSource(value)
    except ValueError:
        return RiskHintSource.RULE


def read_hints(stored: Iterable[Mapping[str, Any]] | None) -> list[RiskHint]:
    """The typed hints of a claim's stored ones, in their stored order."""
    return [RiskHint(source=_source(h.get("source")), code=str(h.get("code", "")), level=_level(h.get("level")),
                     score=float(h.get("score") or 0), message=str(h.get("message", "")))
            for h in stored or ()]
