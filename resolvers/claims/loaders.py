"""Batch fetches of the claims domain's relations (used by the schema's DataLoaders).

The relation fetches answer read-only rows rather than ORM entities: every column of the
mapped table, read by attribute like an entity, converted by the same column types (so
the same values). The GraphQL types only read them, so a page of 50 claims does not
build, track and identity-map ~50 entities per relation. A claim's policy and insured
customer are the policies domain's relations (``resolvers.policies.loaders``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, literal, select, true
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.pagination import Page, PageRequest, decode_cursor, encode_cursor
from resolvers.claims.models import Claim, ClaimDocument, ClaimEvent, ClaimLineItem, DocumentRequest, Payment

__all__ = [
    "ClaimPart",
    "PartPage",
    "claims_by_id",
    "line_items_by_claim",
    "pages_by_claim",
]

#: The rows of a claim that are listed page by page (each has ``claim_id`` and a unique ``id``).
ClaimPart = type[ClaimDocument] | type[ClaimEvent] | type[Payment] | type[DocumentRequest]


def claims_by_id(session: Session, ids: Sequence[int]) -> dict[int, Claim]:
    """Claims keyed by id, one query (callers apply visibility)."""
    return {c.id: c for c in session.scalars(select(Claim).where(Claim.id.in_(ids)))}


def _grouped(session: Session, model: Any, ids: Sequence[int], order: Any) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in ids}
    table = model.__table__
    for row in session.execute(select(table).where(table.c.claim_id.in_(ids)).order_by(order)).all():
        out[row.claim_id].append(row)
    return out


def line_items_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[ClaimLineItem]]:
    """Line items grouped by claim, in invoice order, one query."""
    return _grouped(session, ClaimLineItem, ids, ClaimLineItem.position)


@dataclass(frozen=True)
class PartPage:
    """One claim's page of a relation, and how many rows the whole relation holds for that claim."""

    page: Page[Any]
    total: int


def _cursor_id(cursor: str, field: str) -> int:
    values = decode_cursor(cursor, field=field)
    if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], int):
        raise ValidationError("malformed cursor", field=field, code="BAD_CURSOR")
    return values[0]


def _empty() -> PartPage:
    return PartPage(Page([], has_next=False, has_previous=False, cursors=[], start_cursor=None, end_cursor=None), 0)


def pages_by_claim(session: Session, model: ClaimPart, ids: Sequence[int], request: PageRequest) -> dict[int, PartPage]:
    """The same page of ``model``'s rows (by id, oldest first) for every claim in ``ids``: one query.

    Cursors, order and page-info rules are those of ``core.pagination.keyset_page`` by id:
    ``hasNextPage``/``hasPreviousPage`` exact in the page's direction, and on the other side
    of a cursor whether rows exist at or beyond it. Window functions count, per claim, the
    rows up to ``after``, before ``before`` and in between, and number the rows in between
    in the page's direction; a claim whose window is empty still sends one row (its counts).
    Rows are read-only rows of the table (attribute access by column name).
    """
    if not ids:
        return {}
    table = model.__table__
    key, parent = table.c.id, table.c.claim_id
    after = _cursor_id(request.after, "after") if request.after else None
    before = _cursor_id(request.before, "before") if request.before else None
    bounds = [c for c in (key > after if after is not None else None, key < before if before is not None else None)
              if c is not None]
    inside = case((and_(*bounds) if bounds else true(), 1), else_=0)
    backward = request.last is not None
    size = request.last if backward else request.first
    assert size is not None, "the page request was checked (PageRequest.checked)"
    inner = select(
        table, inside.label("in_page"),
        func.count().over(partition_by=parent).label("n_total"),
        (func.sum(case((key <= after, 1), else_=0)).over(partition_by=parent) if after is not None
         else literal(0)).label("n_upto_after"),
        (func.sum(case((key < before, 1), else_=0)).over(partition_by=parent) if before is not None
         else func.count().over(partition_by=parent)).label("n_before_before"),
        func.sum(inside).over(partition_by=parent).label("n_inside"),
        func.row_number().over(partition_by=parent, order_by=[inside.desc(), key.desc() if backward else key.asc()])
        .label("n_row"),
    ).where(parent.in_(list(ids))).subquery()
    rows = session.execute(select(inner).where(inner.c.n_row <= max(size, 1))
                           .order_by(inner.c.claim_id, inner.c.n_row)).all()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.claim_id, []).append(row)
    out = {i: _empty() for i in ids}
    for claim_id, found in grouped.items():
        first = found[0]
        total, lo, hi, inside_count = (int(first.n_total), int(first.n_upto_after), int(first.n_before_before),
                                       int(first.n_inside or 0))
        items = [r for r in found if r.in_page][:size]
        if backward:
            items.reverse()
            has_previous, has_next = inside_count > size or lo > 0, hi < total
        else:
            has_next, has_previous = inside_count > size or hi < total, lo > 0
        cursors = [encode_cursor(r.id) for r in items]
        out[claim_id] = PartPage(Page(items, has_next=has_next, has_previous=has_previous, cursors=cursors,
                                      start_cursor=cursors[0] if cursors else None,
                                      end_cursor=cursors[-1] if cursors else None), total)
    return out
