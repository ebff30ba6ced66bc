"""Trend forecasts with prediction intervals: an ETS model (the Holt-Winters family) per daily series.

A metric's daily values up to a day (``series`` by DAY, from the rollups) are fitted with
statsmodels' ``ETSModel``: additive error, damped additive trend and, with at least four
weeks of history, an additive weekly season. The forecast gives each future day its mean and
a prediction interval at the asked level. Only metrics counted or summed per day (units COUNT
and MONEY) are forecast; a ratio's daily values are too often undefined (FORECAST_UNSUPPORTED).
Fewer than ``MIN_HISTORY`` days of history is NOT_ENOUGH_HISTORY.

``anomaly`` checks one day against a forecast fitted on the days before it: the forecast alert
rules fire when the actual leaves the interval. ``bench/backtest_forecasts.py`` prints how
often the interval holds the actual, and the errors, on the demo's data.

Example::

    f = forecast(session, metric="written_premium", end=date(2026, 11, 27), horizon=14)
    f.points[0].mean, f.points[0].low, f.points[0].high
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from core.errors import ValidationError
from resolvers.analytics.metrics import METRICS, Bucket, Unit
from resolvers.analytics.query import SeriesFilter, series

__all__ = ["MAX_HISTORY", "MAX_HORIZON", "MIN_HISTORY", "Anomaly", "Forecast", "ForecastPoint", "anomaly",
           "forecast", "forecastable"]

MIN_HISTORY = 21
MAX_HISTORY = 730
MAX_HORIZON = 90
_SEASON = 7
_Q = Decimal("0.01")


@dataclass(frozen=True)
class ForecastPoint:
    """One forecast day: the mean and the prediction interval."""

    day: dt.date
    mean: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class Forecast:
    """A metric's forecast after ``end``, fitted on ``history_days`` days up to it."""

    metric: str
    end: dt.date
    history_days: int
    level: float
    model: str
    points: list[ForecastPoint]


@dataclass(frozen=True)
class Anomaly:
    """A day's actual value against the interval forecast for it from the days before."""

    day: dt.date
    actual: Decimal
    low: Decimal
    high: Decimal

    @property
    def outside(self) -> bool:
        """Whether the actual left the interval."""
        return not self.low <= self.actual <= self.high


def forecastable(metric: str) -> bool:
    """Whether the metric can be forecast (counted or summed per day)."""
    m = METRICS.get(metric)
    return m is not None and m.unit in (Unit.COUNT, Unit.MONEY)


def _history(session: Session, metric: str, end: dt.date, days: int, filters: SeriesFilter | None) -> list[float]:
    if not forecastable(metric):
        raise ValidationError(f"{metric} is not forecast (only counts and amounts per day are)", field="metric",
                              code="FORECAST_UNSUPPORTED")
    if not MIN_HISTORY <= days <= MAX_HISTORY:
        raise ValidationError(f"history is {MIN_HISTORY} to {MAX_HISTORY} days", field="historyDays",
                              code="NOT_ENOUGH_HISTORY" if days < MIN_HISTORY else "RANGE_TOO_LARGE")
    s = series(session, metric=metric, start=end - dt.timedelta(days=days - 1), end=end, bucket=Bucket.DAY,
               filters=filters)
    return [float(p.value or 0) for p in s.points]


def _fit(values: list[float], horizon: int, level: float) -> tuple[str, list[tuple[float, float, float]]]:
    import numpy as np
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = pd.Series(np.asarray(values, dtype=float), index=pd.RangeIndex(len(values)))
    seasonal = "add" if len(values) >= 4 * _SEASON else None
    if float(y.std()) == 0.0:  # a flat line: ETS cannot estimate it; the forecast is the line
        v = float(y.iloc[-1])
        return "constant", [(v, v, v)] * horizon
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short or flat stretches
        model = ETSModel(y, error="add", trend="add", damped_trend=True, seasonal=seasonal,
                         seasonal_periods=_SEASON if seasonal else None)
        fitted = model.fit(disp=False, maxiter=200)
        frame = fitted.get_prediction(start=len(values), end=len(values) + horizon - 1).summary_frame(
            alpha=1 - level)
    name = "ETS(A,Ad,A) weekly" if seasonal else "ETS(A,Ad,N)"
    return name, [(float(r["mean"]), float(r["pi_lower"]), float(r["pi_upper"])) for _, r in frame.iterrows()]


def _dec(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_Q)


def forecast(session: Session, *, metric: str, end: dt.date, horizon: int = 14, history_days: int = 365,
             level: float = 0.95, filters: SeriesFilter | None = None) -> Forecast:
    """Forecast ``horizon`` days after ``end`` from the ``history_days`` days up to it."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValidationError(f"horizon is 1 to {MAX_HORIZON} days", field="horizon", code="HORIZON_OUT_OF_RANGE")
    if not 0.5 <= level < 1:
        raise ValidationError("level is at least 0.5 and below 1", field="level", code="LEVEL_OUT_OF_RANGE")
    values = _history(session, metric, end, history_days, filters)
    name, rows = _fit(values, horizon, level)
    points = [ForecastPoint(end + dt.timedelta(days=i + 1), _dec(mean), _dec(low), _dec(high))
              for i, (mean, low, high) in enumerate(rows)]
    return Forecast(metric, end, history_days, level, name, points)


def anomaly(session: Session, *, metric: str, day: dt.date, history_days: int = 120, level: float = 0.99,
            filters: SeriesFilter | None = None) -> Anomaly:
    """``day``'s actual against the interval forecast for it from the ``history_days`` days before."""
    f = forecast(session, metric=metric, end=day - dt.timedelta(days=1), horizon=1, history_days=history_days,
                 level=level, filters=filters)
    actual = series(session, metric=metric, start=day, end=day, bucket=Bucket.DAY, filters=filters).points[0].value
    p = f.points[0]
    return Anomaly(day, actual if actual is not None else Decimal(0), p.low, p.high)
