"""Keyset pages, forward and backward, with opaque cursors shared by every paginated list.

A list is ordered by a sort key of one or more columns whose last column is unique (the
id); a cursor is the key of one row, base64 of its JSON, opaque to clients. ``first`` /
``after`` reads forward; ``last`` / ``before`` reads backward (fetched in reverse order,
then flipped, so the items are always in list order). One query per page, ``limit + 1``
rows to know whether more follow. Following the Relay specification, the page knows
exactly whether rows exist beyond it in its direction; whether rows exist on the other side
of its cursor (``has_previous`` after ``after``, ``has_next`` before ``before``) is one
``EXISTS`` query, run only when asked.

Key expressions must never be NULL (coalesce them): NULLs have no place in a keyset order.

Example::

    # newest first, then by id; cursors hold (claimed_amount, id)
    keys = [KeyColumn(Claim.claimed_amount, descending=True), KeyColumn(Claim.id)]
    page = keyset_page(session, select(Claim).where(visible), keys, last=20, before=cursor)
    page.items, page.cursors, page.has_previous, page.has_next   # has_next: one EXISTS, now
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from core.errors import ValidationError

__all__ = ["KeyColumn", "Page", "PageRequest", "decode_cursor", "encode_cursor", "keyset_page"]

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """Which page a client asked for: ``first``/``after`` forward or ``last``/``before`` backward."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def checked(self, *, default_size: int, max_size: int) -> PageRequest:
        """This request with its size checked against the caps (``first`` defaults to ``default_size``)."""
        if self.first is not None and self.last is not None:
            raise ValidationError("use first/after or last/before, not first and last together", field="last",
                                  code="PAGE_SIZE")
        for name in ("first", "last"):
            size = getattr(self, name)
            if size is not None and not 0 <= size <= max_size:
                raise ValidationError(f"{name} must be between 0 and {max_size}", field=name, code="PAGE_SIZE")
        if self.first is None and self.last is None:
            return PageRequest(first=default_size, after=self.after, before=self.before)
        return self

    @property
    def backward(self) -> bool:
        """True when the page is counted from its end (``last``)."""
        return self.last is not None


@dataclass(frozen=True)
class KeyColumn:
    """One column of a sort key.

    ``value`` reads the column's value from a fetched row (default: the attribute named
    like the column); ``parse`` turns the JSON value in a cursor back into a value the SQL
    comparison takes (default: by the column's Python type; a mismatch is ``BAD_CURSOR``).
    """

    expr: Any
    descending: bool = False
    value: Callable[[Any], Any] | None = None
    parse: Callable[[Any], Any] | None = None

    def of(self, row: Any) -> Any:
        """This column's value in ``row``."""
        if self.value is not None:
            return self.value(row)
        return getattr(row, self.expr.key)

    def from_cursor(self, raw: Any) -> Any:
        """The SQL value of this column from a cursor's JSON value."""
        if self.parse is not None:
            return self.parse(raw)
        try:
            python_type = self.expr.type.python_type
        except (AttributeError, NotImplementedError):
            return raw
        if python_type is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError("not an integer")
            return raw
        if python_type is Decimal:
            return Decimal(str(raw))
        if python_type is dt.datetime:
            return dt.datetime.fromisoformat(str(raw))
        if python_type is dt.date:
            return dt.date.fromisoformat(str(raw))
        if python_type is float:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError("not a number")
            return float(raw)
        if not isinstance(raw, python_type):
            raise ValueError(f"not a {python_type.__name__}")
        return raw


class Page(Generic[T]):
    """One page of a keyset-paginated list, its items in list order, one cursor per item."""

    def __init__(self, items: list[T], *, has_next: bool | Callable[[], bool], start_cursor: str | None,
                 end_cursor: str | None, has_previous: bool | Callable[[], bool] = False,
                 cursors: Sequence[str] | None = None) -> None:
        self.items = items
        self.start_cursor = start_cursor
        self.end_cursor = end_cursor
        self.cursors: list[str] = list(cursors) if cursors is not None else [encode_cursor(i.id) for i in items]  # type: ignore[attr-defined]
        self._has_next = has_next
        self._has_previous = has_previous

    @cached_property
    def has_next(self) -> bool:
        """Whether rows follow this page (known from the fetch forward; one EXISTS backward)."""
        return self._has_next if isinstance(self._has_next, bool) else self._has_next()

    @cached_property
    def has_previous(self) -> bool:
        """Whether rows precede this page (known from the fetch backward; one EXISTS forward)."""
        return self._has_previous if isinstance(self._has_previous, bool) else self._has_previous()


