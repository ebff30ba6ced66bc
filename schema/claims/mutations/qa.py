"""Recording a QA review of a sampled claim."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import QA_REVIEWERS
from resolvers.claims.ops import qa
from schema.claims.errors import RecordQaReviewError
from schema.claims.mutations.shared import ERRORS_DOC, INPUT
from schema.claims.ops_queries import sample_wrapper
from schema.claims.ops_types import ClaimQaSample, QaFinding
from schema.context import Context
from schema.errors import run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["QaMutations", "QaReviewInput", "RecordQaReviewPayload"]


@strawberry.input(description="A QA reviewer's verdict on a sampled claim.")
class QaReviewInput:
    sample_id: strawberry.ID = strawberry.field(description="The ClaimQaSample's global id.")
    score: int = strawberry.field(description="0-100 (100: nothing to find).")
    findings: list[QaFinding] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="What was wrong (required when the score is below 100; at most 7).")
    note: str = strawberry.field(default="", description="The reviewer's note (at most 500 characters; staff read "
                                 "it).")


@strawberry.type(description="The result of recordQaReview.")
@access(PUBLIC)
class RecordQaReviewPayload:
    sample: ClaimQaSample | None = strawberry.field(description="The sample as reviewed (null when refused).")
    errors: list[RecordQaReviewError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


def _target(row: Any) -> str | None:
    return encode_global_id("ClaimQaSample", row.id) if row is not None else None


@strawberry.type
class QaMutations:
    @strawberry.mutation(description="Record the review of a QA sample once: score and findings (QA, managers, "
                         "admins; never of one's own decisions).", metadata=allow(QA_REVIEWERS))
    def record_qa_review(self, info: Info[Context, Any], input: Annotated[QaReviewInput, INPUT]) -> RecordQaReviewPayload:
        ctx = info.context
        row, errors = run_mutation(info, "recordQaReview", input, lambda s: qa.record_review(
            s, principal=ctx.principal, sample_id=decode_global_id(input.sample_id, "ClaimQaSample", field="sampleId"),
            score=input.score, findings=list(input.findings)[:7], note=input.note, now=ctx.now()),
            target=_target, codes=RecordQaReviewError)
        if row is None:
            return RecordQaReviewPayload(sample=None, errors=errors)
        prefetch, wrap = sample_wrapper(ctx)
        prefetch([row])
        return RecordQaReviewPayload(sample=wrap(row), errors=errors)
