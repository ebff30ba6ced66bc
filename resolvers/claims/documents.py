"""Claim documents: type sniffing and limits, attaching stored uploads, finding them, requests, originals.

Medical documents (invoice, discharge summary, prescription) become ledger records of
kind MEDICAL in the same transaction: only the commitment is ever anchored. Who may upload
or download is declared per route (``schema.permissions.ROUTE_ACCESS``); here is the row
scoping: a document is found only through a claim the caller may see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import puremagic
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import InvalidTransitionError, NotFoundError, ValidationError
from core.roles import ORIGINAL_RECEIVERS
from ledger import service as ledger
from ledger.contract import RecordKind
from resolvers.claims.models import Claim, ClaimDocument, ClaimEventKind, DocumentKind, DocumentRequest
from resolvers.claims.reasons import Reason, ReasonCode
from resolvers.claims.scoping import claim_visible
from resolvers.claims.states import OPEN_FOR_DOCUMENTS, record_event
from resolvers.claims.storage import StoredObject

__all__ = [
    "MEDICAL_KINDS",
    "UploadLimits",
    "attach_document",
    "check_can_upload",
    "get_document",
    "record_original",
    "request_document",
    "safe_filename",
    "sniff",
]

MEDICAL_KINDS = frozenset({DocumentKind.INVOICE, DocumentKind.DISCHARGE_SUMMARY, DocumentKind.PRESCRIPTION})
SNIFF_BYTES = 2048


@dataclass(frozen=True)
class UploadLimits:
    """Size limit and allowed types of uploads (``claims.max_upload_bytes`` in settings.extra)."""

    max_bytes: int = 10 * 1024 * 1024
    allowed_types: frozenset[str] = field(
        default_factory=lambda: frozenset({"application/pdf", "image/jpeg", "image/png"}))

    @classmethod
    def from_extra(cls, extra: dict[str, str]) -> UploadLimits:
        """Limits from settings.extra."""
        return cls(max_bytes=int(extra.get("claims.max_upload_bytes", cls.max_bytes)))


def sniff(head: bytes, limits: UploadLimits) -> str:
    """The content type the bytes really are; UNSUPPORTED_TYPE unless allowed."""
    try:
        found = str(puremagic.from_string(head, mime=True))
    except (puremagic.PureError, ValueError):
        found = ""
    if found not in limits.allowed_types:
        raise ValidationError(
            f"file type {found or 'unknown'} is not accepted; send PDF, JPEG or PNG",
            field="file", code="UNSUPPORTED_TYPE")
    return found


def safe_filename(filename: str | None) -> str:
    """The client's file name without path separators or control characters, at most 200 characters."""
    cleaned = "".join("_" if ch in "/\\" else ch for ch in (filename or "") if ch.isprintable())
    return cleaned.strip()[:200] or "upload"


def _claim_for_documents(session: Session, principal: Principal, claim_id: int) -> Claim:
    claim = session.scalar(select(Claim).where(Claim.id == claim_id, claim_visible(principal)))
    if claim is None:
        raise NotFoundError("claim not found", field="claimId")
    return claim


def check_can_upload(session: Session, *, principal: Principal, claim_id: int) -> Claim:
    """The claim, if ``principal`` may add documents to it now (before any bytes are stored)."""
    claim = _claim_for_documents(session, principal, claim_id)
    if claim.state not in OPEN_FOR_DOCUMENTS:
        raise InvalidTransitionError(f"a {claim.state.value} claim takes no more documents", field="claimId")
    return claim


