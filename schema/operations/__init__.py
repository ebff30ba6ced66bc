"""The operations contract: what build_schema takes (OperationsQuery, OperationsMutation, NODES)."""

from __future__ import annotations

from schema.operations.mutations import OperationsMutation
from schema.operations.queries import NODES, OperationsQuery

__all__ = ["NODES", "OperationsMutation", "OperationsQuery"]
