"""What other domains call in operations: the variant a flow gives a subject (see ``experiments.variant``).

Example::

    from resolvers.operations import service as operations
    a = operations.variant(session, flow=operations.Flow.CLAIM, subject=operations.claim_subject(7), now=now)
"""

from __future__ import annotations

from resolvers.operations.experiments import FLOW_VARIANTS, Assignment, variant
from resolvers.operations.models import Experiment, ExperimentStatus, Flow, FlowVariant
from resolvers.operations.outcomes import claim_subject, record_conversions

# The enums and the row type are part of this API (the schema wraps them).
__all__ = ["FLOW_VARIANTS", "Assignment", "Experiment", "ExperimentStatus", "Flow", "FlowVariant", "claim_subject",
           "record_conversions", "variant"]
