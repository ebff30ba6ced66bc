"""Documents at rest: seal documents stored before encryption, find orphaned objects.

Maintenance behind ``opsure claim-documents encrypt`` and ``sweep``; the caller owns the
transactions and deletes a replaced object only after the row pointing elsewhere committed.
(Data keys move to a new field key with the other sealed columns: ``opsure keys reencrypt``.)

Example::

    with transaction(session_factory) as session:
        moved = seal_plaintext_document(session, storage=storage, document_id=7)
    if moved and not key_in_use(session, key=moved.old_key):
        storage.delete(moved.old_key)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolvers.claims.envelope import CorruptObjectError, SealedWriter, open_object
from resolvers.claims.models import ClaimDocument
from resolvers.claims.storage import Storage

__all__ = [
    "Resealed",
    "key_in_use",
    "orphaned_keys",
    "plaintext_document_ids",
    "seal_plaintext_document",
]


@dataclass(frozen=True)
class Resealed:
    """A plaintext document moved into a sealed object."""

    document_id: int
    old_key: str
    new_key: str


def plaintext_document_ids(session: Session, *, after_id: int = 0, limit: int = 100) -> list[int]:
    """Ids of documents still stored in plaintext, in id order."""
    return list(session.scalars(
        select(ClaimDocument.id).where(ClaimDocument.data_key.is_(None), ClaimDocument.id > after_id)
        .order_by(ClaimDocument.id).limit(limit)))


def seal_plaintext_document(session: Session, *, storage: Storage, document_id: int) -> Resealed | None:
    """Seal one plaintext document into a new object and point its row there (None: nothing to do).

    The plaintext object stays until the caller has committed and checked :func:`key_in_use`
    (before encryption, identical uploads shared one content-addressed object).
    """
    doc = session.get(ClaimDocument, document_id, with_for_update=True)
    if doc is None or doc.data_key is not None:
        return None
    reader = open_object(storage, doc.storage_key, None)
    writer = SealedWriter(storage)
    try:
        for piece in reader.read(0, reader.size):
            writer.write(piece)
        stored = writer.commit()
    except BaseException:
        writer.abort()
        raise
    if stored.sha256 != doc.sha256 or stored.size != doc.size:
        storage.delete(stored.key)
        raise CorruptObjectError(f"document {doc.id}: stored bytes differ from the recorded SHA-256")
    moved = Resealed(document_id=doc.id, old_key=doc.storage_key, new_key=stored.key)
    doc.storage_key, doc.data_key = stored.key, stored.data_key
    session.flush()
    return moved


def key_in_use(session: Session, *, key: str) -> bool:
    """True while some document row points at storage ``key``."""
    return session.scalar(select(ClaimDocument.id).where(ClaimDocument.storage_key == key).limit(1)) is not None


def orphaned_keys(session: Session, *, storage: Storage, older_than: float) -> Iterator[str]:
    """Stored objects no document points at, last written before ``older_than`` (epoch seconds).

    Left by a process killed between storing an upload and committing its row; objects being
    written right now are younger than any sensible cut-off.
    """
    candidates = ((key, mtime) for key, mtime in storage.objects() if mtime < older_than)
    while batch := list(islice(candidates, 500)):
        keys = [key for key, _ in batch]
        used = set(session.scalars(select(ClaimDocument.storage_key).where(ClaimDocument.storage_key.in_(keys))))
        yield from (key for key in keys if key not in used)
