"""Look-ahead over the selection set: load a relation for a whole page before it is resolved.

A list field asks which sub-fields the document selects below it and primes the request's
DataLoaders for all rows at once (one query per selected relation), so nested fields
resolve as plain values. ``prefetch_by`` is the same for one field of sibling objects, as
the ``prefetch`` hook of a compiled plan (``schema.fastexec.fast``).

Example::

    if "customer" in selected(info, "edges", "node"):
        ctx.loader(CustomerByIdLoader).fetch_and_prime([r.customer_id for r in rows])

    @strawberry.field(metadata=fast(_customer, prefetch=prefetch_by(CustomerByIdLoader, "customer_pk")))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.types import Info

from schema.context import Context
from schema.loaders import BatchLoader

__all__ = ["prefetch_by", "selected"]


def selected(info: Info[Context, Any], *path: str) -> set[str]:
    """Names of the sub-fields selected at ``path`` below the current field (look-ahead)."""
    fields = list(info.selected_fields)
    for name in path:
        nxt = []
        for f in fields:
            for sel in getattr(f, "selections", []):
                if getattr(sel, "name", None) == name:
                    nxt.append(sel)
                elif hasattr(sel, "type_condition") or sel.__class__.__name__ == "FragmentSpread":
                    for inner in getattr(sel, "selections", []):
                        if getattr(inner, "name", None) == name:
                            nxt.append(inner)
        fields = nxt
    out: set[str] = set()
    for f in fields:
        for sel in getattr(f, "selections", []):
            sel_name = getattr(sel, "name", None)
            if sel_name is not None:
                out.add(sel_name)
            else:
                out |= {getattr(s, "name", "") for s in getattr(sel, "selections", [])}
    return out


def prefetch_by(loader: type[BatchLoader[Any, Any]], key: str) -> Callable[[Context, list[Any]], None]:
    """A prefetch hook loading ``loader``'s relation for the ``key`` attribute of every source."""

    def prefetch(ctx: Context, sources: list[Any]) -> None:
        ctx.loader(loader).fetch_and_prime([getattr(s, key) for s in sources])

    return prefetch
