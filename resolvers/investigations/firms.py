"""Assessor firms as auto-assignment sees them: profiles, loads, the choice, and performance.

A firm *qualifies* for an investigation when the partner registry has it as an approved
assessor firm (a suspended or expired one never gets new work), it has a profile here, and
the profile covers the investigation's region. It has *room* while its load (offers and
accepted investigations) is below its capacity. Among qualified firms with room the choice
scores quality (0-100) and free capacity, then the lower load, then the lower id:
deterministic, so the bulk job and one request each pick the same firm.

Capacity is guarded by locking the firm's profile row before its load is counted
(``lock_profiles``, in partner id order so two writers never deadlock).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import NotFoundError, ValidationError, collect_errors
from partners import loaders as partner_loaders
from resolvers.investigations.models import (
    ACTIVE_ASSIGNMENT,
    AssessorFirmProfile,
    AssignmentState,
    InvestigationAssignment,
    ReviewOutcome,
)

__all__ = [
    "FirmPerformance",
    "FirmSlot",
    "by_region",
    "choose",
    "firm_performance",
    "get_profile",
    "loads",
    "lock_profiles",
    "profiles_query",
    "set_profile",
    "slots",
    "unfit_reason",
]

_REGION = re.compile(r"^[0-9]{6}$")
_ASSESSOR = "assessor_firm"
_APPROVED = "approved"
MAX_CAPACITY = 10_000


@dataclass
class FirmSlot:
    """A firm's standing for auto-assignment: what it covers, holds and may still take."""

    partner_id: int
    regions: frozenset[str]
    capacity: int
    quality: Decimal
    load: int
    approved: bool = True
    assessor: bool = True
    declined: set[int] = field(default_factory=set)  # investigations this firm declined or let expire

    @property
    def room(self) -> int:
        """How many more investigations it may take."""
        return self.capacity - self.load

    def covers(self, region: str | None) -> bool:
        """Whether it works in ``region`` (None: any region)."""
        return region is None or region in self.regions


def unfit_reason(slot: FirmSlot | None, region: str | None) -> tuple[str, str] | None:
    """Why a firm cannot take an investigation in ``region`` now (code, message), or None."""
    if slot is None:
        return "FIRM_NOT_QUALIFIED", "the partner has no assessor-firm profile"
    if not slot.assessor:
        return "FIRM_NOT_QUALIFIED", "the partner is not an assessor firm"
    if not slot.approved:
        return "FIRM_SUSPENDED", "the firm is not approved in the partner registry (suspended, expired or in review)"
    if not slot.covers(region):
        return "FIRM_NOT_QUALIFIED", f"the firm does not work in region {region}"
    if slot.room <= 0:
        return "FIRM_FULL", f"the firm holds {slot.load} investigations, its capacity"
    return None


def _score(slot: FirmSlot) -> tuple[float, int, int]:
    free = slot.room / slot.capacity if slot.capacity else 0.0
    return (-(float(slot.quality) / 100 * 0.6 + free * 0.4), slot.load, slot.partner_id)


def choose(candidates: Iterable[FirmSlot], *, region: str | None, investigation_id: int) -> FirmSlot | None:
    """The best firm with room for an investigation in ``region`` (None when none qualifies)."""
    best: FirmSlot | None = None
    best_key: tuple[float, int, int] | None = None
    for slot in candidates:
        if (slot.room <= 0 or not slot.approved or not slot.assessor or not slot.covers(region)
                or investigation_id in slot.declined):
            continue
        key = _score(slot)
        if best_key is None or key < best_key:
            best, best_key = slot, key
    return best


def by_region(all_slots: Iterable[FirmSlot]) -> dict[str | None, list[FirmSlot]]:
    """Slots of approved assessor firms grouped by region (None: all of them), for many choices in a row."""
    out: dict[str | None, list[FirmSlot]] = {None: []}
    for slot in all_slots:
        if slot.approved and slot.assessor:
            out[None].append(slot)
            for region in slot.regions:
                out.setdefault(region, []).append(slot)
    return out


