"""DataLoaders of the rail's relations: one per relation for the whole schema."""

from __future__ import annotations

from typing import Any

from resolvers.payments import service
from schema.loaders import BatchLoader

__all__ = ["PayeeAccountByIdLoader"]


class PayeeAccountByIdLoader(BatchLoader[int, Any]):
    """Payee accounts by id (an instruction's account): one query for a page of instructions."""

    def fetch(self, keys: Any) -> Any:
        return service.accounts_by_id(self.context.session, keys)
