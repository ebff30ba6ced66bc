"""Batch fetches of the claims domain's relations (used by the schema's DataLoaders).

The relation fetches answer read-only rows rather than ORM entities: every column of the
mapped table, read by attribute like an entity, converted by the same column types (so
the same values). The GraphQL types only read them, so a page of 50 claims does not
build, track and identity-map ~50 entities per relation. A claim's policy and insured
customer are the policies domain's relations (``resolvers.policies.loaders``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolvers.claims.models import Claim, ClaimDocument, ClaimEvent, ClaimLineItem, DocumentRequest, Payment

__all__ = [
    "claims_by_id",
    "documents_by_claim",
    "events_by_claim",
    "line_items_by_claim",
    "payments_by_claim",
    "requests_by_claim",
]


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


def documents_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[ClaimDocument]]:
    """Documents grouped by claim, oldest first, one query."""
    return _grouped(session, ClaimDocument, ids, ClaimDocument.id)


def events_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[ClaimEvent]]:
    """Timeline events grouped by claim, oldest first, one query."""
    return _grouped(session, ClaimEvent, ids, ClaimEvent.id)


def payments_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[Payment]]:
    """Payments grouped by claim, one query."""
    return _grouped(session, Payment, ids, Payment.id)


def requests_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[DocumentRequest]]:
    """Document requests grouped by claim, one query."""
    return _grouped(session, DocumentRequest, ids, DocumentRequest.id)
