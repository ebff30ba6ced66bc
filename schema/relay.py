"""Relay plumbing: the ``Node`` interface, global ids, and one generic ``Connection`` for every list.

A list field takes ``first``/``after`` (forward) or ``last``/``before`` (backward), page
sizes capped by the settings, and returns ``Connection[T]`` (named ``<T>Connection`` in the
SDL): ``edges`` (cursor and node), ``pageInfo`` (exact ``hasNextPage``/``hasPreviousPage``
per the Relay specification, computed only when selected) and ``totalCount`` (one COUNT
query, run only when selected). Cursors are opaque keyset cursors (``core.pagination``).

Example::

    @strawberry.field(description="Policies the caller may see, oldest first. " + PAGING,
                      metadata=allow(POLICY_READERS))
    def policies(self, info: Info[Context, Any], first: int | None = None, after: str | None = None,
                 last: int | None = None, before: str | None = None) -> Connection[Policy]:
        ctx = info.context
        return keyset_connection(
            ctx.session, select(PolicyRow).where(policy_visible(ctx.principal)),
            key_columns=[KeyColumn(PolicyRow.id)], first=first, after=after, last=last, before=before,
            settings=ctx.settings, wrap=Policy.from_row,
            prefetch=lambda rows: prefetch_policy_relations(ctx, info, rows))

    # or, when a service builds the page itself (its own sort keys):
    window = page_request(first, after, last, before, ctx.settings)
    page = service.list_claims(ctx.session, principal=ctx.principal, page=window, sort=sort)
    return connection(page, Claim.from_row, count=lambda: service.count_claims(ctx.session, ...))
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, Protocol, TypeVar

import strawberry
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.pagination import KeyColumn, Page, PageRequest, keyset_page
from core.settings import Settings
from schema.fastexec import fast
from schema.permissions import PUBLIC, access

__all__ = [
    "PAGING",
    "After",
    "Before",
    "Connection",
    "Edge",
    "First",
    "KeyColumn",
    "Last",
    "Node",
    "PageInfo",
    "PageRequest",
    "connection",
    "decode_global_id",
    "encode_global_id",
    "keyset_connection",
    "keyset_edges",
    "page_info",
    "page_request",
    "page_size",
    "parse_global_id",
]

T = TypeVar("T")
MAX_ROW_ID = 2**63 - 1

#: The sentence every paginated field's description ends with.
#: The four paging arguments of every connection field, described once.
First = Annotated[int | None, strawberry.argument(
    description="Forward paging: at most this many items (0 to the max page size, 100; default 20).")]
After = Annotated[str | None, strawberry.argument(
    description="Forward paging: items after this cursor (an edge's cursor or pageInfo.endCursor).")]
Last = Annotated[int | None, strawberry.argument(
    description="Backward paging: at most this many items, the list's last ones (0-100; not with first).")]
Before = Annotated[str | None, strawberry.argument(
    description="Backward paging: items before this cursor (an edge's cursor or pageInfo.startCursor).")]
PAGING = ("Paging: first/after forward or last/before backward, at most the max page size (100) per page, "
          "20 by default; not first and last together.")


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


def page_request(first: int | None, after: str | None, last: int | None, before: str | None,
                 settings: Settings) -> PageRequest:
    """The page a client asked for, checked against the page caps (``first`` and ``last`` together refused)."""
    return PageRequest(first=first, after=after, last=last, before=before).checked(
        default_size=settings.default_page_size, max_size=settings.max_page_size)


@strawberry.interface(description="An object with a global id (Relay): fetch it again with `node(id:)`.")
@access(PUBLIC)
class Node:
    id: strawberry.ID = strawberry.field(description="Global id, opaque: pass it to `node(id:)` or as an argument.")


class _PageLike(Protocol):
    @property
    def has_next(self) -> bool: ...
    @property
    def start_cursor(self) -> str | None: ...
    @property
    def end_cursor(self) -> str | None: ...


def _has_next_page(info: PageInfo, _ctx: Any = None) -> bool:
    return bool(info.page.has_next)


def _has_previous_page(info: PageInfo, _ctx: Any = None) -> bool:
    return bool(getattr(info.page, "has_previous", False))


@strawberry.type(description="Where a page sits in its list (Relay).")
@access(PUBLIC)
class PageInfo:
    start_cursor: str | None = strawberry.field(description="Cursor of the page's first edge (null when empty).")
    end_cursor: str | None = strawberry.field(description="Cursor of the page's last edge (null when empty).")
    page: strawberry.Private[_PageLike]

    @strawberry.field(description="Whether items follow this page: exact when paging forward; after `before`, "
                      "whether items exist at or after that cursor.", metadata=fast(_has_next_page))
    def has_next_page(self) -> bool:
        return _has_next_page(self)

    @strawberry.field(description="Whether items precede this page: exact when paging backward; after `after`, "
                      "whether items exist at or before that cursor.", metadata=fast(_has_previous_page))
    def has_previous_page(self) -> bool:
        return _has_previous_page(self)


@strawberry.type(description="One item of a page and its cursor (Relay).")
@access(PUBLIC)
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque cursor of this item: pass it as `after` or `before`.")
    node: T = strawberry.field(description="The item.")


def _total_count(conn: Connection[Any], _ctx: Any = None) -> int:
    if conn.count is None:
        raise RuntimeError("this connection was built without a count")
    return conn.count()


@strawberry.type(description="A page of a list (Relay connection): edges, page info and the list's total.")
@access(PUBLIC)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's items with their cursors, in list order.")
    page_info: PageInfo = strawberry.field(description="Cursors of the page's ends and whether more items exist.")
    count: strawberry.Private[Callable[[], int] | None]

    @strawberry.field(description="How many items the whole list holds for the caller and the filter "
                      "(one COUNT query, run only when selected).", metadata=fast(_total_count))
    def total_count(self) -> int:
        return _total_count(self)


def page_info(page: _PageLike) -> PageInfo:
    """Relay page info of a keyset page (its flags read from the page when selected)."""
    return PageInfo(start_cursor=page.start_cursor, end_cursor=page.end_cursor, page=page)


def keyset_edges(page: Page[Any], wrap: Callable[[Any], T]) -> list[Edge[T]]:
    """Edges of a keyset page: each cursor is the one ``after`` and ``before`` accept."""
    return [Edge(cursor=cursor, node=wrap(row)) for cursor, row in zip(page.cursors, page.items, strict=True)]


def connection(page: Page[Any], wrap: Callable[[Any], T], *, count: Callable[[], int] | None) -> Connection[T]:
    """The connection of a keyset page; ``count`` runs only when ``totalCount`` is selected."""
    return Connection(edges=keyset_edges(page, wrap), page_info=page_info(page), count=count)


def keyset_connection(
    session: Session,
    stmt: Select[Any],
    *,
    wrap: Callable[[Any], T],
    settings: Settings,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    key_columns: Sequence[KeyColumn | Any] | None = None,
    count_stmt: Select[Any] | None = None,
    plain: bool = False,
    prefetch: Callable[[list[Any]], None] | None = None,
) -> Connection[T]:
    """A page of ``stmt`` as a connection, ordered by ``key_columns`` (default: the selected entity's id).

    The last key column must be unique; ``count_stmt`` (default: COUNT over ``stmt``) runs only
    when ``totalCount`` is selected; ``prefetch`` sees the page's rows before they are wrapped
    (look-ahead loads of their relations); ``plain``: ``stmt`` selects columns, not an entity.
    """
    request = page_request(first, after, last, before, settings)
    keys = list(key_columns) if key_columns is not None else [_entity_id(stmt)]
    page = keyset_page(session, stmt, keys, request=request, plain=plain)
    if prefetch is not None:
        prefetch(page.items)
    counter = count_stmt if count_stmt is not None else select(func.count()).select_from(
        stmt.order_by(None).subquery())
    return connection(page, wrap, count=lambda: int(session.scalar(counter) or 0))


def _entity_id(stmt: Select[Any]) -> Any:
    entity = stmt.column_descriptions[0].get("entity")
    if entity is None:
        raise ValueError("keyset_connection needs key_columns when the statement selects no entity")
    return entity.id

