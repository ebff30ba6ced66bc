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
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition

from core.errors import DomainError
from core.settings import Settings
from schema import (
    advances,
    analytics,
    audit,
    claims,
    investigations,
    knowledge,
    ledger,
    operations,
    partners,
    payments,
    policies,
    service,
)
from schema.documents import DocumentStore
from schema.extensions import AccessControl, CachedDocuments, cost_limit_rule
from schema.node import node_query, node_registry
from schema.permissions import Allow, show_permissions
from schema.scalars import SCALARS

__all__ = ["NODES", "build_schema"]


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


#: How ``node(id:)`` fetches each Node type, from every domain (tests check it covers every Node type).
NODES = node_registry(policies.NODES, audit.NODES, ledger.NODES, partners.NODES, claims.NODES,
                      investigations.NODES, payments.NODES, advances.NODES, operations.NODES, knowledge.NODES,
                      analytics.NODES, service.NODES)
NodeQuery = node_query(NODES)
Query = merge_types("Query", (NodeQuery, policies.PoliciesQuery, audit.AuditQuery, ledger.LedgerQuery,
                              partners.PartnersQuery, claims.ClaimsQuery, investigations.InvestigationsQuery,
                              payments.PaymentsQuery, advances.AdvancesQuery, operations.OperationsQuery,
                              knowledge.KnowledgeQuery,
                              analytics.AnalyticsQuery, service.ServiceQuery))
Mutation = merge_types("Mutation", (policies.PoliciesMutation, ledger.LedgerMutation, partners.PartnersMutation,
                                    claims.ClaimsMutation, investigations.InvestigationsMutation,
                                    payments.PaymentsMutation, advances.AdvancesMutation,
                                    operations.OperationsMutation, knowledge.KnowledgeMutation,
                                    service.ServiceMutation, analytics.AnalyticsMutation))
Subscription = merge_types("Subscription", (policies.PoliciesSubscription, claims.ClaimsSubscription,
                                            service.ServiceSubscription, analytics.AnalyticsSubscription))
for _root, _doc in ((Query, "Reads: every entity by its global id (`node`) and each domain's lists."),
                    (Mutation, "Changes: each returns a payload whose `errors` lists every refusal (empty on success)."),
                    (Subscription, "Live events over graphql-transport-ws.")):
    get_object_definition(_root, strict=True).description = _doc


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
        types=[policies.Policy, policies.Customer, policies.Product, policies.Quote, Allow],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
    )
    schema.documents = store
    show_permissions(schema)  # each field's declared roles as @allow in the SDL
    return schema
