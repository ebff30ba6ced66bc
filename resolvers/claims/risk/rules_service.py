"""The rule library as business users manage it: draft, test, publish, pin and roll back versions.

A version is a complete decision table (``rule_models.ClaimRuleVersion``). Drafts are
checked (``rule_check``: every problem at once) and stored; a test re-runs risk control
over the last N submitted claims with the draft and with the version that judged each
claim, and says per claim what would change; publishing makes the draft the newest
published version, which is live unless one is pinned; rolling back withdraws the live
version, so the previous published one judges new claims. Built-in versions (the JSON files
under ``rules/``) are imported as published versions on the first change. Every claim keeps
the label of the version that judged it (``Claim.rules_version``).

Example::

    draft = draft_version(session, principal=p, label="2026.07-1", description="...", document=jdm, now=now)
    report = test_version(session, principal=p, version_id=draft.id, last=50, now=now)
    publish_version(session, principal=p, version_id=draft.id, expected_version=draft.version, now=now)
    live_library(session).version   # "2026.07-1"
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import rfc8785
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.clock import business_date
from core.errors import (
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from resolvers.claims.models import Claim, ClaimLineItem, RiskHintSource, RiskLevel
from resolvers.claims.risk.profile import risk_profile
from resolvers.claims.risk.rule_check import check_document
from resolvers.claims.risk.rule_models import ClaimRuleState, ClaimRuleVersion, RuleVersionStatus
from resolvers.claims.risk.rules import (
    RuleLibrary,
    available_versions,
    builtin_document,
    compiled,
    rule_library,
)
from resolvers.claims.risk.scoring import ClaimFacts, RiskAssessment, RiskThresholds, assess_risk
from resolvers.policies import loaders as policy_loaders
from resolvers.policies import service as policy_service

__all__ = ["MAX_TEST_CLAIMS", "RuleTestReport", "RuleTestResult", "claim_facts", "draft_version", "ensure_builtin_versions",
           "get_version", "library_for", "live_library", "live_version", "pin_version", "pinned_id", "publish_version",
           "rollback_version", "test_version", "versions_query"]

MAX_TEST_CLAIMS = 200
_LABEL = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")
_STATE_ID = 1
_SYSTEM = Principal(subject="system:rule-library", role=Role.ADMIN)


@dataclass(frozen=True)
class RuleTestResult:
    """What one claim got from the version that judged it and would get from the candidate."""

    claim: Claim
    judged_by: str | None
    baseline_level: RiskLevel
    candidate_level: RiskLevel
    baseline_rules: tuple[str, ...]
    candidate_rules: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """Whether the candidate rates the claim differently or fires other rules."""
        return self.baseline_level is not self.candidate_level or self.baseline_rules != self.candidate_rules


@dataclass(frozen=True)
class RuleTestReport:
    """A candidate version run over the last submitted claims, newest first."""

    version: ClaimRuleVersion
    results: tuple[RuleTestResult, ...]

    @property
    def changed(self) -> int:
        """How many claims would be rated differently."""
        return sum(1 for r in self.results if r.changed)


def _digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def versions_query(*, status: RuleVersionStatus | None = None) -> Select[ClaimRuleVersion]:
    """The versions (of ``status``), for a page ordered by id."""
    stmt = select(ClaimRuleVersion)
    return stmt.where(ClaimRuleVersion.status == status) if status is not None else stmt


def get_version(session: Session, *, version_id: int, lock: bool = False) -> ClaimRuleVersion:
    """One version by key, else NotFoundError."""
    stmt = select(ClaimRuleVersion).where(ClaimRuleVersion.id == version_id)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFoundError("no such rule version", field="versionId")
    return row


def _state(session: Session, *, lock: bool) -> ClaimRuleState:
    stmt = select(ClaimRuleState).where(ClaimRuleState.id == _STATE_ID)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        row = ClaimRuleState(id=_STATE_ID)
        session.add(row)
        session.flush()
    return row


def _next_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(ClaimRuleVersion.publish_seq), 0))) or 0) + 1


def ensure_builtin_versions(session: Session, *, now: dt.datetime) -> None:
    """Import the built-in versions (``rules/*.json``) missing from the library as published (idempotent)."""
    have = set(session.scalars(select(ClaimRuleVersion.label)))
    for label in available_versions():
        if label in have:
            continue
        document = builtin_document(label)
        session.add(ClaimRuleVersion(
            label=label, status=RuleVersionStatus.PUBLISHED, description=str(document.get("description", ""))[:500],
            document=document, digest=_digest(document), created_by=_SYSTEM.subject, publish_seq=_next_seq(session),
            published_at=now, published_by=_SYSTEM.subject))
        session.flush()


def pinned_id(session: Session) -> int | None:
    """The key of the pinned version, if one is pinned."""
    return session.scalar(select(ClaimRuleState.pinned_id).where(ClaimRuleState.id == _STATE_ID))


def live_version(session: Session) -> ClaimRuleVersion | None:
    """The version judging new claims: the pinned one, else the newest published (None: library empty)."""
    pinned = session.scalar(select(ClaimRuleVersion).join(ClaimRuleState, ClaimRuleState.pinned_id ==
                                                          ClaimRuleVersion.id))
    if pinned is not None:
        return pinned
    return session.scalar(select(ClaimRuleVersion).where(ClaimRuleVersion.status == RuleVersionStatus.PUBLISHED)
                          .order_by(ClaimRuleVersion.publish_seq.desc()).limit(1))


def _library(row: ClaimRuleVersion) -> RuleLibrary:
    return compiled({**row.document, "version": row.label}, row.digest)


def live_library(session: Session, *, override: str | None = None) -> RuleLibrary:
    """The compiled live rule set; ``override`` (setting ``claims.rules_version``) names one instead."""
    if override:
        return library_for(session, override)
    row = live_version(session)
    return _library(row) if row is not None else rule_library()


def library_for(session: Session, label: str) -> RuleLibrary:
    """The compiled version ``label``, from the library or the built-in files (ValueError: unknown)."""
    row = session.scalar(select(ClaimRuleVersion).where(ClaimRuleVersion.label == label))
    return _library(row) if row is not None else rule_library(label)


def draft_version(session: Session, *, principal: Principal, label: str, description: str, document: Any,
                  based_on_id: int | None = None, now: dt.datetime) -> ClaimRuleVersion:
    """Store a new draft after checking it (every problem of label and table at once)."""
    ensure_builtin_versions(session, now=now)
    label = label.strip()
    based_on: ClaimRuleVersion | None = None
    with collect_errors() as errors:
        if not _LABEL.match(label):
            errors.add(ValidationError("label: 1-40 letters, digits, '.', '_' or '-'", field="label",
                                       code="BAD_LABEL"))
        elif session.scalar(select(ClaimRuleVersion.id).where(ClaimRuleVersion.label == label)) is not None:
            errors.add(ConflictError(f"version {label} exists already", field="label", code="LABEL_TAKEN"))
        if len(description) > 500:
            errors.add(ValidationError("description: at most 500 characters", field="description"))
        if based_on_id is not None:
            with errors.check():
                based_on = get_version(session, version_id=based_on_id)
        check_document(document, errors)
    stored = {**document, "version": label}
    row = ClaimRuleVersion(label=label, status=RuleVersionStatus.DRAFT, description=description.strip(),
                           based_on=based_on.label if based_on else None, document=stored, digest=_digest(stored),
                           created_by=principal.subject)
    session.add(row)
    session.flush()
    return row


def claim_facts(session: Session, claim: Claim, *, items: Sequence[Decimal] | None = None,
                policy_start: dt.date | None = None) -> tuple[ClaimFacts, int, dt.date]:
    """A past claim's facts as risk control saw them, its count of shared flags, and its submission date.

    ``items`` (line amounts in invoice order) and ``policy_start`` are read when not given.
    """
    if items is None:
        items = list(session.scalars(select(ClaimLineItem.amount).where(ClaimLineItem.claim_id == claim.id)
                                     .order_by(ClaimLineItem.position)))
    if policy_start is None:
        policy_start = policy_service.get_policy(session, principal=_SYSTEM, policy_id=claim.policy_id).period_start
    reported = business_date(claim.submitted_at) if claim.submitted_at else claim.event_date
    facts = ClaimFacts(amount=claim.claimed_amount, line_amounts=tuple(items) or (claim.claimed_amount,),
                       diagnosis=claim.diagnosis_code, event_date=claim.event_date,
                       admission_date=claim.admission_date, reported_on=reported, policy_start=policy_start,
                       duplicate=claim.duplicate_of_id is not None)
    shared = sum(1 for h in claim.risk_hints or () if h.get("source") == RiskHintSource.SHARED.value)
    return facts, shared, reported


def _rules(result: RiskAssessment) -> tuple[str, ...]:
    return tuple(sorted(str(h["code"]) for h in result.hints if h["source"] == RiskHintSource.RULE.value))


def test_version(session: Session, *, principal: Principal, version_id: int, last: int, now: dt.datetime,
                 extra: dict[str, str] | None = None) -> RuleTestReport:
    """Run ``version_id`` over the last ``last`` submitted claims; record the summary on the version."""
    if not 1 <= last <= MAX_TEST_CLAIMS:
        raise ValidationError(f"last: 1 to {MAX_TEST_CLAIMS} claims", field="last")
    row = get_version(session, version_id=version_id, lock=True)
    candidate = _library(row)
    thresholds = RiskThresholds.from_extra(extra or {})
    claims = list(session.scalars(select(Claim).where(Claim.submitted_at.is_not(None), Claim.risk_level.is_not(None))
                                  .order_by(Claim.submitted_at.desc(), Claim.id.desc()).limit(last)))
    live = live_library(session)
    items: dict[int, list[Decimal]] = defaultdict(list)
    for claim_id, amount in session.execute(select(ClaimLineItem.claim_id, ClaimLineItem.amount).where(
            ClaimLineItem.claim_id.in_([c.id for c in claims])).order_by(ClaimLineItem.claim_id,
                                                                          ClaimLineItem.position)):
        items[claim_id].append(amount)
    policies = policy_loaders.policies_by_id(session, sorted({c.policy_id for c in claims}))
    libraries: dict[str | None, RuleLibrary] = {None: live}
    results = []
    for claim in claims:
        facts, shared, reported = claim_facts(session, claim, items=items[claim.id],
                                              policy_start=policies[claim.policy_id].period_start)
        profile = risk_profile(session, customer_id=claim.customer_id, today=reported, exclude_claim_id=claim.id,
                               shared_flags=shared)
        if claim.rules_version not in libraries:
            try:
                libraries[claim.rules_version] = library_for(session, str(claim.rules_version))
            except ValueError:  # a version that no longer exists anywhere: compare with the live one
                libraries[claim.rules_version] = live
        baseline_library = libraries[claim.rules_version]
        baseline = assess_risk(facts, profile, thresholds, library=baseline_library)
        outcome = assess_risk(facts, profile, thresholds, library=candidate)
        results.append(RuleTestResult(claim=claim, judged_by=claim.rules_version, baseline_level=baseline.level,
                                      candidate_level=outcome.level, baseline_rules=_rules(baseline),
                                      candidate_rules=_rules(outcome)))
    report = RuleTestReport(version=row, results=tuple(results))
    row.last_tested_at, row.last_test_claims, row.last_test_changed = now, len(results), report.changed
    session.flush()
    return report


def _check_version(row: ClaimRuleVersion, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise StaleVersionError(f"the version is at {row.version}, not {expected}", field="expectedVersion")


def publish_version(session: Session, *, principal: Principal, version_id: int, expected_version: int | None,
                    now: dt.datetime) -> ClaimRuleVersion:
    """Publish a draft: it becomes the newest published version (live unless another is pinned)."""
    ensure_builtin_versions(session, now=now)
    _state(session, lock=True)
    row = get_version(session, version_id=version_id, lock=True)
    _check_version(row, expected_version)
    if row.status is not RuleVersionStatus.DRAFT:
        raise InvalidTransitionError(f"version {row.label} is {row.status.value}, not a draft", field="versionId",
                                     code="NOT_A_DRAFT")
    row.status, row.publish_seq = RuleVersionStatus.PUBLISHED, _next_seq(session)
    row.published_at, row.published_by = now, principal.subject
    session.flush()
    return row


def pin_version(session: Session, *, principal: Principal, version_id: int | None,
                now: dt.datetime) -> ClaimRuleVersion | None:
    """Pin a published version as live whatever is published later (None: unpin); the live version after."""
    ensure_builtin_versions(session, now=now)
    state = _state(session, lock=True)
    if version_id is not None:
        row = get_version(session, version_id=version_id)
        if row.status is not RuleVersionStatus.PUBLISHED:
            raise InvalidTransitionError(f"version {row.label} is {row.status.value}: only a published version is "
                                         "pinned", field="versionId", code="NOT_PUBLISHED")
    state.pinned_id, state.changed_by, state.changed_at = version_id, principal.subject, now
    session.flush()
    return live_version(session)


def rollback_version(session: Session, *, principal: Principal, version_id: int, reason: str,
                     now: dt.datetime) -> tuple[ClaimRuleVersion, ClaimRuleVersion]:
    """Withdraw the live version ``version_id``; the previous published one becomes live (pin cleared)."""
    ensure_builtin_versions(session, now=now)
    state = _state(session, lock=True)
    row = get_version(session, version_id=version_id, lock=True)
    with collect_errors() as errors:
        if not reason.strip() or len(reason) > 500:
            errors.add(ValidationError("reason: 1-500 characters", field="reason", code="REASON_REQUIRED"))
        live = live_version(session)
        if live is None or live.id != row.id:
            errors.add(InvalidTransitionError(f"version {row.label} is not the live version", field="versionId",
                                              code="NOT_LIVE"))
        previous = session.scalar(select(ClaimRuleVersion).where(
            ClaimRuleVersion.status == RuleVersionStatus.PUBLISHED, ClaimRuleVersion.id != row.id)
            .order_by(ClaimRuleVersion.publish_seq.desc()).limit(1))
        if previous is None:
            errors.add(InvalidTransitionError("no earlier published version to fall back to", field="versionId",
                                              code="NOTHING_TO_ROLL_BACK_TO"))
    assert previous is not None
    row.status, row.rolled_back_at, row.rolled_back_by = RuleVersionStatus.ROLLED_BACK, now, principal.subject
    row.rollback_reason = reason.strip()
    state.pinned_id, state.changed_by, state.changed_at = None, principal.subject, now
    session.flush()
    return row, previous
