"""DataLoaders of advances' relations: one per relation for the whole schema."""

from __future__ import annotations

from typing import Any

from resolvers.advances import service
from schema.loaders import BatchLoader

__all__ = ["InstallmentsByAdvanceIdLoader"]


class InstallmentsByAdvanceIdLoader(BatchLoader[int, Any]):
    """Each advance's schedule, one query for a page of advances."""

    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return service.installments_of(self.context.session, keys)
