"""Keyset cursors shared by every paginated list (opaque to clients)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.errors import ValidationError

__all__ = ["Page", "decode_cursor", "encode_cursor", "keyset_page"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list."""

    items: list[T]
    has_next: bool
    start_cursor: str | None
    end_cursor: str | None


def encode_cursor(*values: Any) -> str:
    """An opaque cursor for the sort key of a row."""
    return base64.urlsafe_b64encode(json.dumps(list(values), default=str).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    """The sort key inside a cursor; a malformed cursor is a typed validation error."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValidationError("malformed cursor", field="after", code="BAD_CURSOR") from exc
    if not isinstance(values, list):
        raise ValidationError("malformed cursor", field="after", code="BAD_CURSOR")
    return values


def keyset_page(session: Session, stmt: Select[Any], key: Any, *, first: int, after: str | None) -> Page[Any]:
    """Rows of ``stmt`` after the cursor, ordered by ``key`` (an integer id column)."""
    if after:
        values = decode_cursor(after)
        if len(values) != 1 or not isinstance(values[0], int):
            raise ValidationError("malformed cursor", field="after", code="BAD_CURSOR")
        stmt = stmt.where(key > values[0])
    rows: list[Any] = list(session.scalars(stmt.order_by(key).limit(first + 1)))
    has_next = len(rows) > first
    rows = rows[:first]
    return Page(
        items=rows,
        has_next=has_next,
        start_cursor=encode_cursor(rows[0].id) if rows else None,
        end_cursor=encode_cursor(rows[-1].id) if rows else None,
    )
