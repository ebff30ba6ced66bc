"""Small real documents for the demo: one-page PDFs and PNG images, sealed into the document store.

The files are built here byte by byte (a fixed one-page layout needs no PDF or imaging
library at run time). They are real: a PDF viewer opens them, and the upload checks sniff
them as ``application/pdf`` and ``image/png``.

Example::

    stored = seal(storage, pdf("Invoice 2026-0012", ["Ward bed  3 x 200.00", "Total 600.00"]))
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from resolvers.claims.envelope import SealedWriter
from resolvers.claims.storage import Storage, StoredObject

__all__ = ["pdf", "png", "seal"]


def _pdf_text(value: str) -> bytes:
    safe = value.encode("ascii", "replace").decode("ascii")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii")


def pdf(title: str, lines: Sequence[str]) -> bytes:
    """A one-page A4 PDF: ``title`` and ``lines`` in Helvetica (ASCII; other characters become '?')."""
    ops = [b"BT", b"/F1 16 Tf", b"56 770 Td", b"(" + _pdf_text(title) + b") Tj", b"/F1 11 Tf"]
    for line in lines:
        ops += [b"0 -22 Td", b"(" + _pdf_text(line) + b") Tj"]
    ops.append(b"ET")
    content = b"\n".join(ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png(width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """An RGB PNG: a ``top`` colour band over a ``bottom`` one (an ID card's photo strip, say)."""
    rows = b"".join(b"\x00" + bytes(top if y < height // 3 else bottom) * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


def seal(storage: Storage, data: bytes) -> StoredObject:
    """Store ``data`` as a sealed object (envelope encryption, as an upload is stored)."""
    writer = SealedWriter(storage)
    try:
        writer.write(data)
        return writer.commit()
    except BaseException:
        writer.abort()
        raise
