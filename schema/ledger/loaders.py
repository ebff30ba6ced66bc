"""DataLoaders of the ledger domain's relations (one per relation for the whole schema).

``ProofBundleByRecordIdLoader`` serves every domain that shows a ledger record's proof
(through ``schema.ledger.types.load_proof_bundle``): the bundles of a whole page in three queries.
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from ledger import service as ledger_service
from ledger.models import AnchorBatch, LedgerRecord
from schema.context import Context
from schema.loaders import BatchLoader
from schema.lookahead import selected

__all__ = ["AnchorBatchByIdLoader", "ProofBundleByRecordIdLoader", "prefetch_records"]


class ProofBundleByRecordIdLoader(BatchLoader[int, dict[str, Any] | None]):
    def fetch(self, keys: Any) -> Any:
        return ledger_service.proof_bundles(self.context.session, record_ids=keys)


class AnchorBatchByIdLoader(BatchLoader[int, AnchorBatch | None]):
    def fetch(self, keys: Any) -> Any:
        return ledger_service.batches_by_id(self.context.session, batch_ids=keys)


def prefetch_records(ctx: Context, info: Info[Context, Any], rows: list[LedgerRecord]) -> None:
    """Look-ahead: the selected relations of a page of records, one query set each for the whole page."""
    wanted = selected(info, "edges", "node")
    if "proofBundle" in wanted:
        ctx.loader(ProofBundleByRecordIdLoader).fetch_and_prime([r.id for r in rows])
    if "batch" in wanted:
        ctx.loader(AnchorBatchByIdLoader).fetch_and_prime([r.batch_id for r in rows if r.batch_id is not None])
