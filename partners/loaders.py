"""Batch fetches for the partners domain's relations (used by the schema's DataLoaders)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from partners.models import (
    Assignment,
    Partner,
    PartnerDocument,
    PartnerLicence,
    PartnerReviewEvent,
    SignerKey,
)

__all__ = [
    "assignments_by_id",
    "documents_by_partner",
    "keys_by_partner",
    "licences_by_partner",
    "partners_by_id",
    "partners_of_kind",
    "review_events_by_partner",
]


def partners_by_id(session: Session, ids: Sequence[int]) -> dict[int, Partner]:
    """Partners keyed by id, one query (callers apply visibility)."""
    return {p.id: p for p in session.scalars(select(Partner).where(Partner.id.in_(list(ids))))}


def partners_of_kind(session: Session, kind: str) -> list[Partner]:
    """Every partner of one kind (e.g. ``assessor_firm``), by id, one query (callers apply visibility)."""
    return list(session.scalars(select(Partner).where(Partner.kind == kind).order_by(Partner.id)))


def assignments_by_id(session: Session, ids: Sequence[int]) -> dict[int, Assignment]:
    """Assignments keyed by id, one query (callers apply visibility)."""
    return {a.id: a for a in session.scalars(select(Assignment).where(Assignment.id.in_(list(ids))))}


def licences_by_partner(session: Session, ids: Sequence[int]) -> dict[int, list[PartnerLicence]]:
    """Licences grouped by partner, oldest first, one query."""
    out: dict[int, list[PartnerLicence]] = {i: [] for i in ids}
    stmt = select(PartnerLicence).where(PartnerLicence.partner_id.in_(list(ids))).order_by(PartnerLicence.id)
    for row in session.scalars(stmt):
        out[row.partner_id].append(row)
    return out


def documents_by_partner(session: Session, ids: Sequence[int]) -> dict[int, list[PartnerDocument]]:
    """Documents grouped by partner, oldest first, one query."""
    out: dict[int, list[PartnerDocument]] = {i: [] for i in ids}
    stmt = select(PartnerDocument).where(PartnerDocument.partner_id.in_(list(ids))).order_by(PartnerDocument.id)
    for row in session.scalars(stmt):
        out[row.partner_id].append(row)
    return out


def review_events_by_partner(session: Session, ids: Sequence[int]) -> dict[int, list[PartnerReviewEvent]]:
    """Review trail grouped by partner, oldest first, one query."""
    out: dict[int, list[PartnerReviewEvent]] = {i: [] for i in ids}
    stmt = (
        select(PartnerReviewEvent)
        .where(PartnerReviewEvent.partner_id.in_(list(ids)))
        .order_by(PartnerReviewEvent.id)
    )
    for row in session.scalars(stmt):
        out[row.partner_id].append(row)
    return out


def keys_by_partner(session: Session, ids: Sequence[int]) -> dict[int, list[SignerKey]]:
    """Signer keys grouped by partner, oldest first, one query."""
    out: dict[int, list[SignerKey]] = {i: [] for i in ids}
    for row in session.scalars(select(SignerKey).where(SignerKey.partner_id.in_(list(ids))).order_by(SignerKey.id)):
        out[row.partner_id].append(row)
    return out
