"""The ledger domain's mutations, one module per family."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.ledger.mutations.erasure import ErasureMutations

__all__ = ["LedgerMutation"]

LedgerMutation = merge_types("LedgerMutation", (ErasureMutations,))
