"""GraphQL enums of the operations domain: the service's enums under their schema names, each value described."""

from __future__ import annotations

import enum

from resolvers.operations import service as m
from resolvers.operations.stats import Verdict
from schema.enums import described_enum as _described

__all__ = ["ExperimentFlow", "ExperimentStatus", "ExperimentStatusAction", "ExperimentVerdict", "FlowVariant",
           "StatusActionValue"]




ExperimentFlow = _described(m.Flow, name="ExperimentFlow", description="A process flow that experiments switch.",
                            values={
    "CLAIM": "Claim settlement: FAST (fast claim, paid without a human) or STANDARD (an adjuster reviews). Only "
             "claims eligible for fast claim are assigned.",
    "CONSULTATION": "Medical consultation: CHAT or VIDEO.",
    "HEALTH_QUESTIONNAIRE": "Health declaration: FULL or SHORT questionnaire.",
    "CALLBACK": "Customer callback: IMMEDIATE or SCHEDULED.",
})
FlowVariant = _described(m.FlowVariant, name="FlowVariant", description="A variant of a flow; each flow knows two, "
                         "its default first (CLAIM: FAST, STANDARD; CONSULTATION: CHAT, VIDEO; HEALTH_QUESTIONNAIRE: "
                         "FULL, SHORT; CALLBACK: IMMEDIATE, SCHEDULED).", values={
    "FAST": "Claim: fast claim (the default).",
    "STANDARD": "Claim: an adjuster reviews.",
    "CHAT": "Consultation by chat (the default).",
    "VIDEO": "Consultation by video.",
    "FULL": "The full health questionnaire (the default).",
    "SHORT": "The short (smart) health questionnaire.",
    "IMMEDIATE": "Call back at once (the default).",
    "SCHEDULED": "Call back at a time the customer picks.",
})
ExperimentStatus = _described(m.ExperimentStatus, name="ExperimentStatus", description="Where an experiment stands.",
                              values={
    "DRAFT": "Being set up: only forced variants (QA) apply.",
    "RUNNING": "Assigning subjects within its schedule (startsAt, endsAt).",
    "STOPPED": "Ended: results stay, no new assignments; its namespace range is free again.",
    "KILLED": "Kill switch pulled: everyone gets the flow's default at once.",
})
ExperimentVerdict = _described(Verdict, name="ExperimentVerdict", description="What the results allow one to say.",
                               values={
    "NOT_ENOUGH_DATA": "Some variant has fewer than 30 exposed subjects, or fewer than 5 conversions or "
                       "non-conversions: no comparison yet.",
    "SAMPLE_RATIO_MISMATCH": "Exposures per variant deviate from the weights (chi-square p < 0.001): assignment or "
                             "logging is broken, do not trust the comparison.",
    "SIGNIFICANT": "A variant's conversion differs from the control's (two-sided p below 1 - confidence).",
    "NOT_SIGNIFICANT": "Enough data, no significant difference.",
})


class StatusActionValue(enum.Enum):
    """The moves of setExperimentStatus (values: the service's action names)."""

    START = "start"
    STOP = "stop"
    KILL = "kill"


ExperimentStatusAction = _described(StatusActionValue, name="ExperimentStatusAction",
                                    description="A move of an experiment's status.", values={
    "START": "Start a draft (it assigns from startsAt, or now).",
    "STOP": "End a running experiment; exposed subjects go back to the flow's default.",
    "KILL": "Kill switch: a draft or running experiment stops at once, everyone gets the default.",
})
