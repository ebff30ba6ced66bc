"""The error type of every operations mutation: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode``."""

from __future__ import annotations

from schema.errors import mutation_errors

__all__ = ["CreateExperimentError", "DeleteExperimentError", "ForceExperimentVariantError", "SetExperimentStatusError",
           "UpdateExperimentError"]

_SPEC = {
    "BAD_KEY": "key is not 2-64 of a-z, 0-9, - and _ starting with a letter.",
    "TOO_FEW_VARIANTS": "An experiment needs at least two variants.",
    "TOO_MANY_VARIANTS": "An experiment has at most 8 variants.",
    "DUPLICATE_VARIANT": "A variant appears twice.",
    "UNKNOWN_VARIANT": "A variant the flow does not know (see FlowVariant).",
    "UNBALANCED_WEIGHTS": "Weights are not all non-negative or do not add up to 1.",
    "BAD_COVERAGE": "coverage is not in (0, 1].",
    "BAD_NAMESPACE_RANGE": "The namespace range is not 0 <= namespaceStart < namespaceEnd <= 1.",
    "BAD_SCHEDULE": "endsAt is not after startsAt.",
    "NAMESPACE_OVERLAP": "A draft or running experiment holds an overlapping range of the same namespace.",
    "FLOW_OVERLAP": "A draft or running experiment of the same flow uses another namespace: experiments on one flow "
                    "split one namespace, so a subject is in at most one.",
}
_TRANSITION = "The experiment's status does not allow this (the message names it)."

CreateExperimentError = mutation_errors("CreateExperiment", {
    **_SPEC, "KEY_TAKEN": "An experiment with this key exists (keys are never reused)."})
UpdateExperimentError = mutation_errors("UpdateExperiment", {
    **_SPEC, "KEY_FIXED": "key differs from the experiment's: a key never changes.",
    "FLOW_FIXED": "flow differs from the experiment's: a flow never changes.",
    "VARIANTS_FIXED": "A running experiment keeps its variants and their order (change weights only).",
    "INVALID_TRANSITION": _TRANSITION})
SetExperimentStatusError = mutation_errors("SetExperimentStatus", {"INVALID_TRANSITION": _TRANSITION})
DeleteExperimentError = mutation_errors("DeleteExperiment", {"INVALID_TRANSITION": "Only a draft may be deleted."})
ForceExperimentVariantError = mutation_errors("ForceExperimentVariant", {
    "BAD_SUBJECT": "subject is empty or longer than 120 characters.",
    "UNKNOWN_VARIANT": "The experiment has no such variant.",
    "INVALID_TRANSITION": "A stopped or killed experiment takes no overrides."})
