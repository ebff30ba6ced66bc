"""Relay plumbing: the ``Node`` interface, global ids, page info, connection arguments with a max page size."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import strawberry

from core.errors import ValidationError
from core.pagination import Page, encode_cursor
from core.settings import Settings
from schema.permissions import PUBLIC, access

__all__ = ["Edge", "Node", "PageInfo", "decode_global_id", "encode_global_id", "keyset_edges", "page_info",
           "page_size", "parse_global_id"]

T = TypeVar("T")
MAX_ROW_ID = 2**63 - 1


def encode_global_id(type_name: str, pk: int) -> str:
    """Relay global id: base64 of ``Type:pk`` (the same form strawberry's relay uses)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def parse_global_id(value: str, *, field: str = "id") -> tuple[str, int]:
    """The type name and integer key inside a global id; typed error when malformed."""
    try:
        type_name, _, raw = base64.b64decode(value.encode(), validate=True).decode().partition(":")
        pk = int(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("malformed id", field=field, code="BAD_ID") from exc
    if not 0 < pk <= MAX_ROW_ID:  # keys are positive BIGINTs; larger ones overflow the driver
        raise ValidationError("malformed id", field=field, code="BAD_ID")
    return type_name, pk


def decode_global_id(value: str, expected_type: str, *, field: str = "id") -> int:
    """The integer key inside a global id of ``expected_type``; typed error otherwise."""
    type_name, pk = parse_global_id(value, field=field)
    if type_name != expected_type:
        raise ValidationError(f"id is a {type_name}, expected a {expected_type}", field=field, code="BAD_ID")
    return pk


def page_size(first: int | None, settings: Settings) -> int:
    """Validate ``first`` against the configured maximum page size."""
    if first is None:
        return settings.default_page_size
    if first < 0 or first > settings.max_page_size:
        raise ValidationError(
            f"first must be between 0 and {settings.max_page_size}", field="first", code="PAGE_SIZE"
        )
    return first


@strawberry.interface(description="An object with a global id (Relay).")
@access(PUBLIC)
class Node:
    id: strawberry.ID


@strawberry.type(description="Relay page information.")
@access(PUBLIC)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
@access(PUBLIC)
class Edge(Generic[T]):
    cursor: str
    node: T


class _PageLike(Protocol):
    @property
    def has_next(self) -> bool: ...
    @property
    def start_cursor(self) -> str | None: ...
    @property
    def end_cursor(self) -> str | None: ...


def page_info(page: _PageLike) -> PageInfo:
    """Relay page info of a keyset page (forward pagination only)."""
    return PageInfo(has_next_page=page.has_next, has_previous_page=False,
                    start_cursor=page.start_cursor, end_cursor=page.end_cursor)


def keyset_edges(page: Page[Any], wrap: Callable[[Any], T]) -> list[Edge[T]]:
    """Edges of a keyset page by id: each cursor is the one ``after`` accepts."""
    return [Edge(cursor=encode_cursor(row.id), node=wrap(row)) for row in page.items]
