"""Root query fields of the policies domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Annotated, Any

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
from schema.policies.arguments import After, Before, First, Last
from schema.policies.enums import PolicyStatus
from schema.policies.loaders import prefetch_policy_relations
from schema.policies.types import Customer, Endorsement, HealthQuestion, Policy, Product, Quote
from schema.relay import PAGING, Connection, connection, decode_global_id, page_request

__all__ = ["NODES", "PoliciesQuery"]


_ID = Annotated[strawberry.ID, strawberry.argument(description="The object's global id.")]


@strawberry.type
class PoliciesQuery:
    @strawberry.field(description="The calling customer (customer tokens only; null when the token names none).",
                      metadata=allow(Role.CUSTOMER))
    def me(self, info: Info[Context, Any]) -> Customer | None:
        ctx = info.context
        if ctx.principal.customer_id is None:
            return None
        rows = fetch.customers_by_id(ctx.session, [ctx.principal.customer_id])
        row = rows.get(ctx.principal.customer_id)
        return Customer.from_row(row) if row else None

    @strawberry.field(description="A customer by global id (null when absent or not visible: a customer sees only "
                      "themself).", metadata=allow(POLICY_READERS))
    def customer(self, info: Info[Context, Any], id: _ID) -> Customer | None:
        ctx = info.context
        pk = decode_global_id(id, "Customer")
        if not may_see_customer(ctx.principal, pk):
            return None
        row = fetch.customers_by_id(ctx.session, [pk]).get(pk)
        return Customer.from_row(row) if row else None

    @strawberry.field(description="Customers, oldest first (staff). " + PAGING, metadata=allow(STAFF))
    def customers(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                  before: Before = None) -> Connection[Customer]:
        ctx = info.context
        request = page_request(first, after, last, before, ctx.settings)
        page = service.list_customers(ctx.session, principal=ctx.principal, page=request)
        return connection(page, Customer.from_row,
                          count=lambda: service.count_customers(ctx.session, principal=ctx.principal))

    @strawberry.field(description="Products by code: those on sale, or all. Anyone may read them, even without a "
                      "token. " + PAGING, metadata=allow(PUBLIC))
    def products(
        self, info: Info[Context, Any],
        include_inactive: Annotated[bool, strawberry.argument(
            description="Also products no longer on sale (they keep their policies).")] = False,
        first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[Product]:
        ctx = info.context
        request = page_request(first, after, last, before, ctx.settings)
        page = service.list_products(ctx.session, page=request, active_only=not include_inactive)
        return connection(page, Product.from_row,
                          count=lambda: service.count_products(ctx.session, active_only=not include_inactive))

    @strawberry.field(description="The smart health questionnaire: every question, in the order to ask them (a "
                      "handful; answer each once in requestQuote).", metadata=allow(PUBLIC))
    def health_questions(self) -> list[HealthQuestion]:
        return [HealthQuestion(code=c, text=t, asks_for_diagnoses=d) for c, (t, d) in QUESTIONS.items()]

    @strawberry.field(description="A policy by global id (null when absent or not visible: a customer sees only "
                      "their own).", metadata=allow(POLICY_READERS))
    def policy(self, info: Info[Context, Any], id: _ID) -> Policy | None:
        ctx = info.context
        pk = decode_global_id(id, "Policy")
        try:
            row = service.get_policy(ctx.session, principal=ctx.principal, policy_id=pk)
        except NotFoundError:
            return None
        return Policy.from_row(row)

    @strawberry.field(
        description="Policies the caller may see (a customer: their own), oldest first. Cost: page size x selected "
        "fields. " + PAGING,
        metadata=allow(POLICY_READERS),
    )
    def policies(
        self,
        info: Info[Context, Any],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        status: Annotated[PolicyStatus | None, strawberry.argument(  # type: ignore[valid-type]
            description="Only policies in this status; default: all.")] = None,
    ) -> Connection[Policy]:
        ctx = info.context
        request = page_request(first, after, last, before, ctx.settings)
        page = service.list_policies(ctx.session, principal=ctx.principal, page=request, status=status)
        prefetch_policy_relations(ctx, info, page.items)
        return connection(page, Policy.from_row,
                          count=lambda: service.count_policies(ctx.session, principal=ctx.principal, status=status))


def _policy_node(ctx: Context, pk: int) -> Policy:
    return Policy.from_row(service.get_policy(ctx.session, principal=ctx.principal, policy_id=pk))


def _customer_node(ctx: Context, pk: int) -> Customer:  # get_customer applies the row scoping
    return Customer.from_row(service.get_customer(ctx.session, principal=ctx.principal, customer_id=pk))


def _product_node(ctx: Context, pk: int) -> Product:  # products are public, inactive ones too
    return Product.from_row(service.get_product(ctx.session, product_id=pk))


def _quote_node(ctx: Context, pk: int) -> Quote:  # a quote is visible with its customer
    return Quote.from_row(service.get_quote(ctx.session, principal=ctx.principal, quote_id=pk))


def _endorsement_node(ctx: Context, pk: int) -> Endorsement:  # an endorsement is visible with its policy
    return Endorsement.from_row(service.get_endorsement(ctx.session, principal=ctx.principal, endorsement_id=pk))


#: How ``node(id:)`` fetches this domain's types (``schema.node``), each scoped as the type's own reads.
NODES: dict[str, NodeFetcher] = {"Policy": _policy_node, "Customer": _customer_node, "Product": _product_node,
                                 "Quote": _quote_node, "Endorsement": _endorsement_node}
