"""The rule library: decision tables (zen-engine JDM), compiled and evaluated.

Each file ``rules/claim_risk.v<version>.json`` is a built-in version of the rule set; risk
managers draft, test, publish, pin and roll back further versions through GraphQL, stored
in the database (``rules_service``), which also says which version is live. Rules are
data: adding or changing one is a new version, never code. Every matching row
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

__all__ = [
    "FACT_FIELDS",
    "RULES_DIR",
    "RuleHit",
    "RuleLibrary",
    "RuleOutcome",
    "RuleRow",
    "available_versions",
    "builtin_document",
    "compiled",
    "rule_library",
    "rule_rows",
]

RULES_DIR = Path(__file__).with_name("rules")
_PREFIX = "claim_risk.v"
#: The facts risk control hands the tables (``resolvers.claims.risk.scoring``): the only fields a condition may read.
FACT_FIELDS: dict[str, str] = {
    "claim.amount": "the claimed amount (number)",
    "claim.itemCount": "how many invoice lines (integer)",
    "claim.duplicate": "whether another claim of the insured overlaps the stay (boolean)",
    "claim.diagnosis": "the ICD-10 code, upper case (string)",
    "claim.maxLineShare": "the largest line's share of the bill (0..1)",
    "claim.reportDelayDays": "days from the event to the report (integer)",
    "claim.weekendAdmission": "whether admission fell on a Saturday or Sunday (boolean)",
    "policy.ageDays": "days from the policy start to the event (integer)",
    "history.claims365": "the insured's other claims in the last 365 days (integer)",
    "history.sharedFlags": "risk flags partners shared on the insured (integer)",
}
_COMPILED: dict[str, RuleLibrary] = {}
_MAX_COMPILED = 32


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


@dataclass(frozen=True)
class RuleRow:
    """One row of a decision table as people read it: its conditions (fact, expression) and outputs."""

    code: str
    description: str
    score: int
    level: str
    message: str
    conditions: tuple[tuple[str, str], ...]


def _constant(cell: Any) -> Any:
    try:
        return zen.evaluate_expression(str(cell), {})
    except RuntimeError:
        return None


def rule_rows(document: dict[str, Any]) -> list[RuleRow]:
    """The rows of the (checked) decision table of ``document``, in table order."""
    table = next(n["content"] for n in document["nodes"] if n.get("type") == "decisionTableNode")
    fields = {c["id"]: c["field"] for c in table["inputs"]}
    outputs = {c["field"]: c["id"] for c in table["outputs"]}
    rows = []
    for rule in table["rules"]:
        out = {name: _constant(rule.get(col, "")) for name, col in outputs.items()}
        rows.append(RuleRow(
            code=str(out.get("code") or ""), description=str(rule.get("_description", "")),
            score=int(out.get("score") or 0), level=str(out.get("level") or ""), message=str(out.get("message") or ""),
            conditions=tuple((fields[col], str(rule[col])) for col in fields if str(rule.get(col, "")).strip())))
    return rows


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


def compiled(document: dict[str, Any], digest: str) -> RuleLibrary:
    """The library of ``document`` compiled once per process (cached by its digest, a few kept)."""
    library = _COMPILED.get(digest)
    if library is None:
        library = RuleLibrary(document)
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[digest] = library
    return library


def builtin_document(version: str, rules_dir: Path = RULES_DIR) -> dict[str, Any]:
    """The decision table shipped as ``rules/claim_risk.v<version>.json``."""
    document: dict[str, Any] = json.loads((rules_dir / f"{_PREFIX}{version}.json").read_text(encoding="utf-8"))
    if str(document.get("version")) != version:
        raise ValueError(f"rules file {version} declares version {document.get('version')!r}")
    return document


@cache
def rule_library(version: str | None = None, rules_dir: Path = RULES_DIR) -> RuleLibrary:
    """The rule set of ``version`` (default: the newest), loaded and compiled once per process."""
    versions = available_versions(rules_dir)
    if not versions:
        raise RuntimeError(f"no rule files in {rules_dir}")
    chosen = version or versions[-1]
    if chosen not in versions:
        raise ValueError(f"unknown rules version {chosen!r}; have {', '.join(versions)}")
    return RuleLibrary(builtin_document(chosen, rules_dir))
