"""GraphQL object types of the operations domain: experiments, their variants and results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import EXPERIMENT_READERS
from resolvers.operations import segments, stats
from resolvers.operations import service as m
from schema.context import Context
from schema.operations.enums import ExperimentFlow, ExperimentStatus, ExperimentVerdict, FlowVariant
from schema.partners.arguments import gid
from schema.permissions import access
from schema.relay import Node
from schema.scalars import Rate

__all__ = ["Experiment", "ExperimentResults", "ExperimentVariant", "ExperimentVariantResult"]


def _rate(value: float) -> Decimal:
    return Decimal(str(round(value, 4))).quantize(Decimal("0.0001"))


@strawberry.type(description="One variant of an experiment and its share of the covered subjects.")
@access(EXPERIMENT_READERS)
class ExperimentVariant:
    variant: FlowVariant = strawberry.field(description="The variant (the first is the control).")  # type: ignore[valid-type]
    weight: Rate = strawberry.field(description="Its share of the subjects in the experiment (weights add up to 1).")


@strawberry.type(description="One variant's figures. Forced (QA) subjects never count; comparisons are against the "
                             "control (the first variant) and null on the control itself.")
@access(EXPERIMENT_READERS)
class ExperimentVariantResult:
    variant: FlowVariant = strawberry.field(description="The variant.")  # type: ignore[valid-type]
    weight: Rate = strawberry.field(description="Its weight: the share of exposures it should get.")
    exposures: int = strawberry.field(description="Subjects exposed to it (each once).")
    conversions: int = strawberry.field(description="Exposed subjects who converted (CLAIM: their claim was paid).")
    conversion_rate: float | None = strawberry.field(description="conversions / exposures, 0 to 1 (null without "
                                                                 "exposures).")
    rate_low: float | None = strawberry.field(description="Lower bound of the rate's Wilson interval at the "
                                                          "results' confidence.")
    rate_high: float | None = strawberry.field(description="Upper bound of the rate's Wilson interval.")
    mean_hours_to_settle: float | None = strawberry.field(description="Mean hours from exposure to conversion.")
    difference: float | None = strawberry.field(description="Its rate minus the control's.")
    difference_low: float | None = strawberry.field(description="Lower bound of the difference's interval.")
    difference_high: float | None = strawberry.field(description="Upper bound of the difference's interval.")
    z: float | None = strawberry.field(description="The pooled two-proportion z statistic against the control.")
    p_value: float | None = strawberry.field(description="Its two-sided p-value.")

    @classmethod
    def from_result(cls, r: stats.VariantResult) -> ExperimentVariantResult:
        return cls(variant=m.FlowVariant(r.key), weight=_rate(r.weight), exposures=r.exposures,
                   conversions=r.conversions, conversion_rate=r.conversion_rate, rate_low=r.rate_low,
                   rate_high=r.rate_high, mean_hours_to_settle=r.mean_hours_to_settle, difference=r.difference,
                   difference_low=r.difference_low, difference_high=r.difference_high, z=r.z, p_value=r.p_value)


@strawberry.type(description="An experiment's results now: per variant, the sample-ratio check and the verdict.")
@access(EXPERIMENT_READERS)
class ExperimentResults:
    verdict: ExperimentVerdict = strawberry.field(description="What the numbers allow one to say.")  # type: ignore[valid-type]
    confidence: float = strawberry.field(description="Confidence of the intervals (0.95).")
    srm_p_value: float | None = strawberry.field(description="p-value of the chi-square test of exposures against "
                                                             "the weights (below 0.001: sample-ratio mismatch).")
    variants: list[ExperimentVariantResult] = strawberry.field(description="One per variant, control first.")


@strawberry.type(description="An A/B experiment on a process flow. Assignment is GrowthBook's (hash v2 of the "
                             "seed and the subject, weights, coverage, namespace range), sticky per subject.")
@access(EXPERIMENT_READERS)
class Experiment(Node):
    key: str = strawberry.field(description="Its unique key (2-64 of a-z, 0-9, - and _).")
    flow: ExperimentFlow = strawberry.field(description="The flow it switches.")  # type: ignore[valid-type]
    description: str = strawberry.field(description="What it tests (free text by operations staff).")
    status: ExperimentStatus = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    variants: list[ExperimentVariant] = strawberry.field(description="Its variants, control first.")
    coverage: Rate = strawberry.field(description="Share of the namespace range's subjects in the experiment.")
    namespace: str = strawberry.field(description="The namespace its range is taken from (experiments of one flow "
                                                  "share one).")
    namespace_start: Rate = strawberry.field(description="Start of its namespace range (inclusive).")
    namespace_end: Rate = strawberry.field(description="End of its namespace range (exclusive).")
    seed: str = strawberry.field(description="The hash seed (the key unless set).")
    hash_version: int = strawberry.field(description="GrowthBook hash version (2).")
    starts_at: dt.datetime | None = strawberry.field(description="When a running experiment starts assigning "
                                                                 "(null: at once).")
    ends_at: dt.datetime | None = strawberry.field(description="When it stops assigning (null: when stopped).")
    created_by: str = strawberry.field(description="Who created it.")
    status_changed_at: dt.datetime | None = strawberry.field(description="When its status last changed.")
    version: int = strawberry.field(description="Optimistic-locking version: pass it as expectedVersion.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Experiment) -> Experiment:
        return cls(id=gid("Experiment", row.id), pk=row.id, key=row.key, flow=row.flow, description=row.description,
                   status=row.status, variants=[ExperimentVariant(variant=m.FlowVariant(v["key"]),
                                                                  weight=_rate(float(v["weight"])))
                                                for v in row.variants],
                   coverage=_rate(row.coverage), namespace=row.namespace, namespace_start=_rate(row.namespace_start),
                   namespace_end=_rate(row.namespace_end), seed=row.seed, hash_version=row.hash_version,
                   starts_at=row.starts_at, ends_at=row.ends_at, created_by=row.created_by,
                   status_changed_at=row.status_changed_at, version=row.version)

    @strawberry.field(description="The global id of the Segment whose members alone it assigns (null: everyone; "
                                  "tag readers read the segment with segment(id:)).")
    def target_segment_id(self, info: Info[Context, Any]) -> strawberry.ID | None:
        pk = segments.segment_of_experiment(info.context.session, experiment_id=self.pk)
        return None if pk is None else gid("Segment", pk)

    @strawberry.field(description="Results per variant now (one query per experiment: read it on one experiment, "
                                  "not across a page).")
    def results(self, info: Info[Context, Any]) -> ExperimentResults:
        r = stats.results(info.context.session, experiment_id=self.pk)
        return ExperimentResults(verdict=r.verdict, confidence=r.confidence, srm_p_value=r.srm_p_value,
                                 variants=[ExperimentVariantResult.from_result(v) for v in r.variants])
