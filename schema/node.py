"""The root ``node`` query: any object by its global id, fetched by the domain that owns it.

Each domain package registers how its types are fetched by primary key (its ``NODES``
mapping: type name -> fetcher), and ``schema/__init__.py`` merges them, refusing a type
name registered twice. A fetcher applies the domain's row scoping; ``node`` answers null
when the type is not registered, the row is absent, or the caller may not see it (a
``DomainError`` from the fetcher). A malformed id is a ``BAD_ID`` error.

Example::

    NODES: dict[str, NodeFetcher] = {
        "Policy": lambda ctx, pk: Policy.from_row(
            service.get_policy(ctx.session, principal=ctx.principal, policy_id=pk)),
    }
    NodeQuery = node_query(node_registry(policies.NODES, claims.NODES))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import DomainError
from core.roles import AUTHENTICATED
from schema.context import Context
from schema.permissions import allow
from schema.relay import Node, parse_global_id

__all__ = ["NodeFetcher", "node_query", "node_registry", "resolve_node"]

#: Fetch one object of a type by primary key as the caller may see it (DomainError: not visible).
NodeFetcher = Callable[[Context, int], Node | None]


def node_registry(*parts: Mapping[str, NodeFetcher]) -> dict[str, NodeFetcher]:
    """One mapping of every domain's node fetchers; a type name registered twice is refused."""
    merged: dict[str, NodeFetcher] = {}
    for part in parts:
        for type_name, fetch in part.items():
            if type_name in merged:
                raise ValueError(f"node type {type_name!r} is registered twice")
            merged[type_name] = fetch
    return merged


def resolve_node(nodes: Mapping[str, NodeFetcher], ctx: Context, id: str) -> Node | None:
    """The object behind a global id, or None when unknown, absent or not visible."""
    type_name, pk = parse_global_id(id)
    fetch = nodes.get(type_name)
    if fetch is None:
        return None
    try:
        return fetch(ctx, pk)
    except DomainError:
        return None


def node_query(nodes: Mapping[str, NodeFetcher]) -> type:
    """The query type holding the root ``node`` field over ``nodes``."""

    @strawberry.type
    class NodeQuery:
        @strawberry.field(
            description="Any object by its global id (null when absent or not visible).",
            metadata=allow(AUTHENTICATED),
        )
        def node(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
                description="A global id as returned in an object's `id` (malformed: BAD_ID).")]) -> Node | None:
            return resolve_node(nodes, info.context, id)

    return NodeQuery
