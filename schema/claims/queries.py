"""Root query fields of the claims domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import NotFoundError, ValidationError
from core.roles import CLAIM_READERS
from resolvers.claims import models as m
from resolvers.claims import service
from resolvers.claims.queue import QueueFilter, QueueSort, count_queue, list_queue
from schema.claims.enums import ClaimQueueSort
from schema.claims.inputs import ClaimQueueFilter
from schema.claims.loaders import prefetch_claims
from schema.claims.types import (
    After,
    Before,
    Claim,
    ClaimDocument,
    ClaimPayment,
    DocumentRequest,
    First,
    Last,
)
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.relay import PAGING, Connection, connection, decode_global_id, page_request

__all__ = ["NODES", "ClaimsQuery"]

#: How ``node(id:)`` fetches this domain's types (``schema.node``): scoped as ``claim(id:)``, so a
#: document, document request or payment is visible exactly when its claim is.
NODES: dict[str, NodeFetcher] = {
    "Claim": lambda ctx, pk: Claim.from_row(service.get_claim(ctx.session, principal=ctx.principal, claim_id=pk)),
    "ClaimDocument": lambda ctx, pk: ClaimDocument.from_row(
        service.get_part(ctx.session, principal=ctx.principal, model=m.ClaimDocument, part_id=pk)),
    "DocumentRequest": lambda ctx, pk: DocumentRequest.from_row(
        service.get_part(ctx.session, principal=ctx.principal, model=m.DocumentRequest, part_id=pk)),
    "ClaimPayment": lambda ctx, pk: ClaimPayment.from_row(
        service.get_part(ctx.session, principal=ctx.principal, model=m.Payment, part_id=pk)),
}


def _days_ago(now: dt.datetime, days: int | None, field: str) -> dt.datetime | None:
    if days is None:
        return None
    if not 0 <= days <= 3650:
        raise ValidationError("days: 0 to 3650", field=f"filter.{field}")
    return now - dt.timedelta(days=days)


def queue_filter(ctx: Context, f: ClaimQueueFilter) -> QueueFilter:
    """The service's queue filter of the input (ages measured from now; the caller's own subject for assignedToMe)."""
    now = ctx.now()
    return QueueFilter(
        states=tuple(f.states or ()), risk_levels=tuple(f.risk_levels or ()), min_amount=f.min_amount,
        max_amount=f.max_amount, sla_breached_at=now if f.sla_breached else None,
        customer_id=decode_global_id(f.customer_id, "Customer", field="filter.customerId") if f.customer_id else None,
        reported_before=_days_ago(now, f.min_age_days, "minAgeDays"),
        reported_after=_days_ago(now, f.max_age_days, "maxAgeDays"),
        assignee=ctx.principal.subject if f.assigned_to_me else f.assigned_to, unassigned=f.unassigned)


@strawberry.type
class ClaimsQuery:
    @strawberry.field(description="A claim by global id (null when absent or not visible: customers see their "
                      "own claims, hospitals the claims they billed, staff and auditors every claim).",
                      metadata=allow(CLAIM_READERS))
    def claim(self, info: Info[Context, Any],
              id: Annotated[strawberry.ID, strawberry.argument(description="The claim's global id.")]) -> Claim | None:
        ctx = info.context
        try:
            row = service.get_claim(ctx.session, principal=ctx.principal, claim_id=decode_global_id(id, "Claim"))
        except NotFoundError:
            return None
        return Claim.from_row(row)

    @strawberry.field(
        description="Claims the caller may see (adjusters: the work queue), filtered and sorted. Cursors belong "
        "to their sort: page with the same sort and filter. " + PAGING + " Cost: page size x selected fields.",
        metadata=allow(CLAIM_READERS),
    )
    def claims(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        filter: Annotated[ClaimQueueFilter | None, strawberry.argument(
            description="Which claims (all when absent).")] = None,
        sort: Annotated[ClaimQueueSort, strawberry.argument(  # type: ignore[valid-type]
            description="Order of the list.")] = QueueSort.OLDEST,
    ) -> Connection[Claim]:
        ctx = info.context
        qf = queue_filter(ctx, filter or ClaimQueueFilter())
        page = list_queue(ctx.session, principal=ctx.principal, page=page_request(first, after, last, before,
                                                                                    ctx.settings),
                          filter=qf, sort=sort, plain=True)
        prefetch_claims(ctx, info, page.items)
        return connection(page, Claim.from_row,
                          count=lambda: count_queue(ctx.session, principal=ctx.principal, filter=qf))
