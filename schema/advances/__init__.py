"""GraphQL contract of advances: apply, review, pay, repay; the advance with its balances and schedule.

The domain's parts for ``schema.build_schema``: its root query and mutation fields and the
node fetchers of its global ids.
"""

from __future__ import annotations

from schema.advances.mutations import AdvancesMutation
from schema.advances.queries import NODES, AdvancesQuery

__all__ = ["NODES", "AdvancesMutation", "AdvancesQuery"]
