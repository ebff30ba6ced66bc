"""Trusted documents (persisted operations): with them on, only registered GraphQL runs.

The registry is a JSON manifest ``<data_dir>/trusted_documents.json`` mapping each
document id to its text: ``{"sha256:<hex>": "query Me { me { name } }", ...}``. The id is
``sha256:`` plus the SHA-256 of the document's exact UTF-8 text, which is also what
Apollo clients send as ``extensions.persistedQuery.sha256Hash`` (bare hex).

Clients name a document with ``{"documentId": "sha256:<hex>"}`` or Apollo's
``{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}``, with or
without the query text; when the text is sent its hash must match. With
``Settings.trusted_documents_only`` a request without a registered id is refused; without
it, ids of registered documents still work and raw queries run as usual.

The server loads the manifest at start-up and re-reads it when an unknown id is asked for
and the file changed, so ``opsure documents register`` needs no restart.

Example::

    ids = register_documents(settings.data_dir, ["query Me { me { name } }"])
    registry = TrustedDocuments(settings.data_dir, enforce=True)
    query = registry.resolve(query=None, doc_id=ids[0], extensions=None)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import click
from graphql import GraphQLError, OperationDefinitionNode, parse, validate

from core.settings import Settings, get_settings

__all__ = [
    "MANIFEST_NAME",
    "InvalidDocumentError",
    "TrustedDocumentError",
    "TrustedDocuments",
    "document_id",
    "documents_cli",
    "load_manifest",
    "manifest_path",
    "normalize_id",
    "read_document_files",
    "register_documents",
    "validate_documents",
]

log = logging.getLogger("opsure.trusted_documents")

MANIFEST_NAME = "trusted_documents.json"
_PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")


class TrustedDocumentError(Exception):
    """A request refused by the trusted-documents policy: HTTP status, stable code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class InvalidDocumentError(ValueError):
    """A document (or manifest) that cannot be registered."""


def document_id(document: str) -> str:
    """The id of a document: ``sha256:`` and the hex SHA-256 of its UTF-8 text."""
    return _PREFIX + hashlib.sha256(document.encode("utf-8")).hexdigest()


def normalize_id(value: str) -> str | None:
    """``sha256:<hex>`` for an id given as ``sha256:<hex>`` or bare hex; None if malformed."""
    raw = value.strip().lower()
    if raw.startswith(_PREFIX):
        raw = raw[len(_PREFIX):]
    return _PREFIX + raw if _HEX.fullmatch(raw) else None


def manifest_path(data_dir: Path) -> Path:
    """Where the manifest of ``data_dir`` lives."""
    return Path(data_dir) / MANIFEST_NAME


