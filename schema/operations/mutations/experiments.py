"""Mutations of experiments: create, update, start/stop/kill, delete a draft, force a variant (QA)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from core.errors import ValidationError
from core.roles import EXPERIMENT_MANAGERS, VARIANT_FORCERS
from resolvers.operations import experiments
from resolvers.operations import service as m
from schema.context import Context
from schema.errors import run_mutation
from schema.operations.errors import (
    CreateExperimentError,
    DeleteExperimentError,
    ForceExperimentVariantError,
    SetExperimentStatusError,
    UpdateExperimentError,
)
from schema.operations.inputs import (
    CreateExperimentInput,
    DeleteExperimentInput,
    ForceExperimentVariantInput,
    SetExperimentStatusInput,
    UpdateExperimentInput,
)
from schema.operations.types import Experiment
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["CreateExperimentPayload", "DeleteExperimentPayload", "ExperimentMutations",
           "ForceExperimentVariantPayload", "SetExperimentStatusPayload", "UpdateExperimentPayload"]

INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
EXPERIMENT_DOC = "The experiment as the mutation left it (null when refused)."
ERRORS_DOC = "Every refusal (empty on success): field, code, message."
_MAX_VARIANTS = 8


@strawberry.type(description="The result of createExperiment.")
@access(PUBLIC)
class CreateExperimentPayload:
    experiment: Experiment | None = strawberry.field(description=EXPERIMENT_DOC)
    errors: list[CreateExperimentError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of updateExperiment.")
@access(PUBLIC)
class UpdateExperimentPayload:
    experiment: Experiment | None = strawberry.field(description=EXPERIMENT_DOC)
    errors: list[UpdateExperimentError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of setExperimentStatus.")
@access(PUBLIC)
class SetExperimentStatusPayload:
    experiment: Experiment | None = strawberry.field(description=EXPERIMENT_DOC)
    errors: list[SetExperimentStatusError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of deleteExperiment.")
@access(PUBLIC)
class DeleteExperimentPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The deleted experiment's global id (null when "
                                                                    "refused).")
    errors: list[DeleteExperimentError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of forceExperimentVariant.")
@access(PUBLIC)
class ForceExperimentVariantPayload:
    experiment: Experiment | None = strawberry.field(description=EXPERIMENT_DOC)
    errors: list[ForceExperimentVariantError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


def _spec(data: CreateExperimentInput) -> experiments.ExperimentSpec:
    if len(data.variants) > _MAX_VARIANTS:
        raise ValidationError(f"at most {_MAX_VARIANTS} variants", field="variants", code="TOO_MANY_VARIANTS")
    for name, text, limit in (("namespace", data.namespace, 64), ("seed", data.seed, 64)):
        if text is not None and not 0 < len(text) <= limit:
            raise ValidationError(f"{name} has 1 to {limit} characters", field=name, code="INVALID")
    if len(data.description) > 500:
        raise ValidationError("description has at most 500 characters", field="description", code="INVALID")
    return experiments.ExperimentSpec(
        key=data.key, flow=m.Flow(data.flow), variants=[(m.FlowVariant(v.variant).value, float(v.weight))
                                                        for v in data.variants],
        coverage=float(data.coverage), namespace=data.namespace, namespace_start=float(data.namespace_start),
        namespace_end=float(data.namespace_end), seed=data.seed, starts_at=data.starts_at, ends_at=data.ends_at,
        description=data.description,
        segment_id=decode_global_id(data.segment_id, "Segment", field="segmentId") if data.segment_id else None)


def _run(info: Info[Context, Any], action: str, data: Any, work: Callable[[Session], m.Experiment],
         codes: Any) -> tuple[Experiment | None, list[Any]]:
    row, errors = run_mutation(info, action, data, work, codes=codes,
                               target=lambda r: None if r is None else encode_global_id("Experiment", r.id))
    return (Experiment.from_row(row) if row is not None else None), errors


def _id(value: strawberry.ID) -> int:
    return decode_global_id(value, "Experiment", field="experimentId")


@strawberry.type
class ExperimentMutations:
    @strawberry.mutation(description="Create a draft experiment on a flow. Refuses unbalanced weights, variants the "
                         "flow does not know and overlapping namespace ranges, every error at once.",
                         metadata=allow(EXPERIMENT_MANAGERS))
    def create_experiment(self, info: Info[Context, Any],
                          input: Annotated[CreateExperimentInput, INPUT]) -> CreateExperimentPayload:
        ctx = info.context
        exp, errors = _run(info, "createExperiment", input, lambda s: experiments.create_experiment(
            s, principal=ctx.principal, spec=_spec(input), now=ctx.now()), CreateExperimentError)
        return CreateExperimentPayload(experiment=exp, errors=errors)

    @strawberry.mutation(description="Change a draft or running experiment (weights, coverage, range, schedule, "
                         "description); subjects already exposed keep their variant.",
                         metadata=allow(EXPERIMENT_MANAGERS))
    def update_experiment(self, info: Info[Context, Any],
                          input: Annotated[UpdateExperimentInput, INPUT]) -> UpdateExperimentPayload:
        ctx = info.context
        exp, errors = _run(info, "updateExperiment", input, lambda s: experiments.update_experiment(
            s, principal=ctx.principal, experiment_id=_id(input.experiment_id), spec=_spec(input),
            expected_version=input.expected_version, now=ctx.now()), UpdateExperimentError)
        return UpdateExperimentPayload(experiment=exp, errors=errors)

    @strawberry.mutation(description="Start, stop or kill an experiment (KILL is the kill switch: everyone gets the "
                         "flow's default at once).", metadata=allow(EXPERIMENT_MANAGERS))
    def set_experiment_status(self, info: Info[Context, Any],
                              input: Annotated[SetExperimentStatusInput, INPUT]) -> SetExperimentStatusPayload:
        ctx = info.context
        exp, errors = _run(info, "setExperimentStatus", input, lambda s: experiments.set_status(
            s, principal=ctx.principal, experiment_id=_id(input.experiment_id), action=input.action.value,
            expected_version=input.expected_version, now=ctx.now()), SetExperimentStatusError)
        return SetExperimentStatusPayload(experiment=exp, errors=errors)

    @strawberry.mutation(description="Delete a draft experiment (one that ran keeps its record: stop or kill it).",
                         metadata=allow(EXPERIMENT_MANAGERS))
    def delete_experiment(self, info: Info[Context, Any],
                          input: Annotated[DeleteExperimentInput, INPUT]) -> DeleteExperimentPayload:
        ctx = info.context
        pk, errors = run_mutation(info, "deleteExperiment", input, lambda s: experiments.delete_experiment(
            s, principal=ctx.principal, experiment_id=_id(input.experiment_id)), codes=DeleteExperimentError,
            target=lambda r: None if r is None else encode_global_id("Experiment", r))
        return DeleteExperimentPayload(deleted_id=strawberry.ID(encode_global_id("Experiment", pk)) if pk else None,
                                       errors=errors)

    @strawberry.mutation(description="QA: make one subject always get a variant of a draft or running experiment "
                         "(never counted in results); a null variant removes the override.",
                         metadata=allow(VARIANT_FORCERS))
    def force_experiment_variant(self, info: Info[Context, Any], input: Annotated[ForceExperimentVariantInput, INPUT]
                                 ) -> ForceExperimentVariantPayload:
        ctx = info.context
        exp, errors = _run(info, "forceExperimentVariant", input, lambda s: experiments.force_variant(
            s, principal=ctx.principal, experiment_id=_id(input.experiment_id), subject=input.subject,
            variant_key=None if input.variant is None else m.FlowVariant(input.variant).value, now=ctx.now()),
            ForceExperimentVariantError)
        return ForceExperimentVariantPayload(experiment=exp, errors=errors)
