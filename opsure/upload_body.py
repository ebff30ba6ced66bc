"""An upload's body read as a stream: the raw file, or multipart/form-data with one file part.

Neither form is ever buffered or spooled: file bytes go to ``sink`` as they arrive (the
caller seals them), and reading stops with TOO_LARGE (413) as soon as the counted body bytes
pass the limit: ``max_file_bytes`` for a raw body, plus :data:`MULTIPART_OVERHEAD` for the
boundaries, part headers and the ``kind`` field of a multipart one. A multipart body has
exactly one ``file`` part and a ``kind`` field (in either order); anything else, a second
file or a body cut short is MALFORMED (400).

Example::

    meta = await read_upload(request, writer.write, max_file_bytes=10 * 1024 * 1024)
    meta.kind, meta.filename          # ("invoice", "scan.pdf")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from core.errors import ValidationError

__all__ = ["MULTIPART_OVERHEAD", "UploadMeta", "read_upload"]

MULTIPART_OVERHEAD = 16 * 1024
_MAX_FIELD_BYTES = 256


@dataclass
class UploadMeta:
    """What the body says about the file besides its bytes."""

    kind: str
    filename: str


def _too_large(limit: int) -> ValidationError:
    return ValidationError(f"file larger than {limit} bytes", field="file", code="TOO_LARGE")


def _malformed(message: str) -> ValidationError:
    return ValidationError(message, field="file", code="MALFORMED")


@dataclass
class _Part:
    name: str = ""
    is_file: bool = False
    value: bytearray = field(default_factory=bytearray)
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    disposition: str = ""


class _FormReader:
    """python-multipart callbacks: the file part's bytes to the sink, the kind field kept (small)."""

    def __init__(self, sink: Callable[[bytes], None], max_file_bytes: int) -> None:
        self.sink = sink
        self.max_file_bytes = max_file_bytes
        self.file_bytes = 0
        self.part = _Part()
        self.files = 0
        self.kind: str | None = None
        self.filename = ""
        self.ended = False

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self.part.header_name).strip().lower() == b"content-disposition":
            self.part.disposition = self.part.header_value.decode("latin-1")
        self.part.header_name.clear()
        self.part.header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self.part.disposition)
        if disposition != b"form-data":
            raise _malformed("every multipart part needs 'Content-Disposition: form-data'")
        self.part.name = options.get(b"name", b"").decode("latin-1")
        if self.part.name == "file":
            self.files += 1
            if self.files > 1:
                raise _malformed("send one file per request")
            self.part.is_file = True
            self.filename = options.get(b"filename", b"").decode("utf-8", errors="replace")
        elif self.part.name != "kind":
            raise _malformed(f"unexpected part {self.part.name[:40]!r}: send 'file' and 'kind'")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.is_file:
            self.file_bytes += end - start
            if self.file_bytes > self.max_file_bytes:
                raise _too_large(self.max_file_bytes)
            self.sink(data[start:end])
            return
        self.part.value += data[start:end]
        if len(self.part.value) > _MAX_FIELD_BYTES:
            raise _malformed(f"field {self.part.name!r} is longer than {_MAX_FIELD_BYTES} bytes")

    def on_part_end(self) -> None:
        if self.part.name == "kind":
            self.kind = self.part.value.decode("utf-8", errors="replace")

    def on_end(self) -> None:
        self.ended = True


async def _multipart(request: Request, sink: Callable[[bytes], None], max_file_bytes: int) -> UploadMeta:
    _, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if not boundary:
        raise _malformed("multipart/form-data needs a boundary")
    reader = _FormReader(sink, max_file_bytes)
    try:
        parser = MultipartParser(boundary, callbacks={
            "on_part_begin": reader.on_part_begin, "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end, "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value, "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished, "on_end": reader.on_end,
        })
    except ValueError as exc:  # FormParserError is one
        raise _malformed(f"bad multipart boundary: {exc}") from exc
    limit = max_file_bytes + MULTIPART_OVERHEAD
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(max_file_bytes)
        try:
            parser.write(chunk)
        except FormParserError as exc:
            raise _malformed(f"malformed multipart body: {exc}") from exc
        if reader.ended:
            break
    if not reader.ended:
        raise _malformed("the multipart body ended before its closing boundary")
    if not reader.files:
        raise _malformed("the multipart body needs a 'file' part")
    return UploadMeta(kind=reader.kind or "", filename=reader.filename)


async def read_upload(request: Request, sink: Callable[[bytes], None], *, max_file_bytes: int) -> UploadMeta:
    """Stream the upload's file bytes into ``sink``; its kind and file name (TOO_LARGE, MALFORMED)."""
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return await _multipart(request, sink, max_file_bytes)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_file_bytes:
            raise _too_large(max_file_bytes)
        if chunk:
            sink(chunk)
    return UploadMeta(kind=request.headers.get("x-document-kind", ""),
                      filename=unquote(request.headers.get("x-filename", "")))  # percent-encoded UTF-8
