"""Quality review by sampling: a configurable share of decided claims per adjuster and product goes to QA.

Sampling is deterministic and idempotent: within each (adjuster, product) group of claims
decided in the window, claims are ranked by SHA-256 of a salt and the claim number, and
the first ``ceil(share x group size)`` are sampled; samples already drawn stay, so a
repeated run adds nothing and a grown group only adds its next ranked claims. The share
(``claims.qa.share``, default 0.1), window (``claims.qa.window_days``, 90) and salt
(``claims.qa.salt``) are settings. A QA reviewer records a score (0-100) and findings.

Example::

    opsure jobs run claims.qa_sampling --at 2026-07-01T18:00:00+08:00
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal
from core.clock import business_date
from core.db import transaction
from core.errors import ConflictError, NotFoundError, ValidationError, collect_errors
from core.jobs import job
from core.settings import get_settings
from resolvers.claims.models import Claim, ClaimState
from resolvers.claims.ops.models import QaFinding, QaSample, QaStatus
from resolvers.policies import loaders as policy_loaders

__all__ = ["DECIDED", "QaConfig", "adjuster_of", "draw_samples", "get_sample", "qa_sampling", "record_review",
           "samples_query"]

#: Final states of a decided claim: the ones QA samples from.
DECIDED = (ClaimState.PAID, ClaimState.CLOSED, ClaimState.REJECTED)
FAST_CLAIM = "system:fast-claim"


@dataclass(frozen=True)
class QaConfig:
    """How much to sample (a share of each adjuster's and product's decided claims) and from when."""

    share: float = 0.1
    window_days: int = 90
    salt: str = "opsure-qa"

    @classmethod
    def from_extra(cls, extra: dict[str, str]) -> QaConfig:
        """Read ``claims.qa.*`` settings, each defaulted."""
        d = cls()
        share = float(extra.get("claims.qa.share", d.share))
        if not 0 <= share <= 1:
            raise ValueError("claims.qa.share must be between 0 and 1")
        return cls(share=share, window_days=int(extra.get("claims.qa.window_days", d.window_days)),
                   salt=extra.get("claims.qa.salt", d.salt))


def adjuster_of(claim: Claim) -> str:
    """Who decided ``claim``: its assignee, else the adjuster who adjudicated it, else fast-claim."""
    actor = (claim.decision_reason_params or {}).get("actor")
    return claim.assignee or (str(actor) if actor else FAST_CLAIM)


def _rank(salt: str, number: str) -> str:
    return hashlib.sha256(f"{salt}:{number}".encode()).hexdigest()


def draw_samples(session: Session, *, at: dt.datetime, config: QaConfig) -> int:
    """Sample the decided claims of the window per (adjuster, product); how many samples were added."""
    today = business_date(at)
    since = at - dt.timedelta(days=config.window_days)
    claims = list(session.scalars(select(Claim).where(Claim.state.in_(DECIDED), Claim.decided_at.is_not(None),
                                                      Claim.decided_at >= since, Claim.decided_at <= at)))
    if not claims or config.share <= 0:
        return 0
    policies = policy_loaders.policies_by_id(session, sorted({c.policy_id for c in claims}))
    sampled = set(session.scalars(select(QaSample.claim_id).where(QaSample.claim_id.in_([c.id for c in claims]))))
    groups: dict[tuple[str, int], list[Claim]] = defaultdict(list)
    for c in claims:
        groups[(adjuster_of(c), policies[c.policy_id].product_id)].append(c)
    added = 0
    for (adjuster, product_id), members in sorted(groups.items()):
        target = math.ceil(config.share * len(members))
        have = sum(1 for c in members if c.id in sampled)
        for c in sorted(members, key=lambda c: _rank(config.salt, c.number)):
            if have >= target:
                break
            if c.id in sampled:
                continue
            session.add(QaSample(claim_id=c.id, adjuster=adjuster, product_id=product_id, sampled_on=today,
                                 status=QaStatus.PENDING, findings=[]))
            have += 1
            added += 1
    session.flush()
    return added


@job("claims.qa_sampling", "draw a share of decided claims per adjuster and product for quality review")
def qa_sampling(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """One sampling round at ``at`` with the settings' share (idempotent)."""
    config = QaConfig.from_extra(get_settings().extra)
    with transaction(sessions) as session:
        return draw_samples(session, at=at, config=config)


def samples_query(*, status: QaStatus | None = None, adjuster: str | None = None) -> Select[QaSample]:
    """QA samples (of ``status``, of ``adjuster``), for a page ordered by id."""
    stmt = select(QaSample)
    if status is not None:
        stmt = stmt.where(QaSample.status == status)
    if adjuster is not None:
        stmt = stmt.where(QaSample.adjuster == adjuster)
    return stmt


def get_sample(session: Session, *, sample_id: int, lock: bool = False) -> QaSample:
    """One sample by key, else NotFoundError."""
    stmt = select(QaSample).where(QaSample.id == sample_id)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFoundError("no such QA sample", field="sampleId")
    return row


def record_review(session: Session, *, principal: Principal, sample_id: int, score: int,
                  findings: Sequence[QaFinding], note: str, now: dt.datetime) -> QaSample:
    """Record a QA review once: a score 0-100 and findings (required below 100); every refusal at once."""
    sample = get_sample(session, sample_id=sample_id, lock=True)
    with collect_errors() as errors:
        if sample.status is QaStatus.REVIEWED:
            errors.add(ConflictError(f"reviewed already by {sample.reviewer}", field="sampleId",
                                     code="ALREADY_REVIEWED"))
        if not 0 <= score <= 100:
            errors.add(ValidationError("score: 0 to 100", field="score", code="BAD_SCORE"))
        elif score < 100 and not findings:
            errors.add(ValidationError("a score below 100 names its findings", field="findings",
                                       code="FINDINGS_REQUIRED"))
        if len(note) > 500:
            errors.add(ValidationError("note: at most 500 characters", field="note"))
        if principal.subject == sample.adjuster:
            errors.add(ValidationError("nobody reviews their own decisions", field="sampleId", code="OWN_DECISION"))
    sample.status, sample.score = QaStatus.REVIEWED, score
    sample.findings = sorted({f.value for f in findings})
    sample.note = note.strip() or None
    sample.reviewer, sample.reviewed_at = principal.subject, now
    session.flush()
    return sample
