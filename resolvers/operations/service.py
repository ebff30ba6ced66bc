"""What other domains call in operations: the variant a flow gives a subject (see ``experiments.variant``).

Example::

    from resolvers.operations import service as operations
    a = operations.variant(session, flow=operations.Flow.CLAIM, subject=operations.claim_subject(7), now=now)
"""

from __future__ import annotations

from resolvers.operations.experiments import FLOW_VARIANTS, Assignment, variant
from resolvers.operations.models import Flow
from resolvers.operations.outcomes import claim_subject, record_conversions

__all__ = ["FLOW_VARIANTS", "Assignment", "Flow", "claim_subject", "record_conversions", "variant"]