def _parse_manifest(raw: Any, source: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise InvalidDocumentError(f"{source}: the manifest must be a JSON object of id -> document")
    out: dict[str, str] = {}
    for key, doc in raw.items():
        ident = normalize_id(key) if isinstance(key, str) else None
        if ident is None or not isinstance(doc, str):
            raise InvalidDocumentError(f"{source}: bad entry {key!r} (want 'sha256:<hex>': document)")
        if document_id(doc) != ident:
            raise InvalidDocumentError(f"{source}: {key} is not the SHA-256 of its document")
        out[ident] = doc
    return out


def load_manifest(data_dir: Path) -> dict[str, str]:
    """The registered documents of ``data_dir`` (empty when there is no manifest)."""
    path = manifest_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise InvalidDocumentError(f"{path}: not valid JSON ({exc})") from exc
    return _parse_manifest(raw, str(path))


def _check_document(document: str) -> None:
    if not isinstance(document, str) or not document.strip():
        raise InvalidDocumentError("a document must be a non-empty string")
    try:
        ast = parse(document)
    except GraphQLError as exc:
        raise InvalidDocumentError(f"syntax error: {exc.message}") from exc
    if not any(isinstance(d, OperationDefinitionNode) for d in ast.definitions):
        raise InvalidDocumentError("the document defines no operation")


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """An exclusive lock on the manifest across processes (POSIX), else a no-op."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    lock_path = Path(data_dir) / (MANIFEST_NAME + ".lock")
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def register_documents(data_dir: Path, documents: Iterable[str]) -> list[str]:
    """Add documents to the manifest of ``data_dir`` (atomically); return their ids in order."""
    docs = list(documents)
    for doc in docs:
        _check_document(doc)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    ids = [document_id(doc) for doc in docs]
    with _locked(data_dir):
        manifest = load_manifest(data_dir)
        before = len(manifest)
        manifest.update(zip(ids, docs, strict=True))
        if len(manifest) != before or not manifest_path(data_dir).exists():
            fd, tmp = tempfile.mkstemp(prefix=".trusted_documents.", dir=data_dir)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(dict(sorted(manifest.items())), fh, indent=2, ensure_ascii=False)
                    fh.write("\n")
                os.replace(tmp, manifest_path(data_dir))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    return ids


class TrustedDocuments:
    """The registry of one process: the manifest's documents and the policy enforcing them."""

    def __init__(self, data_dir: Path, *, enforce: bool) -> None:
        self.data_dir = Path(data_dir)
        self.enforce = enforce
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._documents: dict[str, str] = {}
        self._reload(force=True)
        if enforce and not self._documents:
            log.warning("trusted documents only, but %s holds none: every operation will be refused",
                        manifest_path(self.data_dir))

    def __len__(self) -> int:
        return len(self._documents)

    def _reload(self, *, force: bool = False) -> None:
        path = manifest_path(self.data_dir)
        try:
            st = path.stat()
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_ino, st.st_size)
        except FileNotFoundError:
            stamp = None
        if not force and stamp == self._stamp:
            return
        documents = load_manifest(self.data_dir)
        with self._lock:
            self._documents, self._stamp = documents, stamp

    def get(self, ident: str) -> str | None:
        """The document registered under ``ident`` (re-reading a changed manifest on a miss)."""
        doc = self._documents.get(ident)
        if doc is None:
            try:
                self._reload()
            except (OSError, InvalidDocumentError):  # a broken edit: keep serving what we had
                log.exception("cannot re-read the trusted documents manifest")
            doc = self._documents.get(ident)
        return doc

    def resolve(self, *, query: Any, doc_id: Any, extensions: Any) -> Any:
        """The query text to run for a request's parameters, or TrustedDocumentError."""
        ident = _requested_id(doc_id, extensions)
        if ident is None:
            if self.enforce and query is not None:
                raise TrustedDocumentError(
                    400, "TRUSTED_DOCUMENT_REQUIRED",
                    "This server runs trusted documents only: send a registered 'documentId' "
                    "(or extensions.persistedQuery.sha256Hash) instead of a query.",
                )
            return query  # missing/empty queries are reported by the caller
        if isinstance(query, str) and query:
            if document_id(query) != ident:
                raise TrustedDocumentError(
                    400, "PERSISTED_QUERY_HASH_MISMATCH",
                    f"The query's SHA-256 is not {ident}.",
                )
            if not self.enforce:
                return query
        doc = self.get(ident)
        if doc is None:
            raise TrustedDocumentError(
                400, "PERSISTED_QUERY_NOT_FOUND",
                f"PersistedQueryNotFound: no trusted document {ident} is registered.",
            )
        return doc


def _requested_id(doc_id: Any, extensions: Any) -> str | None:
    """The normalized id a request names (documentId or persistedQuery), or None."""
    ids: list[str] = []
    if doc_id is not None:
        named = normalize_id(doc_id) if isinstance(doc_id, str) else None
        if named is None:
            raise TrustedDocumentError(400, "BAD_REQUEST", "'documentId' must be 'sha256:<64 hex digits>'.")
        ids.append(named)
    persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
    if persisted is not None:
        if not isinstance(persisted, Mapping):
            raise TrustedDocumentError(400, "BAD_REQUEST", "'extensions.persistedQuery' must be an object.")
        version = persisted.get("version", 1)
        if version != 1:
            raise TrustedDocumentError(400, "PERSISTED_QUERY_NOT_SUPPORTED",
                                       "Only persistedQuery version 1 is supported.")
        raw = persisted.get("sha256Hash")
        ident = normalize_id(raw) if isinstance(raw, str) else None
        if ident is None:
            raise TrustedDocumentError(400, "BAD_REQUEST",
                                       "'extensions.persistedQuery.sha256Hash' must be 64 hex digits.")
        ids.append(ident)
    if len(set(ids)) > 1:
        raise TrustedDocumentError(400, "BAD_REQUEST", "'documentId' and 'persistedQuery' name different documents.")
    return ids[0] if ids else None


