"""Schema extensions: cached documents, declared field access per role, the query cost limit.

Access and cost are validation rules, so with the validation cache a document is checked
once per role and never again; nothing here runs per field per row. Extensions are given
to the schema as factories (a class or a ``functools.partial``): strawberry builds one
instance per request, so no request sees another's execution context.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from schema.documents import DocumentStore
from schema.permissions import access_rule_for

__all__ = ["AccessControl", "CachedDocuments", "cost_limit_rule"]


class CachedDocuments(SchemaExtension):
    """Parses and validates through a :class:`DocumentStore` (size cap, token limit, caches).

    Example::

        store = DocumentStore(max_bytes=65536, max_tokens=4000)
        schema = strawberry.Schema(Query, extensions=[partial(CachedDocuments, store=store)])
    """

    def __init__(self, *, store: DocumentStore) -> None:
        self.store = store
        self.digest: bytes | None = None

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = self.store.max_tokens
        if ctx.graphql_document is None and isinstance(ctx.query, str) and ctx.query:
            # On a syntax error strawberry parses it again (same options, same error) where it
            # reports errors on every transport; raised from here, a subscription would only
            # see "complete".
            with contextlib.suppress(GraphQLSyntaxError):
                ctx.graphql_document, self.digest = self.store.parse(ctx.query)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.pre_execution_errors is None and ctx.graphql_document is not None:
            ctx.pre_execution_errors = self.store.validate(
                ctx.schema._schema, ctx.graphql_document, ctx.validation_rules, digest=self.digest)
        yield


class AccessControl(SchemaExtension):
    """Adds the calling role's field-access rule to the operation's validation rules."""

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context.context
        principal = getattr(ctx, "principal", None)
        role = principal.role.value if principal is not None and principal.role is not None else None
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            access_rule_for(role),
        )
        yield


PAGE_ARGS = ("first", "last")


@cache
def cost_limit_rule(max_cost: int, default_page: int, max_page: int) -> type[ValidationRule]:
    """A rule refusing operations whose estimated cost exceeds ``max_cost``.

    Every field costs 1; a field with a ``first``/``last`` argument multiplies the cost of
    its selection by that page size (a variable counts as the maximum page size).
    """

    class CostLimitRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            cost = _selection_cost(node.selection_set, fragments, default_page, max_page, set())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"Query cost {cost} exceeds the limit of {max_cost}; ask for smaller pages "
                        "or fewer fields.",
                        node,
                        extensions={"code": "COST_LIMIT", "cost": cost, "limit": max_cost},
                    )
                )

    return CostLimitRule


def _selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    default_page: int,
    max_page: int,
    seen: set[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            mult = 1
            has_page_arg = False
            for arg in sel.arguments or ():
                if arg.name.value in PAGE_ARGS:
                    has_page_arg = True
                    if isinstance(arg.value, IntValueNode):
                        mult = max(1, int(arg.value.value))
                    elif isinstance(arg.value, VariableNode):
                        mult = max_page
            if (
                not has_page_arg
                and sel.name.value in {"policies", "customers", "claims"}
                and sel.selection_set
            ):
                mult = default_page
            total += 1 + mult * _selection_cost(sel.selection_set, fragments, default_page, max_page, seen)
        elif isinstance(sel, InlineFragmentNode):
            total += _selection_cost(sel.selection_set, fragments, default_page, max_page, seen)
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            frag = fragments.get(name)
            if frag is None or name in seen:
                continue  # unknown or cyclic fragments are reported by the standard rules
            total += _selection_cost(frag.selection_set, fragments, default_page, max_page, seen | {name})
    return total
