"""``GET /claims/{claim_id}/documents/{document_id}``: a claim document, decrypted as it streams.

Who may download is declared in ``schema.permissions.ROUTE_ACCESS`` (``DOCUMENT_READERS``:
the customer the document is about, and the roles that decide claims); the row scoping is
the claim's, so a foreign claim or a document of another claim is 404 alike.

The answer carries the stored (sniffed) content type, ``Content-Disposition: attachment``
with an RFC 6266 / RFC 5987 file name, a strong ``ETag`` (the plaintext's SHA-256;
``If-None-Match`` answers 304), ``Accept-Ranges: bytes`` (one range: 206 with
``Content-Range``, past the end: 416; ``If-Range`` with a stale tag sends the whole file),
``Cache-Control: private, no-store`` and ``X-Content-Type-Options: nosniff``. Bytes are read
and decrypted chunk by chunk in worker threads (only the chunks a range touches), never
whole. Every download that sends content appends an audit entry.

Mount::

    routes.append(download_route(runtime))
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from core.audit import append_audit, digest_input
from core.auth import ANONYMOUS, Principal
from core.db import transaction
from core.errors import DomainError
from opsure.runtime import Runtime
from opsure.uploads import error_response
from resolvers.claims import documents
from resolvers.claims.envelope import CorruptObjectError, ObjectReader, open_object
from resolvers.claims.models import ClaimDocument
from resolvers.claims.storage import Storage, document_storage
from schema.relay import decode_global_id, encode_global_id

__all__ = ["byte_range", "content_disposition", "download_route", "etag_matches"]

log = logging.getLogger("opsure.downloads")

_RANGE = re.compile(r"^(\d*)-(\d*)$")
_ATTR_CHARS = "!#$&+^`|"  # RFC 5987 attr-char beyond letters, digits and -._~ (quote keeps those)


class Unsatisfiable(Exception):
    """The Range header names no byte of the document (416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single ``[start, end)`` a Range header asks for; None: send everything (RFC 9110 §14.2).

    Headers this server may ignore (another unit, several ranges, a syntax error) are ignored;
    a range wholly past the end raises :class:`Unsatisfiable`.
    """
    if not header or not header.lower().startswith("bytes="):
        return None
    spec = header[6:].strip()
    match = _RANGE.match(spec)
    if "," in spec or match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        if int(last) == 0 or size == 0:
            raise Unsatisfiable
        return max(size - int(last), 0), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, size if not last else min(int(last) + 1, size)


def etag_matches(header: str | None, etag: str) -> bool:
    """Weak comparison of an If-None-Match list (or ``*``) with ``etag``."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact UTF-8 name (RFC 6266, RFC 5987)."""
    name = documents.safe_filename(filename)
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"


def _pieces(reader: ObjectReader, start: int, end: int) -> Iterator[bytes]:
    yield from reader.read(start, end)


async def _stream(pieces: Iterator[bytes], first: bytes) -> AsyncIterator[bytes]:
    yield first
    while (piece := await run_in_threadpool(next, pieces, b"")) != b"":
        yield piece


def download_route(runtime: Runtime, storage: Storage | None = None) -> Route:
    """The Starlette route; ``storage`` defaults to ``<data_dir>/documents``."""
    store: Storage = storage or document_storage(runtime.settings.data_dir)

    def find(principal: Principal, claim_id: int, document_id: int) -> ClaimDocument:
        with runtime.session_factory() as session:
            doc = documents.get_document(session, principal=principal, claim_id=claim_id, document_id=document_id)
            session.expunge(doc)
            return doc

    def audit(principal: Principal, doc: ClaimDocument, start: int, end: int) -> None:
        with transaction(runtime.session_factory) as session:
            append_audit(session, actor=principal.subject, role=principal.role.value if principal.role else None,
                         action="downloadClaimDocument",
                         input_digest=digest_input({"claimId": doc.claim_id, "documentId": doc.id,
                                                    "range": [start, end]}),
                         target=encode_global_id("ClaimDocument", doc.id))

    async def endpoint(request: Request) -> Response:
        principal: Principal = request.scope.get("principal", ANONYMOUS)
        try:
            claim_id = decode_global_id(request.path_params["claim_id"], "Claim", field="claimId")
            document_id = decode_global_id(request.path_params["document_id"], "ClaimDocument", field="documentId")
            doc = await run_in_threadpool(find, principal, claim_id, document_id)
        except DomainError as exc:
            return error_response(exc)
        etag = f'"{doc.sha256}"'
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": "private, no-store",
                   "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
                   "Content-Disposition": content_disposition(doc.filename)}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        if_range = request.headers.get("if-range")
        try:
            wanted = byte_range(request.headers.get("range") if if_range in (None, etag) else None, doc.size)
        except Unsatisfiable:
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{doc.size}"})
        start, end = wanted or (0, doc.size)
        status = 200 if wanted is None else 206
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{doc.size}"
        headers["Content-Length"] = str(end - start)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=doc.content_type)
        try:
            reader = await run_in_threadpool(open_object, store, doc.storage_key, doc.data_key)
            if reader.size != doc.size:
                raise CorruptObjectError("stored size differs from the recorded size")
            pieces = _pieces(reader, start, end)
            first = await run_in_threadpool(next, pieces, b"")  # a bad key or first chunk fails before headers
        except (CorruptObjectError, OSError):
            log.exception("claim document %s cannot be read", doc.id)
            return JSONResponse({"errors": [{"field": None, "code": "DOCUMENT_UNREADABLE",
                                             "message": "the stored document cannot be read"}]}, status_code=500)
        await run_in_threadpool(audit, principal, doc, start, end)
        return StreamingResponse(_stream(pieces, first), status_code=status, headers=headers,
                                 media_type=doc.content_type)

    return Route("/claims/{claim_id}/documents/{document_id}", endpoint, methods=["GET"])