def read_document_files(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(source, document) pairs from .graphql files or JSON manifests (ours or Apollo's)."""
    out: list[tuple[str, str]] = []
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        if Path(path).suffix.lower() != ".json":
            out.append((str(path), text))
            continue
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise InvalidDocumentError(f"{path}: not valid JSON ({exc})") from exc
        if isinstance(raw, dict) and isinstance(raw.get("operations"), list):  # Apollo's manifest
            for i, op in enumerate(raw["operations"]):
                body = op.get("body") if isinstance(op, dict) else None
                if not isinstance(body, str):
                    raise InvalidDocumentError(f"{path}: operations[{i}] has no 'body'")
                if isinstance(op.get("id"), str) and normalize_id(op["id"]) != document_id(body):
                    raise InvalidDocumentError(f"{path}: operations[{i}].id is not the SHA-256 of its body")
                out.append((f"{path}#{op.get('name') or i}", body))
        else:
            out.extend((f"{path}#{ident}", doc) for ident, doc in _parse_manifest(raw, str(path)).items())
    return out


def validate_documents(documents: Iterable[tuple[str, str]], settings: Settings) -> list[str]:
    """Problems of documents against the current schema (standard rules) and size cap, as messages."""
    from schema import build_schema
    from schema.documents import document_too_large

    schema = build_schema(settings)
    problems: list[str] = []
    for source, doc in documents:
        if document_too_large(doc, settings.max_document_bytes):  # the server would refuse it (413)
            problems.append(f"{source}: larger than {settings.max_document_bytes} bytes "
                            "(OPSURE_MAX_DOCUMENT_BYTES)")
            continue
        try:
            _check_document(doc)
            errors = validate(schema._schema, parse(doc))
        except InvalidDocumentError as exc:
            problems.append(f"{source}: {exc}")
            continue
        problems.extend(f"{source}: {e.message}" for e in errors)
    return problems


@click.group("documents")
def documents_cli() -> None:
    """Trusted documents: the GraphQL operations clients may run."""


@documents_cli.command("register")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory holding the manifest (default: OPSURE_DATA_DIR).")
@click.option("--validate/--no-validate", "check", default=True, show_default=True,
              help="Validate each document against the current schema first.")
def register_command(files: tuple[Path, ...], data_dir: Path | None, check: bool) -> None:
    """Register .graphql files (one document each) or JSON manifests; print their ids."""
    settings = get_settings()
    target = data_dir or settings.data_dir
    try:
        documents = read_document_files(files)
    except (InvalidDocumentError, OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    if check:
        problems = validate_documents(documents, settings)
        if problems:
            raise click.ClickException("not registered:\n  " + "\n  ".join(problems))
    try:
        ids = register_documents(target, [doc for _, doc in documents])
    except InvalidDocumentError as exc:
        raise click.ClickException(str(exc)) from exc
    for (source, _), ident in zip(documents, ids, strict=True):
        click.echo(f"{ident}  {source}")
    click.echo(f"{len(ids)} document(s) registered in {manifest_path(target)}", err=True)


@documents_cli.command("list")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data directory holding the manifest (default: OPSURE_DATA_DIR).")
def list_command(data_dir: Path | None) -> None:
    """Print every registered document id and the document's first line."""
    target = data_dir or get_settings().data_dir
    try:
        manifest = load_manifest(target)
    except InvalidDocumentError as exc:
        raise click.ClickException(str(exc)) from exc
    for ident, doc in manifest.items():
        first = doc.strip().splitlines()[0] if doc.strip() else ""
        click.echo(f"{ident}  {first[:80]}")
