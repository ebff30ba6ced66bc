"""Batch fetches for the investigations domain's relations (the schema's DataLoaders call them); callers scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolvers.investigations.models import (
    AssessorFirmProfile,
    Investigation,
    InvestigationAssignment,
    InvestigationEscalation,
    InvestigationEvent,
)

__all__ = ["escalations_by_investigation", "investigations_by_claim", "investigations_by_survey_record",
           "offers_by_id", "offers_by_investigation", "profiles_by_partner", "trail_by_investigation"]

R = TypeVar("R")


def _grouped(session: Session, model: Any, column: Any, ids: Sequence[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in ids}
    for row in session.scalars(select(model).where(column.in_(list(ids))).order_by(model.id)):
        out[getattr(row, column.key)].append(row)
    return out


def offers_by_id(session: Session, ids: Sequence[int]) -> dict[int, InvestigationAssignment]:
    """Offers keyed by id, one query."""
    a = InvestigationAssignment
    return {r.id: r for r in session.scalars(select(a).where(a.id.in_(list(ids))))}


def offers_by_investigation(session: Session, ids: Sequence[int]) -> dict[int, list[InvestigationAssignment]]:
    """Each investigation's offers, oldest first, one query."""
    return _grouped(session, InvestigationAssignment, InvestigationAssignment.investigation_id, ids)


def trail_by_investigation(session: Session, ids: Sequence[int]) -> dict[int, list[InvestigationEvent]]:
    """Each investigation's trail events in the order recorded, one query."""
    return _grouped(session, InvestigationEvent, InvestigationEvent.investigation_id, ids)


def escalations_by_investigation(session: Session, ids: Sequence[int]) -> dict[int, list[InvestigationEscalation]]:
    """Each investigation's missed SLAs, oldest first, one query."""
    return _grouped(session, InvestigationEscalation, InvestigationEscalation.investigation_id, ids)


def profiles_by_partner(session: Session, ids: Sequence[int]) -> dict[int, AssessorFirmProfile]:
    """Firm profiles keyed by partner id, one query."""
    p = AssessorFirmProfile
    return {r.partner_id: r for r in session.scalars(select(p).where(p.partner_id.in_(list(ids))))}


def investigations_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[Investigation]]:
    """Each claim's investigations, oldest first, one query."""
    return _grouped(session, Investigation, Investigation.claim_id, ids)


def investigations_by_survey_record(session: Session, ids: Sequence[int]) -> dict[int, Investigation]:
    """The investigation each survey report (partners' signed record id) closed, one query."""
    i = Investigation
    return {int(r.survey_record_id or 0): r for r in session.scalars(select(i).where(i.survey_record_id.in_(list(ids))))}
