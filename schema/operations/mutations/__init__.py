"""The operations domain's mutation families, merged in the schema's field order."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.operations.mutations.behaviour import BehaviourMutations
from schema.operations.mutations.experiments import ExperimentMutations
from schema.operations.mutations.tags import TagMutations

__all__ = ["OperationsMutation"]

OperationsMutation = merge_types("OperationsMutation", (ExperimentMutations, BehaviourMutations, TagMutations))
