"""The rule library: decision tables (zen-engine JDM) stored as versioned JSON files.

Each file ``rules/claim_risk.v<version>.json`` is one complete, reviewable version of
the rule set; the highest version is live unless ``claims.rules_version`` names another.
Rules are data: adding or changing one is a new file, never code. Every matching row
fires (hit policy *collect*) and says its code, score, level and message, which become
the hints the adjuster reads.

Example::

    library = rule_library()
    outcome = library.evaluate({"claim": {"amount": 800, ...}, "policy": {...}, "history": {...}})
    outcome.version, [h.code for h in outcome.hits]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import zen

__all__ = ["RULES_DIR", "RuleHit", "RuleLibrary", "RuleOutcome", "available_versions", "rule_library"]

RULES_DIR = Path(__file__).with_name("rules")
_PREFIX = "claim_risk.v"


@dataclass(frozen=True)
class RuleHit:
    """One rule that fired."""

    code: str
    score: int
    level: str
    message: str


@dataclass(frozen=True)
class RuleOutcome:
    """The hits of one evaluation and the rule-set version that produced them."""

    version: str
    hits: tuple[RuleHit, ...]


def available_versions(rules_dir: Path = RULES_DIR) -> list[str]:
    """Versions present in ``rules_dir``, oldest first."""
    return sorted(p.name[len(_PREFIX):-len(".json")] for p in rules_dir.glob(f"{_PREFIX}*.json"))


class RuleLibrary:
    """One loaded version of the decision tables, compiled once."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.version = str(document["version"])
        self._engine = zen.ZenEngine()
        self._decision = self._engine.create_decision(json.dumps(document))

    def evaluate(self, facts: dict[str, Any]) -> RuleOutcome:
        """Run the tables over ``facts``; every matching row is a hit."""
        result = self._decision.evaluate(facts)["result"]
        rows = result if isinstance(result, list) else [result] if result else []
        hits = tuple(
            RuleHit(code=str(r["code"]), score=int(r["score"]), level=str(r["level"]), message=str(r["message"]))
            for r in rows if r.get("code")
        )
        return RuleOutcome(self.version, hits)


@cache
def rule_library(version: str | None = None, rules_dir: Path = RULES_DIR) -> RuleLibrary:
    """The rule set of ``version`` (default: the newest), loaded and compiled once per process."""
    versions = available_versions(rules_dir)
    if not versions:
        raise RuntimeError(f"no rule files in {rules_dir}")
    chosen = version or versions[-1]
    if chosen not in versions:
        raise ValueError(f"unknown rules version {chosen!r}; have {', '.join(versions)}")
    document = json.loads((rules_dir / f"{_PREFIX}{chosen}.json").read_text(encoding="utf-8"))
    if str(document.get("version")) != chosen:
        raise ValueError(f"rules file {chosen} declares version {document.get('version')!r}")
    return RuleLibrary(document)