def attach_document(
    session: Session, *, principal: Principal, claim_id: int, kind: DocumentKind, filename: str,
    content_type: str, stored: StoredObject, now: dt.datetime, provider: str | None = None,
    issued_on: dt.date | None = None,
) -> ClaimDocument:
    """Record a stored upload on its claim; medical kinds also become ledger records."""
    claim = check_can_upload(session, principal=principal, claim_id=claim_id)
    name = safe_filename(filename)
    ledger_id: int | None = None
    if kind in MEDICAL_KINDS:
        body: dict[str, Any] = {
            "documentType": kind.value, "provider": (provider or claim.hospital)[:200],
            "issuedOn": (issued_on or claim.discharge_date).isoformat(), "sha256": stored.sha256,
            "claim": claim.number,
        }
        ledger_id = ledger.record(session, kind=RecordKind.MEDICAL, body=body).id
    doc = ClaimDocument(
        claim_id=claim.id, kind=kind, filename=name, content_type=content_type, size=stored.size,
        sha256=stored.sha256, storage_key=stored.key, data_key=stored.data_key, ledger_record_id=ledger_id,
        uploaded_by=principal.subject,
    )
    session.add(doc)
    session.flush()
    for req in session.scalars(select(DocumentRequest).where(
            DocumentRequest.claim_id == claim.id, DocumentRequest.kind == kind,
            DocumentRequest.fulfilled_by_id.is_(None))):
        req.fulfilled_by_id = doc.id
    record_event(session, claim, actor=principal, kind=ClaimEventKind.DOCUMENT, at=now,
                 reason=Reason(ReasonCode.DOCUMENT_UPLOADED, {"kind": kind, "size": stored.size}))
    claim.updated_at = now  # bumps the version: a stale decision made without this document fails
    session.flush()
    return doc


def get_document(session: Session, *, principal: Principal, claim_id: int, document_id: int) -> ClaimDocument:
    """A document of a claim ``principal`` may see; NOT_FOUND alike for a foreign claim or document."""
    doc = session.scalar(
        select(ClaimDocument).join(Claim, Claim.id == ClaimDocument.claim_id)
        .where(ClaimDocument.id == document_id, ClaimDocument.claim_id == claim_id, claim_visible(principal)))
    if doc is None:
        raise NotFoundError("document not found", field="documentId")
    return doc


def request_document(
    session: Session, *, principal: Principal, claim_id: int, kind: DocumentKind, due_on: dt.date, note: str,
    today: dt.date,
) -> DocumentRequest:
    """Ask for a supplementary document by ``due_on``."""
    claim = check_can_upload(session, principal=principal, claim_id=claim_id)
    if due_on <= today or due_on > today + dt.timedelta(days=90):
        raise ValidationError("due date must be within the next 90 days", field="dueOn")
    row = DocumentRequest(claim_id=claim.id, kind=kind, due_on=due_on, note=note.strip()[:500],
                          requested_by=principal.subject)
    session.add(row)
    record_event(session, claim, actor=principal, kind=ClaimEventKind.DOCUMENT_REQUESTED,
                 reason=Reason(ReasonCode.DOCUMENT_REQUESTED, {"kind": kind, "dueOn": due_on}))
    session.flush()
    return row


def record_original(
    session: Session, *, principal: Principal, document_id: int, received_on: dt.date, tracking: str | None,
    today: dt.date,
) -> ClaimDocument:
    """Note that the paper original of a document arrived by post."""
    if principal.role not in ORIGINAL_RECEIVERS:
        raise ValidationError("only staff record originals", field="documentId", code="FORBIDDEN")
    doc = session.get(ClaimDocument, document_id)
    if doc is None:
        raise NotFoundError("document not found", field="documentId")
    if received_on > today:
        raise ValidationError("received date is in the future", field="receivedOn")
    doc.original_received_on = received_on
    doc.original_tracking = (tracking or "").strip()[:64] or None
    claim = session.get_one(Claim, doc.claim_id)
    record_event(session, claim, actor=principal, kind=ClaimEventKind.ORIGINAL_RECEIVED,
                 reason=Reason(ReasonCode.ORIGINAL_RECEIVED, {"kind": doc.kind, "receivedOn": received_on}))
    session.flush()
    return doc
