"""Experiment results per variant: conversion with confidence intervals, a two-proportion z-test
against the control, time to settle, and a sample-ratio-mismatch check (chi-square).

Forced (QA) subjects never count. A result says ``NOT_ENOUGH_DATA`` until every variant has
``min_exposures`` subjects and at least ``min_events`` conversions and non-conversions (the
normal approximation behind the z-test needs both), ``SAMPLE_RATIO_MISMATCH`` when the
exposures per variant deviate from the weights (chi-square p below ``srm_alpha``: the
assignment or the logging is broken, so no comparison is trusted), else ``SIGNIFICANT`` or
``NOT_SIGNIFICANT`` for the best variant against the control at ``alpha``.

Example::

    r = results(session, experiment_id=7)
    r.verdict, [(v.key, v.exposures, v.conversion_rate, v.p_value) for v in r.variants]
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from scipy import stats as scipy_stats
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resolvers.operations.experiments import get_experiment
from resolvers.operations.models import ExperimentExposure, ExperimentOutcome

__all__ = ["ExperimentResults", "VariantResult", "Verdict", "chi_square_srm", "results", "two_proportion", "wilson"]


class Verdict(enum.StrEnum):
    """What the numbers allow one to say."""

    NOT_ENOUGH_DATA = "not_enough_data"
    SAMPLE_RATIO_MISMATCH = "sample_ratio_mismatch"
    SIGNIFICANT = "significant"
    NOT_SIGNIFICANT = "not_significant"


@dataclass(frozen=True)
class VariantResult:
    """One variant's figures; the comparison fields are against the control (None for the control itself)."""

    index: int
    key: str
    weight: float
    exposures: int
    conversions: int
    conversion_rate: float | None
    rate_low: float | None  # Wilson interval of the conversion rate
    rate_high: float | None
    mean_hours_to_settle: float | None
    difference: float | None = None  # rate minus the control's
    difference_low: float | None = None  # unpooled (Wald) interval of the difference
    difference_high: float | None = None
    z: float | None = None
    p_value: float | None = None  # two-sided, pooled two-proportion z-test


@dataclass(frozen=True)
class ExperimentResults:
    """All variants, the SRM check and the verdict."""

    experiment_id: int
    confidence: float
    variants: list[VariantResult]
    srm_p_value: float | None
    verdict: Verdict


def _z(confidence: float) -> float:
    return float(scipy_stats.norm.ppf(0.5 + confidence / 2))


def wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    z = _z(confidence)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))  # float rounding at 0 and 1


def two_proportion(x1: int, n1: int, x2: int, n2: int, confidence: float) -> tuple[float, float, float, float, float]:
    """(difference p2 - p1, its low and high bound, z, two-sided p) of the pooled two-proportion z-test."""
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se_pooled if se_pooled > 0 else 0.0
    p_value = float(2 * scipy_stats.norm.sf(abs(z)))
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    half = _z(confidence) * se
    return p2 - p1, p2 - p1 - half, p2 - p1 + half, z, p_value


def chi_square_srm(observed: list[int], weights: list[float]) -> float | None:
    """p-value of the chi-square goodness of fit of exposures to the weights (None without exposures)."""
    total = sum(observed)
    pairs = [(o, w) for o, w in zip(observed, weights, strict=True) if w > 0]
    if total == 0 or len(pairs) < 2:
        return None
    weight_sum = sum(w for _, w in pairs)
    expected = [total * w / weight_sum for _, w in pairs]
    observed_kept = [o for o, _ in pairs]
    return float(scipy_stats.chisquare(observed_kept, expected).pvalue)


def results(session: Session, *, experiment_id: int, confidence: float = 0.95, min_exposures: int = 30,
            min_events: int = 5, srm_alpha: float = 0.001) -> ExperimentResults:
    """The experiment's results now (see module docstring)."""
    exp = get_experiment(session, experiment_id=experiment_id)
    exposures = dict(session.execute(
        select(ExperimentExposure.variant, func.count()).where(
            ExperimentExposure.experiment_id == exp.id, ExperimentExposure.forced.is_(False))
        .group_by(ExperimentExposure.variant)).tuples().all())
    outcomes = {v: (n, secs) for v, n, secs in session.execute(
        select(ExperimentOutcome.variant, func.count(), func.avg(ExperimentOutcome.seconds_to_settle)).where(
            ExperimentOutcome.experiment_id == exp.id).group_by(ExperimentOutcome.variant)).tuples().all()}
    counts = [(exposures.get(i, 0), outcomes.get(i, (0, None))) for i in range(len(exp.variants))]
    enough = all(n >= min_exposures and min_events <= x <= n - min_events for n, (x, _) in counts)
    control_n, (control_x, _) = counts[0]
    rows: list[VariantResult] = []
    for i, (n, (x, secs)) in enumerate(counts):
        low, high = wilson(x, n, confidence) if n else (None, None)
        cmp: tuple[float | None, ...] = (None,) * 5
        if i > 0 and n and control_n and (x + control_x) not in (0, n + control_n):
            cmp = two_proportion(control_x, control_n, x, n, confidence)
        rows.append(VariantResult(index=i, key=str(exp.variants[i]["key"]), weight=float(exp.variants[i]["weight"]),
                                  exposures=n, conversions=x, conversion_rate=x / n if n else None, rate_low=low,
                                  rate_high=high, mean_hours_to_settle=None if secs is None else float(secs) / 3600,
                                  difference=cmp[0], difference_low=cmp[1], difference_high=cmp[2], z=cmp[3],
                                  p_value=cmp[4]))
    srm = chi_square_srm([n for n, _ in counts], [float(v["weight"]) for v in exp.variants])
    if srm is not None and srm < srm_alpha and sum(n for n, _ in counts) >= min_exposures * len(counts):
        verdict = Verdict.SAMPLE_RATIO_MISMATCH
    elif not enough:
        verdict = Verdict.NOT_ENOUGH_DATA
    elif any(r.p_value is not None and r.p_value < 1 - confidence for r in rows[1:]):
        verdict = Verdict.SIGNIFICANT
    else:
        verdict = Verdict.NOT_SIGNIFICANT
    return ExperimentResults(experiment_id=exp.id, confidence=confidence, variants=rows, srm_p_value=srm,
                             verdict=verdict)
