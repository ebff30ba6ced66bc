"""Schema extensions: declared field access per role, and the query cost limit.

Both are validation rules, so with the validation cache a document is checked once per
role and never again; nothing here runs per field per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from schema.permissions import access_rule_for

__all__ = ["AccessControl", "cost_limit_rule"]


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
