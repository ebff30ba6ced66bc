"""The ledger's events: a batch of record commitments is anchored on chain.

The ledger states one fact of its own: an anchor batch confirmed (its root in a block of the
chain). The event is about the batch (aggregate ``AnchorBatch``, readers ``LEDGER_READERS``,
the readers of ``AnchorBatch``) and carries no record body: only the root, the kind of its
records, how many, and where on chain. The records a batch anchors are read through the
ledger service (``ledger.service``) by whoever may read them.

Example::

    batch_anchored(session, batch)       # in the transaction that marks the batch confirmed
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.event_stream import Actor, Aggregate, EventPayload, append, register_event_type
from core.roles import LEDGER_READERS
from ledger.models import AnchorBatch

__all__ = ["ANCHORING", "BatchAnchored", "batch_anchored"]

#: Who anchors: the anchoring loop (``opsure anchor``, or the worker), acting on its own.
ANCHORING = Actor.system("ledger.anchoring")


class BatchAnchored(EventPayload):
    """An anchor batch's Merkle root is in a block: its records are anchored."""

    batch_id: int
    root: str
    kind: int
    count: int
    chain_id: int
    contract: str
    block_number: int
    tx_hash: str


register_event_type("ledger.batch_anchored", 1, BatchAnchored, aggregate="AnchorBatch", readers=LEDGER_READERS)


def batch_anchored(session: Session, batch: AnchorBatch) -> None:
    """``ledger.batch_anchored`` for a batch just confirmed (with the version committed with it)."""
    assert batch.chain_id is not None and batch.contract is not None
    assert batch.block_number is not None and batch.tx_hash is not None
    append(session, BatchAnchored(batch_id=batch.id, root=batch.root, kind=batch.kind, count=batch.count,
                                  chain_id=int(batch.chain_id), contract=batch.contract,
                                  block_number=int(batch.block_number), tx_hash=batch.tx_hash),
           aggregate=Aggregate("AnchorBatch", batch.id), actor=ANCHORING, versioned=batch)
