"""Root query fields of the policies domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.auth import Role
from core.errors import NotFoundError
from core.roles import POLICY_READERS, STAFF
from resolvers.policies import loaders as fetch
from resolvers.policies import service
from resolvers.policies.scoping import may_see_customer
from resolvers.policies.underwriting import QUESTIONS
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import PUBLIC, allow
from schema.policies.enums import PolicyStatus
from schema.policies.loaders import prefetch_policy_relations
from schema.policies.types import (
    Customer,
    CustomerConnection,
    HealthQuestion,
    Policy,
    PolicyConnection,
    Product,
)
from schema.relay import decode_global_id, keyset_edges, page_info, page_size

__all__ = ["NODES", "PoliciesQuery"]


@strawberry.type
class PoliciesQuery:
    @strawberry.field(description="The calling customer.", metadata=allow(Role.CUSTOMER))
    def me(self, info: Info[Context, Any]) -> Customer | None:
        ctx = info.context
        if ctx.principal.customer_id is None:
            return None
        rows = fetch.customers_by_id(ctx.session, [ctx.principal.customer_id])
        row = rows.get(ctx.principal.customer_id)
        return Customer.from_row(row) if row else None

    @strawberry.field(description="A customer by global id (null when not visible).", metadata=allow(POLICY_READERS))
    def customer(self, info: Info[Context, Any], id: strawberry.ID) -> Customer | None:
        ctx = info.context
        pk = decode_global_id(id, "Customer")
        if not may_see_customer(ctx.principal, pk):
            return None
        row = fetch.customers_by_id(ctx.session, [pk]).get(pk)
        return Customer.from_row(row) if row else None

    @strawberry.field(description="Customers, oldest first. first: at most the max page size (100).",
                      metadata=allow(STAFF))
    def customers(self, info: Info[Context, Any], first: int | None = None, after: str | None = None) -> CustomerConnection:
        ctx = info.context
        page = service.list_customers(ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings), after=after)
        return CustomerConnection(
            edges=keyset_edges(page, Customer.from_row),
            page_info=page_info(page),
        )

    @strawberry.field(description="Products on sale.", metadata=allow(PUBLIC))
    def products(self, info: Info[Context, Any], include_inactive: bool = False) -> list[Product]:
        ctx = info.context
        return [Product.from_row(p) for p in service.list_products(ctx.session, active_only=not include_inactive)]

    @strawberry.field(description="The smart health questionnaire.", metadata=allow(PUBLIC))
    def health_questions(self) -> list[HealthQuestion]:
        return [HealthQuestion(code=c, text=t, asks_for_diagnoses=d) for c, (t, d) in QUESTIONS.items()]

    @strawberry.field(description="A policy by global id (null when not visible).", metadata=allow(POLICY_READERS))
    def policy(self, info: Info[Context, Any], id: strawberry.ID) -> Policy | None:
        ctx = info.context
        pk = decode_global_id(id, "Policy")
        try:
            row = service.get_policy(ctx.session, principal=ctx.principal, policy_id=pk)
        except NotFoundError:
            return None
        return Policy.from_row(row)

    @strawberry.field(
        description="Policies the caller may see, oldest first; first: 0..100 (default 20). "
        "Cost: first x selected fields.",
        metadata=allow(POLICY_READERS),
    )
    def policies(
        self,
        info: Info[Context, Any],
        first: int | None = None,
        after: str | None = None,
        status: PolicyStatus | None = None,  # type: ignore[valid-type]
    ) -> PolicyConnection:
        ctx = info.context
        page = service.list_policies(
            ctx.session, principal=ctx.principal, first=page_size(first, ctx.settings), after=after, status=status
        )
        prefetch_policy_relations(ctx, info, page.items)
        return PolicyConnection(
            edges=keyset_edges(page, Policy.from_row),
            page_info=page_info(page),
            status_filter=status,
        )


def _policy_node(ctx: Context, pk: int) -> Policy:
    return Policy.from_row(service.get_policy(ctx.session, principal=ctx.principal, policy_id=pk))


def _customer_node(ctx: Context, pk: int) -> Customer:  # get_customer applies the row scoping
    return Customer.from_row(service.get_customer(ctx.session, principal=ctx.principal, customer_id=pk))


def _product_node(ctx: Context, pk: int) -> Product:
    return Product.from_row(service.get_product(ctx.session, product_id=pk))


#: How ``node(id:)`` fetches this domain's types (``schema.node``).
NODES: dict[str, NodeFetcher] = {"Policy": _policy_node, "Customer": _customer_node, "Product": _product_node}
