"""``POST /claims/{claim_id}/documents``: stream a claim document into storage.

The body is either the raw file (``Content-Type`` of the file, ``X-Document-Kind`` and
optional ``X-Filename`` headers) or ``multipart/form-data`` with a ``file`` part and a
``kind`` field. Bytes are streamed to storage while hashed (SHA-256) and counted; an
upload over the size limit stops at the limit (413) and stores nothing; the type is
sniffed from the first bytes, never trusted from the header (415). The caller is the
principal the auth middleware put on the scope; row scoping is the claims domain's.

Mount::

    routes.append(upload_route(runtime))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.audit import append_audit, digest_input
from core.auth import ANONYMOUS, Principal
from core.db import transaction
from core.errors import DomainError, NotFoundError, ValidationError
from opsure.runtime import Runtime
from resolvers.claims import documents
from resolvers.claims.models import DocumentKind
from resolvers.claims.storage import LocalStorage, Storage, StoredObject
from schema.relay import decode_global_id, encode_global_id

__all__ = ["upload_route"]

_STATUS = {"UNSUPPORTED_TYPE": 415, "TOO_LARGE": 413, "NOT_FOUND": 404, "UNAUTHENTICATED": 401,
           "FORBIDDEN": 403, "INVALID_TRANSITION": 409}


def _error(exc: DomainError) -> JSONResponse:
    return JSONResponse({"errors": [{"field": exc.field, "code": exc.code, "message": exc.message}]},
                        status_code=_STATUS.get(exc.code, 400))


async def _raw_chunks(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def _store(chunks: AsyncIterator[bytes], storage: Storage, limits: documents.UploadLimits) -> tuple[StoredObject, str]:
    writer = storage.begin()
    head = b""
    content_type: str | None = None
    try:
        async for chunk in chunks:
            if writer.size + len(chunk) > limits.max_bytes:
                raise ValidationError(f"file larger than {limits.max_bytes} bytes", field="file", code="TOO_LARGE")
            if content_type is None:
                head += chunk[: documents.SNIFF_BYTES]
                if len(head) >= documents.SNIFF_BYTES:
                    content_type = documents.sniff(head, limits)
            writer.write(chunk)
        if writer.size == 0:
            raise ValidationError("empty upload", field="file", code="EMPTY")
        if content_type is None:
            content_type = documents.sniff(head, limits)
        return writer.commit(), content_type
    except BaseException:
        writer.abort()
        raise


def upload_route(runtime: Runtime, storage: Storage | None = None) -> Route:
    """The Starlette route; ``storage`` defaults to ``<data_dir>/documents``."""
    store: Storage = storage or LocalStorage(runtime.settings.data_dir / "documents")
    limits = documents.UploadLimits.from_extra(runtime.settings.extra)

    async def endpoint(request: Request) -> Response:
        principal: Principal = request.scope.get("principal", ANONYMOUS)
        try:
            if not principal.authenticated:
                raise DomainError("authentication required", code="UNAUTHENTICATED")
            claim_id = decode_global_id(request.path_params["claim_id"], "Claim", field="claimId")
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes + 64 * 1024:
                raise ValidationError(f"file larger than {limits.max_bytes} bytes", field="file", code="TOO_LARGE")
            multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
            # Scope check before any byte is stored: a foreign claim is 404 (no existence leak).
            with runtime.session_factory() as session:
                documents.check_can_upload(session, principal=principal, claim_id=claim_id)
            if multipart:
                form = await request.form(max_files=1, max_fields=5)
                upload: Any = form.get("file")
                kind_raw = str(form.get("kind") or "")
                filename = str(getattr(upload, "filename", "") or "upload")
                if upload is None or isinstance(upload, str):
                    raise ValidationError("multipart body needs a file part", field="file")

                async def parts() -> AsyncIterator[bytes]:
                    while chunk := await upload.read(64 * 1024):
                        yield chunk

                chunks = parts()
            else:
                kind_raw = request.headers.get("x-document-kind", "")
                filename = request.headers.get("x-filename", "upload")
                chunks = _raw_chunks(request)
            try:
                kind = DocumentKind(kind_raw)
            except ValueError as exc:
                raise ValidationError(f"kind must be one of {', '.join(k.value for k in DocumentKind)}",
                                      field="kind") from exc
            stored, content_type = await _store(chunks, store, limits)
            now = dt.datetime.now(dt.UTC)
            with transaction(runtime.session_factory) as session:
                doc = documents.attach_document(session, principal=principal, claim_id=claim_id, kind=kind,
                                                filename=filename, content_type=content_type, stored=stored, now=now)
                append_audit(session, actor=principal.subject, role=principal.role.value if principal.role else None,
                             action="uploadClaimDocument",
                             input_digest=digest_input({"claimId": claim_id, "sha256": stored.sha256}),
                             target=encode_global_id("ClaimDocument", doc.id))
                body = {"id": encode_global_id("ClaimDocument", doc.id), "kind": kind.value, "size": stored.size,
                        "sha256": stored.sha256, "contentType": content_type,
                        "anchoredRecord": doc.ledger_record_id is not None}
        except NotFoundError as exc:
            return _error(exc)
        except DomainError as exc:
            return _error(exc)
        return JSONResponse(body, status_code=201)

    return Route("/claims/{claim_id}/documents", endpoint, methods=["POST"])
