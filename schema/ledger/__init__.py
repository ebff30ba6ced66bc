"""GraphQL contract of the ledger for auditors: anchored batches, a record's anchoring status and
proof bundle, erasure.

The domain's parts for ``schema.build_schema``: its root query and mutation fields and the
node fetchers of its global ids.
"""

from __future__ import annotations

from schema.ledger.mutations import LedgerMutation
from schema.ledger.queries import NODES, LedgerQuery

__all__ = ["NODES", "LedgerMutation", "LedgerQuery"]
