"""Input types of the operations domain's mutations (each field's description says its limits)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from schema.operations.enums import ExperimentFlow, ExperimentStatus, ExperimentStatusAction, FlowVariant
from schema.scalars import Rate

__all__ = ["CreateExperimentInput", "DeleteExperimentInput", "ExperimentFilter", "ExperimentVariantInput",
           "ForceExperimentVariantInput", "SetExperimentStatusInput", "UpdateExperimentInput"]

_VERSION = "The version last read (optional): a newer one refuses with STALE_VERSION."
_EXPERIMENT = "The Experiment's global id."


@strawberry.input(description="A variant and its weight.")
class ExperimentVariantInput:
    variant: FlowVariant = strawberry.field(description="One of the flow's variants.")  # type: ignore[valid-type]
    weight: Rate = strawberry.field(description="Its share (0 to 1); the weights add up to 1 (UNBALANCED_WEIGHTS).")


@strawberry.input(description="An experiment's settings (create; update takes the same with its id).")
class CreateExperimentInput:
    key: str = strawberry.field(description="Unique key, 2-64 of a-z, 0-9, - and _ starting with a letter; never "
                                            "changes.")
    flow: ExperimentFlow = strawberry.field(description="The flow to switch; never changes.")  # type: ignore[valid-type]
    variants: list[ExperimentVariantInput] = strawberry.field(description="Two or more variants of the flow, control "
                                                                          "first; at most 8.")
    coverage: Rate = strawberry.field(default=Decimal("1"), description="Share of the range's subjects included (0, 1].")
    namespace: str | None = strawberry.field(default=None, description="Namespace (1-64 characters; default: the "
                                                                       "flow's name).")
    namespace_start: Rate = strawberry.field(default=Decimal("0"), description="Start of the namespace range.")
    namespace_end: Rate = strawberry.field(default=Decimal("1"), description="End of the namespace range (exclusive).")
    seed: str | None = strawberry.field(default=None, description="Hash seed (1-64 characters; default: the key).")
    starts_at: dt.datetime | None = strawberry.field(default=None, description="Start assigning at (with its zone, "
                                                                               "e.g. 2026-11-11T00:00:00+08:00).")
    ends_at: dt.datetime | None = strawberry.field(default=None, description="Stop assigning at (after startsAt).")
    description: str = strawberry.field(default="", description="What it tests (at most 500 characters).")
    segment_id: strawberry.ID | None = strawberry.field(default=None, description="Assign only this Segment's members "
                                                        "(subjects customer:<id>; others get the flow's default); "
                                                        "null: everyone.")


@strawberry.input(description="Change an experiment (draft or running; exposed subjects keep their variant).")
class UpdateExperimentInput(CreateExperimentInput):
    experiment_id: strawberry.ID = strawberry.field(description=_EXPERIMENT)
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)


@strawberry.input(description="Move an experiment's status.")
class SetExperimentStatusInput:
    experiment_id: strawberry.ID = strawberry.field(description=_EXPERIMENT)
    action: ExperimentStatusAction = strawberry.field(description="START, STOP or KILL.")  # type: ignore[valid-type]
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)


@strawberry.input(description="Delete a draft experiment.")
class DeleteExperimentInput:
    experiment_id: strawberry.ID = strawberry.field(description=_EXPERIMENT)


@strawberry.input(description="Force (or un-force) one subject's variant for testing.")
class ForceExperimentVariantInput:
    experiment_id: strawberry.ID = strawberry.field(description=_EXPERIMENT)
    subject: str = strawberry.field(description="The subject as the flow names it (CLAIM: customer:<customer number "
                                                "in the database>), 1-120 characters.")
    variant: FlowVariant | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The variant to force; null removes the override.")


@strawberry.input(description="Which experiments to list.")
class ExperimentFilter:
    flows: list[ExperimentFlow] | None = strawberry.field(default=None, description="Only these flows.")  # type: ignore[valid-type]
    statuses: list[ExperimentStatus] | None = strawberry.field(default=None, description="Only these statuses.")  # type: ignore[valid-type]
