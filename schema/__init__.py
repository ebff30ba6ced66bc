"""The public GraphQL contract: one strawberry schema merged from every domain's part.

Example::

    schema = build_schema(settings)
    result = await schema.execute(query, context_value=context)
"""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, ValidationContext, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types
from strawberry.types import Info

from core.errors import DomainError
from core.settings import Settings
from resolvers.policies import service as policy_service
from schema.audit import AuditQuery
from schema.claims import ClaimsMutation, ClaimsQuery
from schema.context import Context
from schema.documents import DocumentStore
from schema.extensions import AccessControl, CachedDocuments, cost_limit_rule
from schema.ledger import LedgerMutation, LedgerQuery
from schema.partners import PartnersMutation, PartnersQuery
from schema.permissions import AUTHENTICATED, allow
from schema.policies import (
    Customer,
    Node,
    PoliciesMutation,
    PoliciesQuery,
    PoliciesSubscription,
    Policy,
    Product,
    Quote,
)
from schema.relay import parse_global_id

__all__ = ["build_schema"]


def _skip_unknown_fragments(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    class Rule(rule):  # type: ignore[misc, valid-type]
        def __init__(self, context: ValidationContext) -> None:
            try:
                super().__init__(context)
            except KeyError:  # spread of an undefined fragment: KnownFragmentNames reports it
                ValidationRule.__init__(self, context)

    return Rule


class SafeQueryDepthLimiter(QueryDepthLimiter):
    """strawberry's depth limit without its KeyError on spreads of undefined fragments."""

    def __init__(self, max_depth: int, **kwargs: Any) -> None:
        super().__init__(max_depth, **kwargs)
        self.validation_rules = [_skip_unknown_fragments(r) for r in self.validation_rules]


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its global id (null when absent or not visible).",
        metadata=allow(AUTHENTICATED),
    )
    def node(self, info: Info[Context, Any], id: strawberry.ID) -> Node | None:
        ctx: Context = info.context
        type_name, pk = parse_global_id(id)
        try:
            if type_name == "Policy":
                return Policy.from_row(
                    policy_service.get_policy(ctx.session, principal=ctx.principal, policy_id=pk)
                )
            if type_name == "Customer":  # get_customer applies the row scoping
                return Customer.from_row(
                    policy_service.get_customer(ctx.session, principal=ctx.principal, customer_id=pk)
                )
            if type_name == "Product":
                return Product.from_row(policy_service.get_product(ctx.session, product_id=pk))
        except DomainError:
            return None
        return None


Query = merge_types("Query", (NodeQuery, PoliciesQuery, AuditQuery, LedgerQuery, PartnersQuery, ClaimsQuery))
Mutation = merge_types("Mutation", (PoliciesMutation, LedgerMutation, PartnersMutation, ClaimsMutation))
Subscription = merge_types("Subscription", (PoliciesSubscription,))


class OpsureSchema(strawberry.Schema):
    """The schema with Opsure's error policy: domain errors pass, others are masked."""

    documents: DocumentStore | None = None  # the parse/validation caches (build_schema sets it)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, DomainError | GraphQLError):
                import logging

                logging.getLogger("opsure.graphql").error("unexpected error in resolver", exc_info=original)
                error.message = "Internal error"
            elif isinstance(original, DomainError):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": original.code,
                    **({"field": original.field} if original.field else {}),
                }


def build_schema(settings: Settings) -> strawberry.Schema:
    """The merged schema with bounded document caches and every limit from ``settings``.

    Extensions are factories (one instance per request); the validation rules of the
    limits are built once here, so the validation cache sees the same rules every time.
    """
    limits: list[type[ASTValidationRule]] = [
        *SafeQueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        cost_limit_rule(settings.max_query_cost, settings.default_page_size, settings.max_page_size),
    ]
    store = DocumentStore(max_bytes=settings.max_document_bytes, max_tokens=settings.max_query_tokens)
    extensions: list[Any] = [
        AccessControl,
        partial(AddValidationRules, limits),
        partial(CachedDocuments, store=store),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    schema = OpsureSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Policy, Customer, Product, Quote],
        extensions=extensions,
    )
    schema.documents = store
    return schema