def loads(session: Session, partner_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Offers and accepted investigations per firm (one query)."""
    a = InvestigationAssignment
    stmt = select(a.partner_id, func.count()).where(a.state.in_(ACTIVE_ASSIGNMENT)).group_by(a.partner_id)
    if partner_ids is not None:
        stmt = stmt.where(a.partner_id.in_(list(partner_ids)))
    return {int(p): int(n) for p, n in session.execute(stmt).tuples()}


def lock_profiles(session: Session, partner_ids: Sequence[int] | None = None) -> list[AssessorFirmProfile]:
    """Profiles locked for update, in partner id order (all when ``partner_ids`` is None)."""
    stmt = select(AssessorFirmProfile).order_by(AssessorFirmProfile.partner_id).with_for_update()
    if partner_ids is not None:
        stmt = stmt.where(AssessorFirmProfile.partner_id.in_(list(partner_ids)))
    return list(session.scalars(stmt))


def slots(session: Session, profiles: Sequence[AssessorFirmProfile],
          declined_of: Sequence[int] = ()) -> dict[int, FirmSlot]:
    """Each profile's slot with its registry status and load (three queries)."""
    ids = [p.partner_id for p in profiles]
    partners = partner_loaders.partners_by_id(session, ids) if ids else {}
    held = loads(session, ids) if ids else {}
    out: dict[int, FirmSlot] = {}
    for p in profiles:
        partner = partners.get(p.partner_id)
        out[p.partner_id] = FirmSlot(
            p.partner_id, frozenset(p.regions), p.capacity, Decimal(p.quality_score), held.get(p.partner_id, 0),
            approved=partner is not None and partner.status.value == _APPROVED,
            assessor=partner is not None and partner.kind.value == _ASSESSOR)
    if declined_of and out:
        a = InvestigationAssignment
        for pid, inv in session.execute(select(a.partner_id, a.investigation_id).where(
                a.investigation_id.in_(list(declined_of)),
                a.state.in_((AssignmentState.DECLINED, AssignmentState.EXPIRED)))).tuples():
            if pid in out:
                out[pid].declined.add(int(inv))
    return out


def profiles_query() -> Select[Any]:
    """Every firm profile (a page is cut by the caller; readers are staff, no row scoping)."""
    return select(AssessorFirmProfile)


def get_profile(session: Session, *, partner_id: int) -> AssessorFirmProfile | None:
    """A firm's profile, if it has one."""
    return session.get(AssessorFirmProfile, partner_id)


def set_profile(session: Session, *, principal: Principal, partner_id: int, regions: Sequence[str], capacity: int,
                quality_score: Decimal, now: dt.datetime) -> AssessorFirmProfile:
    """Create or change a firm's profile (managers); every input error at once."""
    partner = partner_loaders.partners_by_id(session, [partner_id]).get(partner_id)
    with collect_errors() as errors:
        if partner is None:
            errors.add(NotFoundError("partner not found", field="partnerId"))
        elif partner.kind.value != _ASSESSOR:
            errors.add(ValidationError("only an assessor firm has an investigation profile", field="partnerId",
                                       code="FIRM_NOT_QUALIFIED"))
        clean = sorted({r.strip() for r in regions})
        if not clean or len(clean) > 100:
            errors.add(ValidationError("1-100 regions", field="regions"))
        for i, r in enumerate(clean):
            if not _REGION.match(r):
                errors.add(ValidationError(f"{r!r} is no 6-digit GB/T 2260 region code", field=f"regions[{i}]"))
        if not 1 <= capacity <= MAX_CAPACITY:
            errors.add(ValidationError(f"capacity: 1-{MAX_CAPACITY}", field="capacity"))
        if not Decimal(0) <= quality_score <= Decimal(100):
            errors.add(ValidationError("quality score: 0-100", field="qualityScore"))
        errors.raise_if_any()
    row = session.get(AssessorFirmProfile, partner_id, with_for_update=True)
    if row is None:
        row = AssessorFirmProfile(partner_id=partner_id)
        session.add(row)
    row.regions, row.capacity, row.quality_score = clean, capacity, quality_score.quantize(Decimal("0.01"))
    row.updated_by, row.updated_at = principal.subject, now
    session.flush()
    return row


@dataclass(frozen=True)
class FirmPerformance:
    """A firm's figures over offers made in a period."""

    partner_id: int
    offers: int
    accepted: int
    declined: int
    expired: int
    reports: int
    reports_on_time: int
    reviewed_accepted: int
    reviewed_rejected: int
    more_requested: int

    @property
    def id(self) -> int:
        """The firm's partner id (pages of figures are keyed by it)."""
        return self.partner_id

    @staticmethod
    def _rate(part: int, whole: int) -> Decimal | None:
        return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None

    @property
    def acceptance_rate(self) -> Decimal | None:
        """Accepted offers over offers answered or expired (None without any)."""
        return self._rate(self.accepted, self.accepted + self.declined + self.expired)

    @property
    def on_time_rate(self) -> Decimal | None:
        """Reports in by their due time over reports (None without any)."""
        return self._rate(self.reports_on_time, self.reports)

    @property
    def review_acceptance_rate(self) -> Decimal | None:
        """Reports accepted over reports finally reviewed (None without any)."""
        return self._rate(self.reviewed_accepted, self.reviewed_accepted + self.reviewed_rejected)


def firm_performance(session: Session, *, start: dt.datetime, end: dt.datetime,
                     partner_ids: Sequence[int] | None = None) -> list[FirmPerformance]:
    """Per firm, over offers made in ``[start, end)``: acceptance, on-time and review-outcome figures (one query)."""
    a = InvestigationAssignment

    def count_if(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    accepted_states = (AssignmentState.ACCEPTED, AssignmentState.DONE)
    stmt = (select(a.partner_id, func.count(),
                   count_if(a.state.in_(accepted_states) | a.outcome.is_not(None)),
                   count_if(a.state == AssignmentState.DECLINED), count_if(a.state == AssignmentState.EXPIRED),
                   count_if(a.report_on_time.is_not(None)), count_if(a.report_on_time.is_(True)),
                   count_if(a.outcome == ReviewOutcome.ACCEPTED), count_if(a.outcome == ReviewOutcome.REJECTED),
                   func.coalesce(func.sum(a.more_requested), 0))
            .where(a.offered_at >= start, a.offered_at < end).group_by(a.partner_id).order_by(a.partner_id))
    if partner_ids is not None:
        stmt = stmt.where(a.partner_id.in_(list(partner_ids)))
    return [FirmPerformance(*(int(v) for v in row)) for row in session.execute(stmt).tuples()]
