"""Metrics defined once, declaratively: a measure over facts, a unit, a description.

A measure is a tree: ``Count`` and ``Sum`` add flow facts over a bucket; ``LevelSum`` adds a
level (policies in force, premium earned per day) over each day of the bucket (the premium
earned), ``LevelAvg`` averages it over the bucket's days (the policies in force on an average
day); ``Diff`` subtracts, ``Ratio`` divides and is null (never NaN, never an error) when its
denominator is zero. Every metric groups by every ``Dimension`` and buckets by every
``Bucket`` but ``HOUR`` for those that read a level (levels change once a day).

Example::

    METRICS["loss_ratio"].measure   # Ratio(Sum(CLAIM_PAID), LevelSum(PREMIUM_RATE))
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from resolvers.analytics.facts import Fact

__all__ = [
    "METRICS",
    "Bucket",
    "Cell",
    "Count",
    "Diff",
    "Dimension",
    "LevelAvg",
    "LevelSum",
    "Measure",
    "Metric",
    "MetricKey",
    "Ratio",
    "Sum",
    "Unit",
    "evaluate",
    "flow_facts",
    "level_facts",
]


class Dimension(enum.StrEnum):
    """What a series may be grouped by (and filtered on)."""

    PRODUCT = "product"
    AGE_BAND = "age_band"  # the insured's age when the policy started
    REGION = "region"  # the customer's city


class Bucket(enum.StrEnum):
    """The time bucket of a series, in the business time zone (weeks start on Monday)."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    PERIOD = "period"  # the whole period as one bucket (a KPI tile)


class Unit(enum.StrEnum):
    """What a metric's values are."""

    COUNT = "count"
    MONEY = "money"  # yuan
    RATIO = "ratio"  # 0 to 1 (may exceed 1 where the metric says so)


@dataclass(frozen=True)
class Count:
    """How many facts of these kinds."""

    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class Sum:
    """The amounts of facts of these kinds, added."""

    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class LevelSum:
    """A level fact's value (its amount, or its count when ``of_count``) added over each day of the bucket."""

    fact: Fact
    of_count: bool = False


@dataclass(frozen=True)
class LevelAvg:
    """A level fact's count averaged over the bucket's days."""

    fact: Fact


