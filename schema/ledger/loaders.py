"""DataLoaders of the ledger domain's relations (one per relation for the whole schema)."""

from __future__ import annotations

from typing import Any

from ledger import service as ledger_service
from schema.loaders import BatchLoader

__all__ = ["ProofBundleByRecordIdLoader"]


class ProofBundleByRecordIdLoader(BatchLoader[int, dict[str, Any] | None]):
    def fetch(self, keys: Any) -> Any:
        return ledger_service.proof_bundles(self.context.session, record_ids=keys)
