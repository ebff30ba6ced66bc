"""``POST /claims/{claim_id}/documents``: stream a claim document, sealed, into storage.

The body is either the raw file (``Content-Type`` of the file, ``X-Document-Kind`` and
optional ``X-Filename`` headers, the name percent-encoded UTF-8) or ``multipart/form-data`` with one ``file`` part and a
``kind`` field (:mod:`opsure.upload_body`; neither is buffered whole). Who may call is
declared in ``schema.permissions.ROUTE_ACCESS`` and enforced by :mod:`opsure.route_guard`
before this runs; row scoping (own claim, the billed claim) and the claim's state are the
claims domain's, checked before any byte is stored.

Bytes are sealed as they arrive (:mod:`resolvers.claims.envelope`: a data key per object),
hashed (SHA-256 of the plaintext) and counted: an upload over the size limit stops there
(413) and stores nothing; the type is sniffed from the first bytes, never trusted from the
header (415). The row, its MEDICAL ledger record and an audit entry commit together; when
that step fails the stored object is deleted again (unless a row points at it after all).

Mount::

    routes.append(upload_route(runtime))
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.audit import append_audit, digest_input
from core.auth import ANONYMOUS, Principal
from core.db import transaction
from core.errors import DomainError, ValidationError
from opsure.runtime import Runtime
from opsure.upload_body import MULTIPART_OVERHEAD, read_upload
from resolvers.claims import at_rest, documents
from resolvers.claims.envelope import SealedWriter
from resolvers.claims.models import DocumentKind
from resolvers.claims.storage import Storage, StoredObject, document_storage
from schema.relay import decode_global_id, encode_global_id

__all__ = ["error_response", "upload_route"]

log = logging.getLogger("opsure.uploads")

_STATUS = {"UNSUPPORTED_TYPE": 415, "TOO_LARGE": 413, "NOT_FOUND": 404, "UNAUTHENTICATED": 401,
           "FORBIDDEN": 403, "INVALID_TRANSITION": 409}


def error_response(exc: DomainError) -> JSONResponse:
    """A refusal as ``{"errors": [{field, code, message}]}`` with its HTTP status (400 by default)."""
    return JSONResponse({"errors": [{"field": exc.field, "code": exc.code, "message": exc.message}]},
                        status_code=_STATUS.get(exc.code, 400))


class _SniffingSink:
    """Passes file bytes to the sealed writer, sniffing the type from the first ones (415 early)."""

    def __init__(self, writer: SealedWriter, limits: documents.UploadLimits) -> None:
        self.writer = writer
        self.limits = limits
        self.head = b""
        self.content_type: str | None = None

    def write(self, chunk: bytes) -> None:
        if self.content_type is None:
            self.head += chunk[: documents.SNIFF_BYTES - len(self.head)]
            if len(self.head) >= documents.SNIFF_BYTES:
                self.content_type = documents.sniff(self.head, self.limits)
        self.writer.write(chunk)

    def finish(self) -> str:
        if self.writer.size == 0:
            raise ValidationError("empty upload", field="file", code="EMPTY")
        return self.content_type or documents.sniff(self.head, self.limits)


def _kind(raw: str) -> DocumentKind:
    try:
        return DocumentKind(raw)
    except ValueError as exc:
        raise ValidationError(f"kind must be one of {', '.join(k.value for k in DocumentKind)}",
                              field="kind") from exc


async def _store(request: Request, store: Storage, limits: documents.UploadLimits) -> tuple[StoredObject, str,
                                                                                              DocumentKind, str]:
    """Stream the body into a sealed object: it, its sniffed type, kind and file name; nothing on failure."""
    writer = SealedWriter(store)
    try:
        sink = _SniffingSink(writer, limits)
        meta = await read_upload(request, sink.write, max_file_bytes=limits.max_bytes)
        kind = _kind(meta.kind)
        content_type = sink.finish()
        return writer.commit(), content_type, kind, meta.filename
    except BaseException:
        writer.abort()
        raise


def upload_route(runtime: Runtime, storage: Storage | None = None) -> Route:
    """The Starlette route; ``storage`` defaults to ``<data_dir>/documents``."""
    store: Storage = storage or document_storage(runtime.settings.data_dir)
    limits = documents.UploadLimits.from_extra(runtime.settings.extra)

    def check(principal: Principal, claim_id: int) -> None:
        with runtime.session_factory() as session:
            documents.check_can_upload(session, principal=principal, claim_id=claim_id)

    def attach(principal: Principal, claim_id: int, kind: DocumentKind, filename: str, content_type: str,
               stored: StoredObject) -> dict[str, Any]:
        with transaction(runtime.session_factory) as session:
            doc = documents.attach_document(session, principal=principal, claim_id=claim_id, kind=kind,
                                            filename=filename, content_type=content_type, stored=stored,
                                            now=dt.datetime.now(dt.UTC))
            append_audit(session, actor=principal.subject, role=principal.role.value if principal.role else None,
                         action="uploadClaimDocument",
                         input_digest=digest_input({"claimId": claim_id, "sha256": stored.sha256}),
                         target=encode_global_id("ClaimDocument", doc.id))
            return {"id": encode_global_id("ClaimDocument", doc.id), "kind": kind.value, "size": stored.size,
                    "sha256": stored.sha256, "contentType": content_type,
                    "anchoredRecord": doc.ledger_record_id is not None}

    def discard(key: str) -> None:
        """Delete an object whose row did not commit; keep it when unsure (``opsure claim-documents sweep``)."""
        try:
            with runtime.session_factory() as session:
                if at_rest.key_in_use(session, key=key):
                    return  # the commit went through after all
        except Exception:
            log.warning("document object %s kept: cannot tell whether its row committed", key, exc_info=True)
            return
        store.delete(key)

    async def endpoint(request: Request) -> Response:
        principal: Principal = request.scope.get("principal", ANONYMOUS)
        try:
            claim_gid = request.path_params["claim_id"]
            claim_id = decode_global_id(claim_gid, "Claim", field="claimId")
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes + MULTIPART_OVERHEAD:
                raise ValidationError(f"file larger than {limits.max_bytes} bytes", field="file", code="TOO_LARGE")
            # Scope and state before any byte is stored: a foreign claim is 404 (no existence leak).
            await run_in_threadpool(check, principal, claim_id)
            stored, content_type, kind, filename = await _store(request, store, limits)
            try:
                with anyio.CancelScope(shield=True):  # a client gone mid-commit must not orphan the row
                    body = await run_in_threadpool(attach, principal, claim_id, kind, filename, content_type,
                                                   stored)
            except BaseException:
                discard(stored.key)
                raise
        except DomainError as exc:
            return error_response(exc)
        location = f"/claims/{claim_gid}/documents/{body['id']}"
        return JSONResponse({**body, "href": location}, status_code=201, headers={"Location": location})

    return Route("/claims/{claim_id}/documents", endpoint, methods=["POST"])
