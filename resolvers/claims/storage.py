"""Where document bytes live: a small byte-store interface and the local-directory default.

The store keeps opaque objects under random keys (``ab/<32 hex>``; documents stored before
encryption keep their content-addressed ``ab/<sha256>`` key). An object is written to a
temporary file inside the store and renamed into place only on commit, so a failed or
oversized upload leaves nothing behind. The store never sees plaintext: documents are sealed
before they reach it (:mod:`resolvers.claims.envelope`), temporary files included.

Example::

    storage = document_storage(settings.data_dir)
    writer = storage.begin()
    writer.write(sealed_chunk); ...
    writer.commit()                    # the object is now at writer.key
    storage.read(writer.key, offset=0, length=16)
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["LocalStorage", "Storage", "StoredObject", "Writer", "document_storage", "valid_key"]

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}(?:[0-9a-f]{32})?$")


def valid_key(key: str) -> bool:
    """True for a key this store could have made (no path tricks)."""
    return bool(_KEY.match(key))


@dataclass(frozen=True)
class StoredObject:
    """A complete stored document: where it is, its plaintext size and digest, its wrapped data key."""

    key: str
    size: int
    sha256: str
    data_key: str | None = None  # None: stored before encryption at rest (plaintext)


class Writer(Protocol):
    """An object being written; commit or abort exactly once."""

    key: str
    size: int

    def write(self, chunk: bytes) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


class Storage(Protocol):
    """Document byte storage (local directory by default; an object store at scale)."""

    def begin(self) -> Writer: ...

    def read(self, key: str, offset: int, length: int) -> bytes: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None: ...

    def objects(self) -> Iterator[tuple[str, float]]: ...

    def drop_stale_writes(self, *, older_than: float) -> int: ...


class _LocalWriter:
    def __init__(self, root: Path, key: str) -> None:
        self._root = root
        self.key = key
        tmp_dir = root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir)
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self.size += len(chunk)

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        target = self._root / self.key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename survives a crash once the row pointing at it commits
        finally:
            os.close(dir_fd)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)


class LocalStorage:
    """Stores objects under ``root`` in a two-level layout; ``root/tmp`` holds objects being written."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def begin(self) -> Writer:
        """A writer for a new object under a fresh random key."""
        token = secrets.token_hex(16)
        return _LocalWriter(self.root, f"{token[:2]}/{token}")

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError("not a storage key")
        return self.root / key

    def read(self, key: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of object ``key`` from ``offset``."""
        with self._path(key).open("rb") as f:
            f.seek(offset)
            return f.read(length)

    def size(self, key: str) -> int:
        """The object's size in bytes."""
        return self._path(key).stat().st_size

    def delete(self, key: str) -> None:
        """Remove an object (absent is fine)."""
        self._path(key).unlink(missing_ok=True)

    def objects(self) -> Iterator[tuple[str, float]]:
        """Every committed object's key and modification time (seconds since the epoch)."""
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if shard.name == "tmp" or not shard.is_dir():
                continue
            for obj in sorted(shard.iterdir()):
                key = f"{shard.name}/{obj.name}"
                if valid_key(key):
                    yield key, obj.stat().st_mtime

    def drop_stale_writes(self, *, older_than: float) -> int:
        """Delete unfinished objects (temporary files of a killed process) last written before ``older_than``."""
        tmp_dir = self.root / "tmp"
        stale = [p for p in tmp_dir.iterdir() if p.stat().st_mtime < older_than] if tmp_dir.is_dir() else []
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)


def document_storage(data_dir: Path) -> LocalStorage:
    """The deployment's claim-document store: ``<data_dir>/documents``."""
    return LocalStorage(data_dir / "documents")
