"""GraphQL contract of the ledger for auditors: anchored batches, a record's anchoring status and
proof bundle, erasure.

The domain's parts for ``schema.build_schema``: its root query and mutation fields and the
node fetchers of its global ids; and for other domains, the typed ``ProofBundle`` with
``load_proof_bundle`` and ``proof_bundle_field`` (batched through ``ProofBundleByRecordIdLoader``).
"""

from __future__ import annotations

from schema.ledger.loaders import ProofBundleByRecordIdLoader
from schema.ledger.mutations import LedgerMutation
from schema.ledger.queries import NODES, LedgerQuery
from schema.ledger.types import ProofBundle, load_proof_bundle, proof_bundle_field

__all__ = ["NODES", "LedgerMutation", "LedgerQuery", "ProofBundle", "ProofBundleByRecordIdLoader",
           "load_proof_bundle", "proof_bundle_field"]
