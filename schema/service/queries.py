"""Root query fields of the service domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import DomainError, NotFoundError
from core.roles import INTERNAL, SERVICE_READERS
from resolvers.service import loaders as fetch
from resolvers.service import models as m
from resolvers.service import routing, service
from schema.context import Context
from schema.node import NodeFetcher
from schema.partners.paging import After, Before, First, Last
from schema.permissions import allow
from schema.relay import PAGING, Connection, decode_global_id, keyset_connection
from schema.service.inputs import WorkOrderFilter
from schema.service.types import Complaint, ServiceAgent, WorkOrder, WorkOrderBreach, WorkOrderComment

__all__ = ["NODES", "ServiceQuery"]


def _order(ctx: Context, pk: int) -> WorkOrder | None:
    return WorkOrder.from_row(service.get_work_order(ctx.session, principal=ctx.principal, work_order_id=pk))


def _comment(ctx: Context, pk: int) -> WorkOrderComment | None:
    return WorkOrderComment.from_row(service.get_comment(ctx.session, principal=ctx.principal, comment_id=pk))


def _agent(ctx: Context, pk: int) -> ServiceAgent | None:
    if ctx.principal.role not in INTERNAL:
        return None
    row = fetch.agents_by_id(ctx.session, [pk]).get(pk)
    return ServiceAgent.from_row(row) if row is not None else None


def _breach(ctx: Context, pk: int) -> WorkOrderBreach | None:
    if ctx.principal.role not in INTERNAL:
        return None
    row = ctx.session.get(m.WorkOrderBreach, pk)
    return WorkOrderBreach.from_row(row) if row is not None else None


def _complaint(ctx: Context, pk: int) -> Complaint | None:
    row = ctx.session.get(m.Complaint, pk)
    if row is None:
        raise NotFoundError("complaint not found")
    service.get_work_order(ctx.session, principal=ctx.principal, work_order_id=row.work_order_id)  # scoped
    return Complaint.from_row(row)


#: How ``node(id:)`` fetches this domain's types, scoped as their own reads (a customer: own orders).
NODES: dict[str, NodeFetcher] = {
    "WorkOrder": _order,
    "WorkOrderComment": _comment,
    "ServiceAgent": _agent,
    "WorkOrderBreach": _breach,
    "Complaint": _complaint,
}


@strawberry.type
class ServiceQuery:
    @strawberry.field(description="A work order by global id (null when absent or not visible: a customer sees their "
                      "own, staff and auditors every one).", metadata=allow(SERVICE_READERS))
    def work_order(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
            description="The work order's global id.")]) -> WorkOrder | None:
        try:
            return _order(info.context, decode_global_id(id, "WorkOrder"))
        except DomainError:
            return None

    @strawberry.field(description="Work orders the caller may see, oldest first, filtered (an agent console's "
                      "queue: unassigned orders of a team; a customer: their own). " + PAGING,
                      metadata=allow(SERVICE_READERS))
    def work_orders(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                    before: Before = None, filter: Annotated[WorkOrderFilter | None, strawberry.argument(
                        description="Which work orders (all visible when absent).")] = None) -> Connection[WorkOrder]:
        ctx = info.context
        f = filter or WorkOrderFilter()
        stmt = service.work_orders_query(
            ctx.principal, states=tuple(f.states or ()), types=tuple(f.types or ()), team=f.team,
            assignee_id=decode_global_id(f.assignee_id, "ServiceAgent", field="filter.assigneeId")
            if f.assignee_id else None, unassigned=bool(f.unassigned),
            customer_id=decode_global_id(f.customer_id, "Customer", field="filter.customerId")
            if f.customer_id else None, escalated=bool(f.escalated))
        return keyset_connection(ctx.session, stmt, wrap=WorkOrder.from_row, settings=ctx.settings, first=first,
                                 after=after, last=last, before=before)

    @strawberry.field(description="Service agents' routing profiles by id, optionally one team's. " + PAGING,
                      metadata=allow(INTERNAL))
    def service_agents(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                       before: Before = None, team: Annotated[str | None, strawberry.argument(
                           description="Only this team's agents.")] = None) -> Connection[ServiceAgent]:
        ctx = info.context
        return keyset_connection(ctx.session, routing.agents_query(team=team), wrap=ServiceAgent.from_row,
                                 settings=ctx.settings, first=first, after=after, last=last, before=before)
