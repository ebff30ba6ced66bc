"""Root query fields of advances, and how an advance is fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import NotFoundError
from core.roles import ADVANCE_READERS
from resolvers.advances import service
from schema.advances.enums import AdvanceState
from schema.advances.types import Advance
from schema.context import Context
from schema.node import NodeFetcher
from schema.payments.queries import After, Before, First, Last
from schema.permissions import allow
from schema.relay import PAGING, Connection, connection, decode_global_id, page_request

__all__ = ["NODES", "AdvancesQuery"]

#: ``node(id:)``: an advance as ``advance(id:)`` shows it (the customer: own; staff and auditors: every one).
NODES: dict[str, NodeFetcher] = {
    "Advance": lambda ctx, pk: Advance.from_row(service.get_advance(ctx.session, principal=ctx.principal,
                                                                    advance_id=pk)),
}


@strawberry.type
class AdvancesQuery:
    @strawberry.field(description="An advance by global id (null when absent or not visible: a customer sees "
                      "their own).", metadata=allow(ADVANCE_READERS))
    def advance(self, info: Info[Context, Any],
                id: Annotated[strawberry.ID, strawberry.argument(description="The advance's global id.")],
                ) -> Advance | None:
        ctx = info.context
        try:
            return Advance.from_row(service.get_advance(ctx.session, principal=ctx.principal,
                                                        advance_id=decode_global_id(id, "Advance")))
        except NotFoundError:
            return None

    @strawberry.field(description=f"Advances the caller may see, oldest first. {PAGING}",
                      metadata=allow(ADVANCE_READERS))
    def advances(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        state: Annotated[AdvanceState | None, strawberry.argument(  # type: ignore[valid-type]
            description="Only advances in this state.")] = None,
    ) -> Connection[Advance]:
        ctx = info.context
        page = service.list_advances(ctx.session, principal=ctx.principal, state=state,
                                     page=page_request(first, after, last, before, ctx.settings))
        return connection(page, Advance.from_row,
                          count=lambda: service.count_advances(ctx.session, principal=ctx.principal, state=state))
