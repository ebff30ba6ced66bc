"""DataLoader base: one instance per request per relation, primed by look-ahead prefetch.

``peek(key)`` returns an already-loaded value synchronously, so a field whose data was
prefetched resolves as a plain value (no awaitable, no extra SQL).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

if TYPE_CHECKING:
    from schema.context import Context

__all__ = ["MISSING", "BatchLoader"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
MISSING: Any = object()


class BatchLoader(DataLoader[K, V], Generic[K, V]):
    """A DataLoader whose batch function is the sync :meth:`fetch` over the request session."""

    default: Any = None

    def __init__(self, context: Context) -> None:
        self.context = context
        super().__init__(load_fn=self._batch)

    def fetch(self, keys: Sequence[K]) -> dict[K, V]:  # pragma: no cover - abstract
        """Load many keys in one query; keys absent from the result get ``default``."""
        raise NotImplementedError

    async def _batch(self, keys: list[K]) -> list[V]:
        found = self.fetch(keys)
        return [found.get(k, self.default) for k in keys]

    def fetch_and_prime(self, keys: Sequence[K]) -> None:
        """Look-ahead: load ``keys`` not yet cached in one query, now, synchronously."""
        missing = [k for k in dict.fromkeys(keys) if self.peek(k) is MISSING]
        if not missing:
            return
        found = self.fetch(missing)
        for key in missing:
            self.prime(key, found.get(key, self.default))

    def peek(self, key: K) -> V:
        """The loaded value for ``key`` or MISSING (never schedules a load)."""
        if self.cache_map is None:
            return MISSING  # type: ignore[no-any-return]
        fut = self.cache_map.get(key)
        if fut is None or not fut.done() or fut.cancelled() or fut.exception() is not None:
            return MISSING  # type: ignore[no-any-return]
        return fut.result()

    def get(self, key: K) -> Any:
        """A loaded value now if cached, else an awaitable load (batched with its siblings)."""
        value = self.peek(key)
        return self.load(key) if value is MISSING else value
