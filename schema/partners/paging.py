"""Connections over a parent's rows that a DataLoader already loaded for the whole page of parents.

A partner's licences, documents, review trail and signer keys are few, and loaded for every
partner of a page in one query each (one loader per relation); paging them is a slice of the
loaded list, with the same keyset cursors (the row id) as a database page.

Example::

    return loaded_connection(ctx.loader(KeysByPartnerIdLoader).get(self.pk),
                             page_request(first, after, last, before, ctx.settings), SignerKey.from_row)
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from core.errors import ValidationError
from core.pagination import Page, PageRequest, decode_cursor, encode_cursor
from schema.relay import After, Before, Connection, First, Last, connection

__all__ = ["After", "Before", "First", "Last", "loaded_connection", "loaded_page"]

T = TypeVar("T")

def _cursor_id(cursor: str, field: str) -> int:
    values = decode_cursor(cursor, field=field)
    if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], int):
        raise ValidationError("malformed cursor", field=field, code="BAD_CURSOR")
    return values[0]


def loaded_page(rows: Sequence[Any], request: PageRequest) -> Page[Any]:
    """The page ``request`` asks for of ``rows`` (in ascending id order), as ``core.pagination`` pages are."""
    after = _cursor_id(request.after, "after") if request.after else None
    before = _cursor_id(request.before, "before") if request.before else None
    window = [r for r in rows if (after is None or r.id > after) and (before is None or r.id < before)]
    if request.last is not None:
        items = window[max(len(window) - request.last, 0):]
        has_previous = len(window) > request.last
        has_next = before is not None and any(r.id >= before for r in rows)
    else:
        size = request.first if request.first is not None else len(window)
        items = window[:size]
        has_next = len(window) > size
        has_previous = after is not None and any(r.id <= after for r in rows)
    cursors = [encode_cursor(r.id) for r in items]
    return Page(items, has_next=has_next, has_previous=has_previous, cursors=cursors,
                start_cursor=cursors[0] if cursors else None, end_cursor=cursors[-1] if cursors else None)


def loaded_connection(
    loaded: Sequence[Any] | Awaitable[Sequence[Any]], request: PageRequest, wrap: Callable[[Any], T]
) -> Connection[T] | Awaitable[Connection[T]]:
    """A connection over a loader's value (now, or once the loader's batch ran); totalCount costs nothing."""

    def build(rows: Sequence[Any]) -> Connection[T]:
        rows = list(rows or ())
        return connection(loaded_page(rows, request), wrap, count=lambda: len(rows))

    if inspect.isawaitable(loaded):
        async def later() -> Connection[T]:
            return build(await loaded)

        return later()
    return build(loaded)
