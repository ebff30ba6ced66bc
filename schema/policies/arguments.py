"""Paging arguments with their descriptions, and a connection over a relation loaded whole.

A nested list (a customer's policies, a policy's endorsements) is loaded whole for all
parent rows at once by its DataLoader (one query per relation, whatever the page size), so
its page is sliced in memory: same cursors as a keyset page by id (``core.pagination``),
same page-info rules as ``keyset_page``, and ``totalCount`` costs no query.

Example::

    def policies(self, info, first: First = None, after: After = None, last: Last = None,
                 before: Before = None) -> Connection[Policy]:
        rows = ...  # every policy of the customer, oldest first
        return sliced_connection(rows, page_request(first, after, last, before, settings), key=lambda p: p.pk)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

import strawberry

from core.errors import ValidationError
from core.pagination import Page, PageRequest, decode_cursor, encode_cursor
from schema.relay import Connection, connection

__all__ = ["After", "Before", "First", "Last", "sliced_connection"]

T = TypeVar("T")

First = Annotated[int | None, strawberry.argument(
    description="Forward paging: how many items from the start, or after `after` (0..100; default 20).")]
After = Annotated[str | None, strawberry.argument(
    description="Forward paging: the items after this cursor (an edge's `cursor`).")]
Last = Annotated[int | None, strawberry.argument(
    description="Backward paging: how many items from the end, or before `before` (0..100); not with `first`.")]
Before = Annotated[str | None, strawberry.argument(
    description="Backward paging: the items before this cursor (an edge's `cursor`).")]


def _cursor_key(cursor: str, field: str) -> int:
    values = decode_cursor(cursor, field=field)
    if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], int):
        raise ValidationError("malformed cursor", field=field, code="BAD_CURSOR")
    return values[0]


def sliced_connection(items: Sequence[T], request: PageRequest, *, key: Callable[[T], int]) -> Connection[T]:
    """One page of ``items`` (ordered by the unique integer ``key``) as a connection; totalCount is len(items)."""
    keys = [key(item) for item in items]
    lo = bisect_right(keys, _cursor_key(request.after, "after")) if request.after else 0
    hi = bisect_left(keys, _cursor_key(request.before, "before")) if request.before else len(items)
    window = list(items[lo:hi]) if lo < hi else []
    if request.last is not None:
        chosen = window[max(len(window) - request.last, 0):]
        has_previous = len(window) > request.last or lo > 0
        has_next = hi < len(items)
    else:
        size = request.first if request.first is not None else len(window)
        chosen = window[:size]
        has_next = len(window) > size or hi < len(items)
        has_previous = lo > 0
    cursors = [encode_cursor(key(item)) for item in chosen]
    page: Page[T] = Page(chosen, has_next=has_next, has_previous=has_previous, cursors=cursors,
                         start_cursor=cursors[0] if cursors else None, end_cursor=cursors[-1] if cursors else None)
    total = len(items)
    return connection(page, lambda item: item, count=lambda: total)