def encode_cursor(*values: Any) -> str:
    """An opaque cursor for the sort key of a row."""
    return base64.urlsafe_b64encode(json.dumps(list(values), default=_jsonable).encode()).decode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def decode_cursor(cursor: str, *, field: str = "after") -> list[Any]:
    """The sort key inside a cursor; a malformed cursor is a typed validation error."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationError("malformed cursor", field=field, code="BAD_CURSOR") from exc
    if not isinstance(values, list):
        raise ValidationError("malformed cursor", field=field, code="BAD_CURSOR")
    return values


def _key_values(keys: Sequence[KeyColumn], cursor: str, field: str) -> list[Any]:
    raw = decode_cursor(cursor, field=field)
    if len(raw) != len(keys):
        raise ValidationError("malformed cursor", field=field, code="BAD_CURSOR")
    try:
        return [key.from_cursor(value) for key, value in zip(keys, raw, strict=True)]
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise ValidationError("malformed cursor", field=field, code="BAD_CURSOR") from exc


def _beyond(keys: Sequence[KeyColumn], values: Sequence[Any], *, forward: bool,
            inclusive: bool = False) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in list order (``forward``) or strictly before it.

    ``inclusive`` also takes the row with exactly ``values``. For keys (k1, k2) ascending:
    ``k1 > v1 OR (k1 = v1 AND k2 > v2)``.
    """
    clauses: list[ColumnElement[bool]] = []
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        up = forward != key.descending
        last = i == len(keys) - 1
        if last and inclusive:
            cmp = key.expr >= value if up else key.expr <= value
        else:
            cmp = key.expr > value if up else key.expr < value
        equal = [k.expr == v for k, v in zip(keys[:i], values[:i], strict=True)]
        clauses.append(and_(*equal, cmp) if equal else cmp)
    return or_(*clauses)


def keyset_page(
    session: Session,
    stmt: Select[Any],
    keys: Any,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    request: PageRequest | None = None,
    plain: bool = False,
) -> Page[Any]:
    """One page of ``stmt`` in the order of ``keys`` (a column, or a sequence of :class:`KeyColumn`).

    Give ``first``/``after`` or ``last``/``before`` (or a ``request``); sizes are checked by
    the caller against its caps (``PageRequest.checked``). ``plain``: ``stmt`` selects
    columns and the items are its rows (``session.execute``), not ORM entities.
    """
    if request is not None:
        first, after, last, before = request.first, request.after, request.last, request.before
    if first is not None and last is not None:
        raise ValidationError("use first/after or last/before, not first and last together", field="last",
                              code="PAGE_SIZE")
    if first is None and last is None:
        raise ValueError("keyset_page needs first or last")
    size = first if first is not None else last
    assert size is not None
    if size < 0:
        raise ValidationError("page size must not be negative", field="first" if last is None else "last",
                              code="PAGE_SIZE")
    key_columns: list[KeyColumn] = (
        [k if isinstance(k, KeyColumn) else KeyColumn(k) for k in keys] if isinstance(keys, Sequence)
        else [keys if isinstance(keys, KeyColumn) else KeyColumn(keys)]
    )
    after_values = _key_values(key_columns, after, "after") if after else None
    before_values = _key_values(key_columns, before, "before") if before else None
    window = stmt
    if after_values is not None:
        window = window.where(_beyond(key_columns, after_values, forward=True))
    if before_values is not None:
        window = window.where(_beyond(key_columns, before_values, forward=False))
    forward = last is None
    order = [k.expr.desc() if k.descending == forward else k.expr.asc() for k in key_columns]
    fetch = window.order_by(None).order_by(*order).limit(size + 1)
    rows: list[Any] = list(session.execute(fetch).all() if plain else session.scalars(fetch))
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    cursors = [encode_cursor(*(k.of(row) for k in key_columns)) for row in rows]

    def at_or_beyond(values: list[Any] | None, *, forward: bool) -> bool | Callable[[], bool]:
        # Whether the unwindowed list has rows at or beyond the client's cursor: asked when read.
        if values is None:
            return False
        condition = _beyond(key_columns, values, forward=forward, inclusive=True)
        return lambda: bool(session.scalar(select(stmt.where(condition).order_by(None).exists())))

    has_next = True if forward and more else at_or_beyond(before_values, forward=True)
    has_previous = True if not forward and more else at_or_beyond(after_values, forward=False)
    return Page(rows, has_next=has_next, has_previous=has_previous, cursors=cursors,
                start_cursor=cursors[0] if cursors else None, end_cursor=cursors[-1] if cursors else None)
