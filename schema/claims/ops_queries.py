"""Root query fields of claims operations (QA samples, progress), and how node(id:) fetches a QA sample."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from core.errors import ForbiddenError, NotFoundError
from core.pagination import keyset_page
from core.roles import PROGRESS_READERS, QA_REVIEWERS, STAFF
from resolvers.claims import models as m
from resolvers.claims.ops import models as om
from resolvers.claims.ops import progress, qa, templates
from schema.claims.enums import ClaimState
from schema.claims.ops_types import (
    ClaimFlowTemplate,
    ClaimProgress,
    ClaimQaSample,
    ClaimStageProgress,
    QaSampleStatus,
)
from schema.claims.types import After, Before, First, Last
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.relay import (
    PAGING,
    Connection,
    KeyColumn,
    connection,
    decode_global_id,
    keyset_connection,
    page_request,
)

__all__ = ["OPS_NODES", "ClaimOpsQuery", "sample_wrapper"]


def sample_wrapper(ctx: Context) -> Any:
    """(prefetch, wrap) for QA sample rows: their claims loaded in one query per page, then wrapped."""
    cache: dict[int, m.Claim] = {}

    def prefetch(rows: list[om.QaSample]) -> None:
        ids = [r.claim_id for r in rows if r.claim_id not in cache]
        cache.update({c.id: c for c in ctx.session.scalars(select(m.Claim).where(m.Claim.id.in_(ids)))})

    return prefetch, lambda r: ClaimQaSample.from_row(r, cache[r.claim_id])


def _sample_node(ctx: Context, pk: int) -> ClaimQaSample:
    if ctx.principal.role not in QA_REVIEWERS:
        raise ForbiddenError("QA samples are for quality assurance, managers and admins")
    row = qa.get_sample(ctx.session, sample_id=pk)
    prefetch, wrap = sample_wrapper(ctx)
    prefetch([row])
    return wrap(row)  # type: ignore[no-any-return]


def _template_node(ctx: Context, pk: int) -> ClaimFlowTemplate:
    if ctx.principal.role not in STAFF:
        raise ForbiddenError("flow templates are for staff")
    row = ctx.session.get(om.FlowTemplate, pk)
    if row is None:
        raise NotFoundError("no such flow template", field="id")
    return ClaimFlowTemplate.from_row(row)


#: ``node(id:)`` for QA samples (QA reviewers only) and flow templates (staff), as their own queries.
OPS_NODES: dict[str, NodeFetcher] = {"ClaimQaSample": _sample_node, "ClaimFlowTemplate": _template_node}


@strawberry.type
class ClaimOpsQuery:
    @strawberry.field(description="QA samples of decided claims, newest first, optionally of one status or "
                      f"adjuster (QA, managers, admins). {PAGING}", metadata=allow(QA_REVIEWERS))
    def claim_qa_samples(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        status: Annotated[QaSampleStatus | None,  # type: ignore[valid-type]
                          strawberry.argument(description="Only samples in this status.")] = None,
        adjuster: Annotated[str | None, strawberry.argument(description="Only samples of claims this staff "
                                                            "member decided (their subject).")] = None,
    ) -> Connection[ClaimQaSample]:
        ctx = info.context
        prefetch, wrap = sample_wrapper(ctx)
        return keyset_connection(ctx.session, qa.samples_query(status=status, adjuster=adjuster), wrap=wrap,
                                 settings=ctx.settings, first=first, after=after, last=last, before=before,
                                 key_columns=[KeyColumn(om.QaSample.id, descending=True)], prefetch=prefetch)

    @strawberry.field(description="Claims waiting for someone, oldest first: the state each waits in, since when, "
                      f"against which service level (claims managers, QA, auditors). {PAGING}",
                      metadata=allow(PROGRESS_READERS))
    def claim_progress(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        states: Annotated[list[ClaimState] | None,  # type: ignore[valid-type]
                          strawberry.argument(description="Only claims waiting in these states (default: every "
                                              "waiting state).")] = None,
        breached_only: Annotated[bool, strawberry.argument(description="Only claims past their service "
                                                           "level.")] = False,
    ) -> Connection[ClaimProgress]:
        ctx = info.context
        now = ctx.now()
        stmt = progress.progress_query(states=tuple(states or ()), breached_at=now if breached_only else None)
        page = keyset_page(ctx.session, stmt, [KeyColumn(m.Claim.id)],
                           request=page_request(first, after, last, before, ctx.settings), plain=True)
        count_stmt = select(func.count()).select_from(stmt.subquery())
        return connection(page, lambda row: ClaimProgress.from_row(row, now),
                          count=lambda: int(ctx.session.scalar(count_stmt) or 0))

    @strawberry.field(description="Each waiting state at a glance: how many claims wait, how many are past their "
                      "service level, the longest wait (claims managers, QA, auditors).",
                      metadata=allow(PROGRESS_READERS))
    def claim_progress_summary(self, info: Info[Context, Any]) -> list[ClaimStageProgress]:
        ctx = info.context
        return [ClaimStageProgress.of(p) for p in progress.progress_summary(ctx.session, now=ctx.now())]

    @strawberry.field(description="A product's claim flow templates, one per claim type at most (staff).",
                      metadata=allow(STAFF))
    def claim_flow_templates(
        self, info: Info[Context, Any],
        product_id: Annotated[strawberry.ID, strawberry.argument(description="The product's global id.")],
    ) -> list[ClaimFlowTemplate]:
        ctx = info.context
        pk = decode_global_id(product_id, "Product", field="productId")
        return [ClaimFlowTemplate.from_row(r) for r in templates.templates_of(ctx.session, product_id=pk)]
