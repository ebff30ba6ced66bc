"""GraphQL types of the claim-risk rule library: versions, their rows, and a test over past claims."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core.roles import RISK_READERS, RULE_MANAGERS
from resolvers.claims.models import RiskLevel as RiskLevelValue
from resolvers.claims.risk import rule_models as rm
from resolvers.claims.risk import rules_service
from resolvers.claims.risk.rules import RuleRow, rule_rows
from schema.claims.enums import ClaimRuleVersionStatus, RiskLevel
from schema.claims.types import Claim
from schema.permissions import access
from schema.relay import Node, encode_global_id

__all__ = ["ClaimRule", "ClaimRuleCondition", "ClaimRuleTestReport", "ClaimRuleTestResult", "ClaimRuleVersion"]


@strawberry.type(description="One condition of a rule: a fact risk control provides and the zen unary expression "
                 "it must satisfy.")
@access(RISK_READERS)
class ClaimRuleCondition:
    fact: str = strawberry.field(description="The fact read, e.g. claim.amount, policy.ageDays, history.claims365 "
                                 "(the facts risk control hands the table).")
    expression: str = strawberry.field(description="The zen unary expression over the fact, e.g. \"> 50000\", "
                                       "\"< 7\", \"true\".")


@strawberry.type(description="One row of a version's decision table: when it fires and what it says.")
@access(RISK_READERS)
class ClaimRule:
    code: str = strawberry.field(description="The rule's code (UPPER_SNAKE_CASE), as risk hints name it.")
    description: str = strawberry.field(description="What the rule is for, in its author's words.")
    score: int = strawberry.field(description="Points it adds to the claim's rule score (0..1000).")
    level: RiskLevel = strawberry.field(description="The level it stands for.")  # type: ignore[valid-type]
    message: str = strawberry.field(description="What the adjuster reads when it fires (English).")
    conditions: list[ClaimRuleCondition] = strawberry.field(description="Its conditions, all of which must hold "
                                                            "(a table's column left empty matches anything).")

    @classmethod
    def from_row(cls, r: RuleRow) -> ClaimRule:
        return cls(code=r.code, description=r.description, score=r.score, level=RiskLevelValue(r.level), message=r.message,
                   conditions=[ClaimRuleCondition(fact=f, expression=e) for f, e in r.conditions])


@strawberry.type(description="A version of the claim-risk rule set (a zen-engine decision table, hit policy "
                 "collect): drafted, tested against past claims, published, pinned or rolled back by risk managers. "
                 "Claims record the label of the version that judged them (Claim.rulesVersion).")
@access(RISK_READERS)
class ClaimRuleVersion(Node):
    label: str = strawberry.field(description="The version's label (1-40 letters, digits, '.', '_', '-'), as "
                                  "Claim.rulesVersion names it.")
    status: ClaimRuleVersionStatus = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    description: str = strawberry.field(description="What changed in this version (at most 500 characters).")
    drafted_from: str | None = strawberry.field(description="The label of the version it was drafted from, if any.")
    live: bool = strawberry.field(description="Whether it judges new claims now.")
    pinned: bool = strawberry.field(description="Whether it is pinned as live (newer publications do not replace "
                                    "it until unpinned).")
    digest: str = strawberry.field(description="SHA-256 of the table's canonical JSON (RFC 8785), 64 hex digits.")
    created_by: str = strawberry.field(description="Who drafted it (a user's subject; system:rule-library for a "
                                       "built-in version).")
    created_at: dt.datetime = strawberry.field(description="When it was drafted.")
    published_at: dt.datetime | None = strawberry.field(description="When it was published (null: a draft).")
    published_by: str | None = strawberry.field(description="Who published it.")
    rolled_back_at: dt.datetime | None = strawberry.field(description="When it was rolled back (null: not).")
    rolled_back_by: str | None = strawberry.field(description="Who rolled it back.")
    rollback_reason: str | None = strawberry.field(description="Why it was rolled back, in the manager's words.")
    last_tested_at: dt.datetime | None = strawberry.field(description="When it was last tested against past "
                                                          "claims (null: never).")
    last_test_claims: int | None = strawberry.field(description="How many claims its last test ran over.")
    last_test_changed: int | None = strawberry.field(description="How many of them it would have rated "
                                                     "differently.")
    rules: list[ClaimRule] = strawberry.field(description="The table's rows in order (at most 500).")
    document: JSON = strawberry.field(description="The decision table exactly as stored: a zen-engine JDM document "
                                      "(GoRules format), free-form by nature since the editor's layout travels "
                                      "with it; draft a new version from a copy of it.")
    version: int = strawberry.field(description="Optimistic-locking version; send it back as expectedVersion.")

    @classmethod
    def from_row(cls, r: rm.ClaimRuleVersion, *, live_id: int | None, pinned_id: int | None) -> ClaimRuleVersion:
        return cls(id=strawberry.ID(encode_global_id("ClaimRuleVersion", r.id)), label=r.label, status=r.status,
                   description=r.description, drafted_from=r.based_on, live=r.id == live_id, pinned=r.id == pinned_id,
                   digest=r.digest, created_by=r.created_by, created_at=r.created_at, published_at=r.published_at,
                   published_by=r.published_by, rolled_back_at=r.rolled_back_at, rolled_back_by=r.rolled_back_by,
                   rollback_reason=r.rollback_reason, last_tested_at=r.last_tested_at,
                   last_test_claims=r.last_test_claims, last_test_changed=r.last_test_changed,
                   rules=[ClaimRule.from_row(x) for x in rule_rows(r.document)], document=r.document,  # type: ignore[arg-type]
                   version=r.version)


@strawberry.type(description="One past claim run through a candidate version: what it got from the version that "
                 "judged it (re-run now, so only the rules differ) and what the candidate would give.")
@access(RULE_MANAGERS)
class ClaimRuleTestResult:
    claim: Claim = strawberry.field(description="The claim.")
    judged_by: str | None = strawberry.field(description="The label of the version that judged it.")
    current_level: RiskLevel = strawberry.field(  # type: ignore[valid-type]
        description="Its level under the version that judged it.")
    candidate_level: RiskLevel = strawberry.field(  # type: ignore[valid-type]
        description="Its level under the candidate.")
    current_rules: list[str] = strawberry.field(description="Codes of the rules that fire under the version that "
                                                "judged it, sorted.")
    candidate_rules: list[str] = strawberry.field(description="Codes of the rules that fire under the candidate, "
                                                  "sorted.")
    added_rules: list[str] = strawberry.field(description="Rules only the candidate fires.")
    removed_rules: list[str] = strawberry.field(description="Rules only the judging version fires.")
    changed: bool = strawberry.field(description="Whether the level or the rules that fire differ.")

    @classmethod
    def from_result(cls, r: rules_service.RuleTestResult) -> ClaimRuleTestResult:
        now, then = set(r.candidate_rules), set(r.baseline_rules)
        return cls(claim=Claim.from_row(r.claim), judged_by=r.judged_by, current_level=r.baseline_level,
                   candidate_level=r.candidate_level, current_rules=list(r.baseline_rules),
                   candidate_rules=list(r.candidate_rules), added_rules=sorted(now - then),
                   removed_rules=sorted(then - now), changed=r.changed)


@strawberry.type(description="A candidate version run over the last submitted claims, newest first.")
@access(RULE_MANAGERS)
class ClaimRuleTestReport:
    tested: int = strawberry.field(description="How many claims it ran over.")
    changed: int = strawberry.field(description="How many would be rated differently.")
    level_changes: int = strawberry.field(description="How many would change level (LOW, MEDIUM, HIGH).")
    results: list[ClaimRuleTestResult] = strawberry.field(description="One result per claim, newest first (at most "
                                                          "200).")

    @classmethod
    def from_report(cls, r: rules_service.RuleTestReport) -> ClaimRuleTestReport:
        return cls(tested=len(r.results), changed=r.changed,
                   level_changes=sum(1 for x in r.results if x.baseline_level is not x.candidate_level),
                   results=[ClaimRuleTestResult.from_result(x) for x in r.results])


def wrap_version(session: Any) -> Any:
    """A wrapper of version rows knowing which version is live and which pinned (two small queries, once)."""
    live = rules_service.live_version(session)
    pinned = rules_service.pinned_id(session)
    return lambda row: ClaimRuleVersion.from_row(row, live_id=live.id if live else None, pinned_id=pinned)
