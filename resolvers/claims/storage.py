"""Where document bytes live: a small interface and the local-directory default.

Objects are content-addressed (``ab/abcdef…`` by SHA-256), written to a temporary file
while streaming and renamed into place only when complete, so a failed or oversized
upload leaves nothing behind.

Example::

    storage = LocalStorage(settings.data_dir / "documents")
    writer = storage.begin()
    writer.write(chunk); ...
    stored = writer.commit()          # StoredObject(key, size, sha256)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["LocalStorage", "Storage", "StoredObject", "Writer"]


@dataclass(frozen=True)
class StoredObject:
    """A complete stored object."""

    key: str
    size: int
    sha256: str


class Writer(Protocol):
    """An object being written; commit or abort exactly once."""

    size: int

    def write(self, chunk: bytes) -> None: ...

    def commit(self) -> StoredObject: ...

    def abort(self) -> None: ...


class Storage(Protocol):
    """Document storage (local directory by default; an object store at scale)."""

    def begin(self) -> Writer: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...


class _LocalWriter:
    def __init__(self, root: Path) -> None:
        self._root = root
        tmp_dir = root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir)
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def commit(self) -> StoredObject:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest = self._hash.hexdigest()
        key = f"{digest[:2]}/{digest}"
        target = self._root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, target)  # same content, same name: a repeat upload is harmless
        return StoredObject(key=key, size=self.size, sha256=digest)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)


class LocalStorage:
    """Stores objects under ``root`` in a two-level content-addressed layout."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def begin(self) -> Writer:
        return _LocalWriter(self.root)

    def open(self, key: str) -> BinaryIO:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("key escapes the storage root")
        return path.open("rb")

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)
