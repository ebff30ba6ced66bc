"""``opsure claim-documents``: maintenance of claim documents at rest.

``encrypt`` seals every document stored before encryption at rest (one transaction per
document; the plaintext object is deleted once no row points at it). Data keys follow a
field-key rotation with every other sealed column (``opsure keys reencrypt``). ``sweep`` deletes
stored objects no row points at and unfinished writes (left by a process killed mid-upload).
Both are idempotent and safe to re-run; run ``encrypt`` once after upgrading past
migration 0005.

Example::

    report = encrypt_stored_documents(runtime, document_storage(runtime.settings.data_dir))
    report.sealed, report.plaintext_deleted
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import click

from core.db import transaction
from core.settings import get_settings
from opsure.runtime import Runtime, open_runtime
from resolvers.claims import at_rest
from resolvers.claims.envelope import CorruptObjectError
from resolvers.claims.storage import Storage, document_storage

__all__ = ["EncryptReport", "claim_documents_cli", "encrypt_stored_documents", "sweep_orphans"]

log = logging.getLogger("opsure.claim_documents")


@dataclass(frozen=True)
class EncryptReport:
    """What one ``encrypt`` run did."""

    sealed: int
    plaintext_deleted: int
    unreadable: tuple[int, ...] = ()  # documents left as they were: object missing or not the recorded bytes


def _discard(runtime: Runtime, storage: Storage, key: str) -> bool:
    with runtime.session_factory() as session:
        if at_rest.key_in_use(session, key=key):
            return False
    storage.delete(key)
    return True


def encrypt_stored_documents(runtime: Runtime, storage: Storage, *, batch: int = 100) -> EncryptReport:
    """Seal the documents stored in plaintext and delete their plaintext objects."""
    sealed = deleted = 0
    unreadable: list[int] = []
    after = 0
    while True:
        with runtime.session_factory() as session:
            ids = at_rest.plaintext_document_ids(session, after_id=after, limit=batch)
        if not ids:
            break
        for document_id in ids:
            moved: at_rest.Resealed | None = None
            try:
                with transaction(runtime.session_factory) as session:
                    moved = at_rest.seal_plaintext_document(session, storage=storage, document_id=document_id)
            except (CorruptObjectError, OSError):
                log.exception("claim document %s cannot be sealed; left as it is", document_id)
                unreadable.append(document_id)
                continue
            except BaseException:
                if moved is not None:  # sealed, but the row did not commit
                    _discard(runtime, storage, moved.new_key)
                raise
            if moved is not None:
                sealed += 1
                deleted += _discard(runtime, storage, moved.old_key)
        after = ids[-1]
    return EncryptReport(sealed=sealed, plaintext_deleted=deleted, unreadable=tuple(unreadable))


def sweep_orphans(runtime: Runtime, storage: Storage, *, older_than_seconds: float = 3600) -> int:
    """Delete stored and half-written objects no document points at, older than ``older_than_seconds``."""
    cutoff = time.time() - older_than_seconds
    with runtime.session_factory() as session:
        orphans = list(at_rest.orphaned_keys(session, storage=storage, older_than=cutoff))
    return sum(_discard(runtime, storage, key) for key in orphans) + storage.drop_stale_writes(older_than=cutoff)


@click.group()
def claim_documents_cli() -> None:
    """Claim documents at rest: sealing plaintext ones, orphan sweep."""


@claim_documents_cli.command("encrypt")
def encrypt_command() -> None:
    """Seal the claim documents stored in plaintext (before encryption at rest)."""
    runtime = open_runtime(get_settings())
    try:
        report = encrypt_stored_documents(runtime, document_storage(runtime.settings.data_dir))
    finally:
        runtime.close()
    click.echo(f"sealed {report.sealed} plaintext documents (deleted {report.plaintext_deleted} plaintext objects)")
    if report.unreadable:
        raise click.ClickException(f"documents that could not be sealed: {list(report.unreadable)}")


@claim_documents_cli.command("sweep")
@click.option("--older-than", default=3600.0, show_default=True, help="Only objects older than this (seconds).")
def sweep_command(older_than: float) -> None:
    """Delete stored objects no document points at, and unfinished writes."""
    runtime = open_runtime(get_settings())
    try:
        removed = sweep_orphans(runtime, document_storage(runtime.settings.data_dir), older_than_seconds=older_than)
    finally:
        runtime.close()
    click.echo(f"removed {removed} orphaned objects")
