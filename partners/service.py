"""Partner registry services: register, licences, documents, reads (the caller commits)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ConflictError, NotFoundError, StaleVersionError, ValidationError, collect_errors
from core.pagination import Page, PageRequest, keyset_page
from partners.models import (
    Partner,
    PartnerDocument,
    PartnerDocumentKind,
    PartnerKind,
    PartnerLicence,
    PartnerReviewEvent,
    PartnerStatus,
)
from partners.scoping import owned_by_caller, require_own

__all__ = [
    "MAX_DOCUMENTS",
    "MAX_LICENCES",
    "DocumentSpec",
    "LicenceSpec",
    "Page",
    "PageRequest",
    "add_document",
    "add_licence",
    "check_version",
    "count_of",
    "count_partners",
    "current_licence",
    "document_kind",
    "get_partner",
    "keyset_page",
    "list_partners",
    "register_partner",
]

T = TypeVar("T")
MAX_LICENCES = 20
MAX_DOCUMENTS = 50
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

    kind: PartnerDocumentKind | str
    name: str
    sha256: str
    size: int


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= limit:
        raise ValidationError(f"{field} must have 1 to {limit} characters", field=field)
    return value


def _licence(spec: LicenceSpec, actor: str, now: dt.datetime, *, at: str) -> PartnerLicence:
    """A licence row (its partner set by the caller); every refusal at once, fields prefixed with ``at``."""
    with collect_errors() as errors:
        if spec.valid_until < spec.valid_from:
            errors.add(ValidationError("licence ends before it starts", field=f"{at}validUntil", code="BAD_PERIOD"))
        with errors.check():
            number = _text(spec.number, f"{at}number", 64)
        with errors.check():
            issuer = _text(spec.issuer, f"{at}issuer", 200)
    return PartnerLicence(number=number, issuer=issuer, valid_from=spec.valid_from, valid_until=spec.valid_until,
                          added_by=actor, added_at=now)


def document_kind(raw: PartnerDocumentKind | str, *, field: str = "kind") -> PartnerDocumentKind:
    """The document kind named by ``raw``; ValidationError for anything outside the closed set."""
    try:
        return PartnerDocumentKind(raw)
    except ValueError:
        known = ", ".join(k.value for k in PartnerDocumentKind)
        raise ValidationError(f"document kind must be one of {known}", field=field) from None


def _document(spec: DocumentSpec, actor: str, now: dt.datetime, *, at: str) -> PartnerDocument:
    """A document row (its partner set by the caller); every refusal at once, fields prefixed with ``at``."""
    digest = spec.sha256.strip().lower()
    with collect_errors() as errors:
        with errors.check():
            kind = document_kind(spec.kind, field=f"{at}kind")
        with errors.check():
            name = _text(spec.name, f"{at}name", 200)
        if not _SHA256.match(digest):
            errors.add(ValidationError("sha256 must be 64 hex characters", field=f"{at}sha256"))
        if spec.size < 0:
            errors.add(ValidationError("size must not be negative", field=f"{at}size"))
    return PartnerDocument(kind=kind.value, name=name, sha256=digest, size=spec.size, uploaded_by=actor,
                           uploaded_at=now)


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
    """Submit a partner for qualification review (status ``submitted``); refuses every bad input at once."""
    code = code.strip().upper()
    licence_rows: list[PartnerLicence] = []
    document_rows: list[PartnerDocument] = []
    with collect_errors() as errors:
        if not _CODE.match(code):
            errors.add(ValidationError("code must be 2-40 of A-Z, 0-9 and '-'", field="code", code="BAD_CODE"))
        elif session.scalar(select(Partner.id).where(Partner.code == code)) is not None:
            errors.add(ConflictError("a partner with this code exists", field="code", code="DUPLICATE"))
        with errors.check():
            name = _text(name, "name", 200)
        if len(licences) > MAX_LICENCES:
            errors.add(ValidationError(f"at most {MAX_LICENCES} licences", field="licences", code="TOO_MANY"))
        if len(documents) > MAX_DOCUMENTS:
            errors.add(ValidationError(f"at most {MAX_DOCUMENTS} documents", field="documents", code="TOO_MANY"))
        numbers: set[str] = set()
        for i, spec in enumerate(licences[:MAX_LICENCES]):
            with errors.check():
                row = _licence(spec, principal.subject, now, at=f"licences[{i}].")
                if row.number in numbers:
                    raise ConflictError("this licence number is given twice", field=f"licences[{i}].number",
                                        code="DUPLICATE")
                numbers.add(row.number)
                licence_rows.append(row)
        for i, doc in enumerate(documents[:MAX_DOCUMENTS]):
            with errors.check():
                document_rows.append(_document(doc, principal.subject, now, at=f"documents[{i}]."))
    partner = Partner(
        code=code, name=name, kind=kind, status=PartnerStatus.SUBMITTED,
        submitted_by=principal.subject, submitted_at=now,
    )
    session.add(partner)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("a partner with this code exists", field="code", code="DUPLICATE") from exc
    children: list[PartnerLicence | PartnerDocument] = [*licence_rows, *document_rows]
    for child in children:
        child.partner_id = partner.id
    session.add_all(children)
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


def count_of(session: Session, stmt: Select[Any]) -> int:
    """How many rows ``stmt`` selects (one COUNT query)."""
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def _partners(principal: Principal, status: PartnerStatus | None, kind: PartnerKind | None) -> Select[Partner]:
    stmt = select(Partner).where(owned_by_caller(principal, Partner.id))
    if status is not None:
        stmt = stmt.where(Partner.status == status)
    if kind is not None:
        stmt = stmt.where(Partner.kind == kind)
    return stmt


def list_partners(
    session: Session,
    *,
    principal: Principal,
    page: PageRequest,
    status: PartnerStatus | None = None,
    kind: PartnerKind | None = None,
) -> Page[Partner]:
    """A page of the partners visible to the caller, oldest first."""
    return keyset_page(session, _partners(principal, status, kind), Partner.id, request=page)


def count_partners(
    session: Session, *, principal: Principal, status: PartnerStatus | None = None, kind: PartnerKind | None = None
) -> int:
    """How many partners the caller may see (with the same filters as :func:`list_partners`)."""
    return count_of(session, _partners(principal, status, kind))


def add_licence(
    session: Session, *, principal: Principal, partner_id: int, licence: LicenceSpec, now: dt.datetime
) -> PartnerLicence:
    """Record a (new or renewed) licence of a partner."""
    partner = get_partner(session, principal=principal, partner_id=partner_id)
    require_own(principal, partner.id, what="partner")
    row = _licence(licence, principal.subject, now, at="licence.")
    row.partner_id = partner.id
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("this licence number is recorded already", field="licence.number",
                            code="DUPLICATE") from exc
    return row


def add_document(
    session: Session, *, principal: Principal, partner_id: int, document: DocumentSpec, now: dt.datetime
) -> PartnerDocument:
    """Record a qualification document (by content digest)."""
    partner = get_partner(session, principal=principal, partner_id=partner_id)
    row = _document(document, principal.subject, now, at="document.")
    row.partner_id = partner.id
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
