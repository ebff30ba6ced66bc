"""Partner registry services: register, licences, documents, reads (the caller commits)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ConflictError, NotFoundError, StaleVersionError, ValidationError
from core.pagination import Page, keyset_page
from partners.models import (
    Partner,
    PartnerDocument,
    PartnerKind,
    PartnerLicence,
    PartnerReviewEvent,
    PartnerStatus,
)
from partners.scoping import owned_by_caller, require_own

__all__ = [
    "DocumentSpec",
    "LicenceSpec",
    "Page",
    "add_document",
    "add_licence",
    "check_version",
    "current_licence",
    "get_partner",
    "keyset_page",
    "list_partners",
    "register_partner",
]

T = TypeVar("T")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_version(row: Any, expected: int | None, *, what: str) -> None:
    """Optimistic locking against a version the caller read."""
    if expected is not None and row.version != expected:
        raise StaleVersionError(f"{what} changed: version {row.version}, you sent {expected}",
                                field="expectedVersion")


@dataclass(frozen=True)
class LicenceSpec:
    """A licence to record."""

    number: str
    issuer: str
    valid_from: dt.date
    valid_until: dt.date


@dataclass(frozen=True)
class DocumentSpec:
    """A qualification document: kind, name, size and SHA-256 of the content."""

    kind: str
    name: str
    sha256: str
    size: int


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= limit:
        raise ValidationError(f"{field} must have 1 to {limit} characters", field=field)
    return value


def _licence(partner_id: int, spec: LicenceSpec, actor: str, now: dt.datetime) -> PartnerLicence:
    if spec.valid_until < spec.valid_from:
        raise ValidationError("licence ends before it starts", field="validUntil", code="BAD_PERIOD")
    return PartnerLicence(
        partner_id=partner_id, number=_text(spec.number, "number", 64), issuer=_text(spec.issuer, "issuer", 200),
        valid_from=spec.valid_from, valid_until=spec.valid_until, added_by=actor, added_at=now,
    )


def _document(partner_id: int, spec: DocumentSpec, actor: str, now: dt.datetime) -> PartnerDocument:
    digest = spec.sha256.strip().lower()
    if not _SHA256.match(digest):
        raise ValidationError("sha256 must be 64 hex characters", field="sha256")
    if spec.size < 0:
        raise ValidationError("size must not be negative", field="size")
    return PartnerDocument(
        partner_id=partner_id, kind=_text(spec.kind, "kind", 40), name=_text(spec.name, "name", 200),
        sha256=digest, size=spec.size, uploaded_by=actor, uploaded_at=now,
    )


def register_partner(
    session: Session,
    *,
    principal: Principal,
    code: str,
    name: str,
    kind: PartnerKind,
    licences: Sequence[LicenceSpec] = (),
    documents: Sequence[DocumentSpec] = (),
    now: dt.datetime,
) -> Partner:
    """Submit a partner for qualification review (status ``submitted``)."""
    code = code.strip().upper()
    if not _CODE.match(code):
        raise ValidationError("code must be 2-40 of A-Z, 0-9 and '-'", field="code", code="BAD_CODE")
    if len(licences) > 20 or len(documents) > 50:
        raise ValidationError("at most 20 licences and 50 documents", field="licences")
    if session.scalar(select(Partner.id).where(Partner.code == code)) is not None:
        raise ConflictError("a partner with this code exists", field="code", code="DUPLICATE")
    partner = Partner(
        code=code, name=_text(name, "name", 200), kind=kind, status=PartnerStatus.SUBMITTED,
        submitted_by=principal.subject, submitted_at=now,
    )
    session.add(partner)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("a partner with this code exists", field="code", code="DUPLICATE") from exc
    session.add_all([_licence(partner.id, spec, principal.subject, now) for spec in licences])
    session.add_all([_document(partner.id, spec, principal.subject, now) for spec in documents])
    session.add(PartnerReviewEvent(
        partner_id=partner.id, from_status=None, to_status=PartnerStatus.SUBMITTED, actor=principal.subject,
        role=principal.role.value if principal.role else None, reason="registered", at=now,
    ))
    session.flush()
    return partner


def get_partner(session: Session, *, principal: Principal, partner_id: int) -> Partner:
    """A partner the caller may see (staff: any; a partner: itself), else NotFoundError."""
    row = session.scalar(select(Partner).where(Partner.id == partner_id, owned_by_caller(principal, Partner.id)))
    if row is None:
        raise NotFoundError("partner not found", field="partnerId")
    return row


def list_partners(
    session: Session,
    *,
    principal: Principal,
    first: int,
    after: str | None = None,
    status: PartnerStatus | None = None,
    kind: PartnerKind | None = None,
) -> Page[Partner]:
    """Partners visible to the caller, oldest first."""
    stmt = select(Partner).where(owned_by_caller(principal, Partner.id))
    if status is not None:
        stmt = stmt.where(Partner.status == status)
    if kind is not None:
        stmt = stmt.where(Partner.kind == kind)
    return keyset_page(session, stmt, Partner.id, first=first, after=after)


def add_licence(
    session: Session, *, principal: Principal, partner_id: int, licence: LicenceSpec, now: dt.datetime
) -> PartnerLicence:
    """Record a (new or renewed) licence of a partner."""
    partner = get_partner(session, principal=principal, partner_id=partner_id)
    require_own(principal, partner.id, what="partner")
    row = _licence(partner.id, licence, principal.subject, now)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("this licence number is recorded already", field="number", code="DUPLICATE") from exc
    return row


def add_document(
    session: Session, *, principal: Principal, partner_id: int, document: DocumentSpec, now: dt.datetime
) -> PartnerDocument:
    """Record a qualification document (by content digest)."""
    partner = get_partner(session, principal=principal, partner_id=partner_id)
    row = _document(partner.id, document, principal.subject, now)
    session.add(row)
    session.flush()
    return row


def current_licence(session: Session, *, partner_id: int, today: dt.date) -> PartnerLicence | None:
    """The partner's licence valid on ``today`` that runs longest, if any."""
    return session.scalar(
        select(PartnerLicence)
        .where(
            PartnerLicence.partner_id == partner_id,
            PartnerLicence.valid_from <= today,
            PartnerLicence.valid_until >= today,
        )
        .order_by(PartnerLicence.valid_until.desc())
        .limit(1)
    )
