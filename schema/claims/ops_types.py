"""GraphQL types of claims operations: QA samples with their reviews, and progress against SLAs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core.roles import PROGRESS_READERS, QA_REVIEWERS, STAFF
from resolvers.claims.models import ClaimState as StateValue
from resolvers.claims.models import DocumentKind as DocumentKindValue
from resolvers.claims.ops import models as om
from resolvers.claims.ops.progress import StageProgress, sla_days
from schema.claims.enums import ClaimState, DocumentKind
from schema.claims.types import Claim
from schema.enums import described_enum as _described
from schema.permissions import access
from schema.relay import Node, encode_global_id
from schema.scalars import Money

__all__ = ["ClaimFlowTemplate", "ClaimProgress", "ClaimQaSample", "ClaimStageProgress", "ClaimType", "QaFinding",
           "QaSampleStatus"]




QaSampleStatus = _described(om.QaStatus, "QaSampleStatus", "Where a QA sample stands.", {
    "PENDING": "Drawn, waiting for a QA reviewer.",
    "REVIEWED": "Reviewed: score and findings recorded.",
})
QaFinding = _described(om.QaFinding, "QaFinding", "What a QA reviewer found wrong with a decided claim.", {
    "WRONG_AMOUNT": "The payable amount was miscalculated.",
    "WRONG_DECISION": "The claim should have been decided otherwise (approved, partly approved, rejected).",
    "MISSING_DOCUMENT": "A document the decision needed was missing.",
    "RULE_NOT_APPLIED": "A product rule (waiting period, exclusion, sublimit) was not applied.",
    "SLA_MISSED": "The claim waited past its service level.",
    "POOR_REASON": "The reason given to the customer was unclear or wrong.",
    "OTHER": "Anything else (see the note).",
})


@strawberry.type(description="A decided claim drawn for quality review (claims.qa_sampling: a share of each "
                 "adjuster's and product's decided claims), with its review. QA, managers and admins.")
@access(QA_REVIEWERS)
class ClaimQaSample(Node):
    claim: Claim = strawberry.field(description="The sampled claim.")
    adjuster: str = strawberry.field(description="Who decided it: the assignee, the adjudicating adjuster or "
                                     "system:fast-claim.")
    sampled_on: dt.date = strawberry.field(description="Business date it was drawn.")
    status: QaSampleStatus = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    score: int | None = strawberry.field(description="The reviewer's score, 0-100 (null until reviewed).")
    findings: list[QaFinding] = strawberry.field(  # type: ignore[valid-type]
        description="What the reviewer found (empty: nothing, or not reviewed yet).")
    note: str | None = strawberry.field(description="The reviewer's note (at most 500 characters).")
    reviewer: str | None = strawberry.field(description="Who reviewed it.")
    reviewed_at: dt.datetime | None = strawberry.field(description="When it was reviewed.")
    product_pk: strawberry.Private[int]
    version: int = strawberry.field(description="Optimistic-locking version.")

    @classmethod
    def from_row(cls, r: om.QaSample, claim: Any) -> ClaimQaSample:
        return cls(id=strawberry.ID(encode_global_id("ClaimQaSample", r.id)), claim=Claim.from_row(claim),
                   adjuster=r.adjuster, sampled_on=r.sampled_on, status=r.status, score=r.score,
                   findings=[om.QaFinding(f) for f in r.findings or ()], note=r.note, reviewer=r.reviewer,
                   reviewed_at=r.reviewed_at, product_pk=r.product_id, version=r.version)


@strawberry.type(description="Where a claim waits, since when, against which service level.")
@access(PROGRESS_READERS)
class ClaimProgress:
    claim: Claim = strawberry.field(description="The claim.")
    state: ClaimState = strawberry.field(description="The state it waits in.")  # type: ignore[valid-type]
    waiting_since: dt.datetime = strawberry.field(description="When it entered that state.")
    sla_days: int | None = strawberry.field(description="The state's service level in business days (Chinese "
                                                  "public holidays and adjusted workdays; null: none).")
    sla_due_at: dt.datetime | None = strawberry.field(description="When the service level is due (null: none).")
    breached: bool = strawberry.field(description="Whether the service level was due before now.")

    @classmethod
    def from_row(cls, row: Any, now: dt.datetime) -> ClaimProgress:
        state = StateValue(row.state)
        since = row.waiting_since
        if isinstance(since, str):  # SQLite returns a coalesced timestamp as text
            since = dt.datetime.fromisoformat(since)
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return cls(claim=Claim.from_row(row), state=state, waiting_since=since, sla_days=sla_days(state),
                   sla_due_at=row.sla_due_at, breached=row.sla_due_at is not None and row.sla_due_at < now)


@strawberry.type(description="How one waiting state of the claims operation is doing.")
@access(PROGRESS_READERS)
class ClaimStageProgress:
    state: ClaimState = strawberry.field(description="The state.")  # type: ignore[valid-type]
    count: int = strawberry.field(description="Claims waiting in it.")
    breached: int = strawberry.field(description="Of those, how many are past their service level.")
    oldest_since: dt.datetime | None = strawberry.field(description="When the longest-waiting one entered it.")
    sla_days: int | None = strawberry.field(description="The state's service level in business days (Chinese "
                                                  "public holidays and adjusted workdays; null: none).")

    @classmethod
    def of(cls, p: StageProgress) -> ClaimStageProgress:
        return cls(state=p.state, count=p.count, breached=p.breached, oldest_since=p.oldest_since,
                   sla_days=sla_days(p.state))


ClaimType = _described(om.ClaimType, "ClaimType", "The kind of treatment a claim is for.", {
    "INPATIENT": "A hospital stay: discharged after the admission day.",
    "OUTPATIENT": "Treatment without a stay: discharged on the admission day.",
})


@strawberry.type(description="How claims of one product and type flow: the documents a submitted claim must have "
                 "(missing ones are requested and the claim waits for them) and the amount above which it is "
                 "investigated whatever risk control says. Staff read them; managers set them.")
@access(STAFF)
class ClaimFlowTemplate(Node):
    product_id: strawberry.ID = strawberry.field(description="The product's global id.")
    claim_type: ClaimType = strawberry.field(description="The claim type it applies to.")  # type: ignore[valid-type]
    required_documents: list[DocumentKind] = strawberry.field(  # type: ignore[valid-type]
        description="Documents a submitted claim must have.")
    investigate_above: Money | None = strawberry.field(description="Claims above this amount are investigated "
                                                       "(null: never by amount).")
    updated_by: str = strawberry.field(description="Who set it last.")
    version: int = strawberry.field(description="Optimistic-locking version; send it back as expectedVersion.")

    @classmethod
    def from_row(cls, r: om.FlowTemplate) -> ClaimFlowTemplate:
        return cls(id=strawberry.ID(encode_global_id("ClaimFlowTemplate", r.id)),
                   product_id=strawberry.ID(encode_global_id("Product", r.product_id)), claim_type=r.claim_type,
                   required_documents=[DocumentKindValue(k) for k in r.required_documents],
                   investigate_above=r.investigate_above, updated_by=r.updated_by, version=r.version)