@dataclass(frozen=True)
class Diff:
    """``left - right``."""

    left: Measure
    right: Measure


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator``, null when the denominator is zero."""

    numerator: Measure
    denominator: Measure


Measure = Count | Sum | LevelSum | LevelAvg | Diff | Ratio


@dataclass(frozen=True)
class Metric:
    """A named business metric."""

    key: str
    title: str
    description: str
    unit: Unit
    measure: Measure


def _m(key: str, title: str, unit: Unit, measure: Measure, description: str) -> Metric:
    return Metric(key, title, description, unit, measure)


_F = Fact
_WRITTEN = (_F.POLICY_ISSUED, _F.POLICY_RENEWED)
#: Every metric, by key.
METRICS: dict[str, Metric] = {m.key: m for m in (
    _m("policies_issued", "Policies issued", Unit.COUNT, Count((_F.POLICY_ISSUED,)),
       "New-business policies issued (renewals not included), by issue time."),
    _m("policies_renewed", "Policies renewed", Unit.COUNT, Count((_F.POLICY_RENEWED,)),
       "Renewal policies issued, by issue time."),
    _m("written_premium", "Written premium", Unit.MONEY, Sum(_WRITTEN),
       "Premium of the policies issued and renewed, by issue time (cancellations not deducted)."),
    _m("average_premium", "Average premium", Unit.MONEY, Ratio(Sum((_F.POLICY_ISSUED,)), Count((_F.POLICY_ISSUED,))),
       "Written premium of new business divided by the policies issued."),
    _m("policies_in_force", "Policies in force", Unit.COUNT, LevelAvg(_F.IN_FORCE),
       "Policies covering an average day of the bucket (cancelled ones never count; surrendered and lapsed ones "
       "until their end date)."),
    _m("earned_premium", "Earned premium", Unit.MONEY, LevelSum(_F.PREMIUM_RATE),
       "Premium earned on the bucket's days: each policy earns its premium evenly over its covered days."),
    _m("cancellations", "Cooling-off cancellations", Unit.COUNT, Count((_F.POLICY_CANCELLED,)),
       "Policies cancelled in the cooling-off period, by end date."),
    _m("surrenders", "Surrenders", Unit.COUNT, Count((_F.POLICY_SURRENDERED,)),
       "Policies surrendered, by end date."),
    _m("surrender_rate", "Surrender rate", Unit.RATIO, Ratio(Count((_F.POLICY_SURRENDERED,)), LevelAvg(_F.IN_FORCE)),
       "Surrenders in the bucket divided by the policies in force on its average day (not annualised)."),
    _m("renewals_due", "Renewals due", Unit.COUNT, Count((_F.RENEWAL_DUE,)),
       "Policies whose period ended (or that were renewed), by the last day of the period."),
    _m("renewal_rate", "Renewal rate", Unit.RATIO, Ratio(Count((_F.RENEWAL_KEPT,)), Count((_F.RENEWAL_DUE,))),
       "Of the policies whose period ended in the bucket, the share that was renewed."),
    _m("renewal_drop_off", "Renewal drop-off", Unit.RATIO,
       Ratio(Diff(Count((_F.RENEWAL_DUE,)), Count((_F.RENEWAL_KEPT,))), Count((_F.RENEWAL_DUE,))),
       "Of the policies whose period ended in the bucket, the share that was not renewed."),
    _m("claims_reported", "Claims reported", Unit.COUNT, Count((_F.CLAIM_REPORTED,)),
       "Claims reported, by report time."),
    _m("claims_paid", "Claims paid", Unit.COUNT, Count((_F.CLAIM_PAID,)),
       "Claims paid, by the time they first became paid."),
    _m("claims_paid_amount", "Claims paid (amount)", Unit.MONEY, Sum((_F.CLAIM_PAID,)),
       "Amount paid on the claims paid in the bucket."),
    _m("loss_ratio", "Loss ratio", Unit.RATIO, Ratio(Sum((_F.CLAIM_PAID,)), LevelSum(_F.PREMIUM_RATE)),
       "Claims paid divided by premium earned in the bucket (paid basis; may exceed 1)."),
    _m("claim_cycle_hours", "Claim cycle time", Unit.COUNT,
       Ratio(Sum((_F.CLAIM_CYCLE_HOURS,)), Count((_F.CLAIM_CYCLE_HOURS,))),
       "Mean hours from report to first payment of the claims paid in the bucket."),
    _m("advances_paid", "Advances paid", Unit.MONEY, Sum((_F.ADVANCE_PAID,)),
       "Amount advanced to customers in hospital, by payout date."),
    _m("advance_overdue_rate", "Advance overdue rate", Unit.RATIO,
       Ratio(Count((_F.ADVANCE_WENT_OVERDUE,)), Count((_F.ADVANCE_PAID,))),
       "Of the advances paid out in the bucket, the share that went overdue since (a cohort by payout date)."),
    _m("advances_written_off", "Advances written off", Unit.MONEY, Sum((_F.ADVANCE_DEFAULTED,)),
       "Amount written off on defaulted advances, by default date."),
    _m("complaints", "Complaints", Unit.COUNT, Count((_F.COMPLAINT_RECEIVED,)),
       "Complaints received, by receipt time (grouped by the policy a complaint names; product 0 when none)."),
    _m("complaint_rate", "Complaint rate", Unit.RATIO, Ratio(Count((_F.COMPLAINT_RECEIVED,)), LevelAvg(_F.IN_FORCE)),
       "Complaints received in the bucket divided by the policies in force on its average day."),
    _m("complaints_late_share", "Complaints decided late", Unit.RATIO,
       Ratio(Count((_F.COMPLAINT_LATE,)), Count((_F.COMPLAINT_RECEIVED,))),
       "Of the complaints received in the bucket, the share decided after the regulator's deadline."),
    _m("fast_claim_share", "Fast-claim share", Unit.RATIO,
       Ratio(Count((_F.CLAIM_PAID_FAST,)), Count((_F.CLAIM_PAID,))),
       "Of the claims paid in the bucket, the share paid as fast claims."),
)}


def flow_facts(measure: Measure) -> frozenset[Fact]:
    """The flow facts a measure reads."""
    if isinstance(measure, (Count, Sum)):
        return frozenset(measure.facts)
    if isinstance(measure, (Diff, Ratio)):
        left, right = (measure.left, measure.right) if isinstance(measure, Diff) else \
            (measure.numerator, measure.denominator)
        return flow_facts(left) | flow_facts(right)
    return frozenset()


def level_facts(measure: Measure) -> frozenset[Fact]:
    """The level facts a measure reads."""
    if isinstance(measure, (LevelSum, LevelAvg)):
        return frozenset({measure.fact})
    if isinstance(measure, Diff):
        return level_facts(measure.left) | level_facts(measure.right)
    if isinstance(measure, Ratio):
        return level_facts(measure.numerator) | level_facts(measure.denominator)
    return frozenset()


@dataclass
class Cell:
    """What one bucket of one group holds: per fact, flow counts and amounts; per level fact, day-sums."""

    counts: dict[Fact, int]
    amounts: dict[Fact, Decimal]
    level_counts: dict[Fact, Decimal]  # sum over the bucket's days of the level's count
    level_amounts: dict[Fact, Decimal]
    days: int


def evaluate(measure: Measure, cell: Cell) -> Decimal | None:
    """The measure's value in one cell (None: a ratio over zero)."""
    if isinstance(measure, Count):
        return Decimal(sum(cell.counts.get(f, 0) for f in measure.facts))
    if isinstance(measure, Sum):
        return sum((cell.amounts.get(f, Decimal(0)) for f in measure.facts), Decimal(0))
    if isinstance(measure, LevelSum):
        source = cell.level_counts if measure.of_count else cell.level_amounts
        return source.get(measure.fact, Decimal(0))
    if isinstance(measure, LevelAvg):
        return cell.level_counts.get(measure.fact, Decimal(0)) / Decimal(cell.days) if cell.days else None
    if isinstance(measure, Diff):
        left, right = evaluate(measure.left, cell), evaluate(measure.right, cell)
        return None if left is None or right is None else left - right
    num, den = evaluate(measure.numerator, cell), evaluate(measure.denominator, cell)
    if num is None or den is None or den == 0:
        return None
    return num / den


#: The metrics' keys as an enum (what the API names them by).
MetricKey = enum.StrEnum("MetricKey", {key.upper(): key for key in METRICS})  # type: ignore[misc]
