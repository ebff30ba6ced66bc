"""The error type of every analytics mutation: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode``."""

from __future__ import annotations

from schema.errors import mutation_errors

__all__ = ["CreateAlertRuleError", "SetAlertRuleActiveError"]

CreateAlertRuleError = mutation_errors("CreateAlertRule", {
    "INVALID_KEY": "key is not 2-64 of a-z, 0-9, - and _ starting with a letter.",
    "DUPLICATE_KEY": "A rule with this key exists.",
    "UNKNOWN_METRIC": "No such metric.",
    "WINDOW_OUT_OF_RANGE": "windowDays is not 1 to 366.",
    "GRACE_OUT_OF_RANGE": "graceMinutes is not 0 to 10080.",
    "THRESHOLD_REQUIRED": "A THRESHOLD rule needs an operator and a threshold.",
    "FORECAST_UNSUPPORTED": "The metric is a ratio: FORECAST rules watch counts and amounts.",
    "UNKNOWN_PRODUCT": "A product code of the filter does not exist.",
    "UNKNOWN_AGE_BAND": "An age band of the filter is not one of the bands.",
    "BAD_URL": "The webhook URL is not an https URL to a public address (or one the operator allowed).",
})
SetAlertRuleActiveError = mutation_errors("SetAlertRuleActive", {})
