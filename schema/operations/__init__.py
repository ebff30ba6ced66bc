"""The operations contract: what build_schema takes (OperationsQuery, OperationsMutation, NODES)."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.operations import queries
from schema.operations.mutations import OperationsMutation
from schema.operations.tag_queries import TAG_NODES, TagsQuery

NODES = {**queries.NODES, **TAG_NODES}
OperationsQuery = merge_types("OperationsQuery", (queries.OperationsQuery, TagsQuery))

__all__ = ["NODES", "OperationsMutation", "OperationsQuery"]
