"""Root query fields of the claims domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.errors import NotFoundError
from core.roles import CLAIM_READERS
from resolvers.claims import service
from resolvers.claims.queue import QueueFilter, QueueSort, cursor_of, list_queue
from schema.claims.enums import ClaimQueueSort
from schema.claims.inputs import ClaimQueueFilter
from schema.claims.loaders import prefetch_claims
from schema.claims.types import Claim, ClaimConnection
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.relay import Edge, decode_global_id, page_info, page_size

__all__ = ["NODES", "ClaimsQuery"]

#: How ``node(id:)`` fetches this domain's types (``schema.node``). ``Claim`` and ``ClaimDocument``
#: implement ``Node`` but ``node`` does not fetch them yet: it answers null for them, as it always has.
NODES: dict[str, NodeFetcher] = {}


@strawberry.type
class ClaimsQuery:
    @strawberry.field(description="A claim by global id (null when absent or not visible).",
                      metadata=allow(CLAIM_READERS))
    def claim(self, info: Info[Context, Any], id: strawberry.ID) -> Claim | None:
        ctx = info.context
        try:
            row = service.get_claim(ctx.session, principal=ctx.principal, claim_id=decode_global_id(id, "Claim"))
        except NotFoundError:
            return None
        return Claim.from_row(row)

    @strawberry.field(
        description="Claims the caller may see (adjusters: the work queue), filtered and sorted; "
        "first: 0..100 (default 20). Cost: first x selected fields.",
        metadata=allow(CLAIM_READERS),
    )
    def claims(
        self, info: Info[Context, Any], first: int | None = None, after: str | None = None,
        filter: ClaimQueueFilter | None = None,
        sort: ClaimQueueSort = QueueSort.OLDEST,  # type: ignore[valid-type]
    ) -> ClaimConnection:
        ctx = info.context
        f = filter or ClaimQueueFilter()
        qf = QueueFilter(states=tuple(f.states or ()), risk_levels=tuple(f.risk_levels or ()),
                         min_amount=f.min_amount, max_amount=f.max_amount,
                         sla_breached_at=ctx.now() if f.sla_breached else None)
        page = list_queue(ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings), after=after,
                          filter=qf, sort=sort, plain=True)
        prefetch_claims(ctx, info, page.items)
        edges = [Edge(cursor=cursor_of(r, sort), node=Claim.from_row(r)) for r in page.items]
        return ClaimConnection(edges=edges, filter=qf, page_info=page_info(page))
