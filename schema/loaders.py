"""DataLoader base: one instance per request per relation, primed by look-ahead prefetch.

``peek(key)`` returns an already-loaded value synchronously, so a field whose data was
prefetched resolves as a plain value (no awaitable, no extra SQL). ``get_wrapped(key,
wrap)`` also wraps it into the GraphQL type once per key and request, so a relation many
rows share (a product, a customer) is one object that execution can complete once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
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
        self._done: dict[K, V] = {}  # settled values by key (mirrors the futures; no re-checks)
        self._wrapped: dict[K, Any] = {}
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
        default = self.default
        loaded = {key: found.get(key, default) for key in missing}
        # Settled values only; a future is made if someone load()s the key (see load) ...
        self._done.update(loaded)
        # ... except for loads already waiting on a batch: they get the values now.
        waiting = {k: v for k, v in loaded.items() if self.cache_map.get(k) is not None}
        if waiting:
            DataLoader.prime_many(self, waiting)

    def peek(self, key: K) -> V:
        """The loaded value for ``key`` or MISSING (never schedules a load)."""
        value = self._done.get(key, MISSING)
        if value is not MISSING or self.cache_map is None:
            return value  # type: ignore[no-any-return]
        fut = self.cache_map.get(key)
        if fut is None or not fut.done() or fut.cancelled() or fut.exception() is not None:
            return MISSING  # type: ignore[no-any-return]
        value = self._done[key] = fut.result()
        return value  # type: ignore[no-any-return]

    def get(self, key: K) -> Any:
        """A loaded value now if cached, else an awaitable load (batched with its siblings)."""
        value = self.peek(key)
        return self.load(key) if value is MISSING else value

    def get_wrapped(self, key: K, wrap: Callable[[Any], Any]) -> Any:
        """Like :meth:`get`, each loaded row passed through ``wrap`` (a list: each item).

        A loaded value is wrapped once per key; later calls return the same object.
        """
        found = self._wrapped.get(key, MISSING)
        if found is not MISSING:
            return found
        value = self.peek(key)
        if value is MISSING:
            pending = self.load(key)

            async def later() -> Any:
                return _wrap(await pending, wrap)

            return later()
        found = self._wrapped[key] = _wrap(value, wrap)
        return found

    def load(self, key: K) -> Any:
        """DataLoader.load; a key settled by :meth:`fetch_and_prime` answers from the cache."""
        value = self._done.get(key, MISSING)
        if value is not MISSING and self.cache_map.get(key) is None:
            super().prime(key, value)
        return super().load(key)

    def prime_many(self, data: Mapping[K, V], force: bool = False) -> None:
        self._forget(data)
        super().prime_many(data, force)

    def clear(self, key: K) -> None:
        self._forget((key,))
        super().clear(key)

    def clear_many(self, keys: Iterable[K]) -> None:
        keys = list(keys)
        self._forget(keys)
        super().clear_many(keys)

    def clear_all(self) -> None:
        self._done.clear()
        self._wrapped.clear()
        super().clear_all()

    def _forget(self, keys: Iterable[K]) -> None:
        for key in keys:
            self._done.pop(key, None)
            self._wrapped.pop(key, None)


def _wrap(value: Any, wrap: Callable[[Any], Any]) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [wrap(v) for v in value]
    return wrap(value)
