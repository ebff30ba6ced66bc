"""SQLite-backed key-value store for py-evm: one native transaction per atomic batch/block."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from eth.abc import AtomicWriteBatchAPI
from eth.db.backends.base import BaseAtomicDB, BaseDB

from ledger.node.errors import LedgerStoreCorrupt, LedgerStoreError, LedgerStoreLocked

__all__ = [
    "DB_FILENAME",
    "STORE_FORMAT",
    "ReaderKV",
    "SqliteStore",
    "WriterKV",
]

DB_FILENAME = "ledger.sqlite3"
LOCK_FILENAME = "ledger.lock"
STORE_FORMAT = "opsure-ledger-store/1"

_BASE_SCHEMA: tuple[str, ...] = (
    "CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID",
)

Row = tuple[Any, ...]


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        if readonly:
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA cache_size=-8000")
        else:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise LedgerStoreError(f"cannot switch {path} to WAL mode (got {mode!r})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA cache_size=-64000")
    except BaseException:
        conn.close()
        raise
    return conn


def _fsync_dir(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SqliteStore:
    """One SQLite file in a data directory: a writer connection and per-thread readers."""

    def __init__(self, data_dir: Path, conn: sqlite3.Connection, lock_fd: int) -> None:
        self.data_dir = data_dir
        self.path = data_dir / DB_FILENAME
        self._conn = conn
        self._lock_fd = lock_fd
        self._wlock = threading.RLock()
        self._depth = 0
        self._local = threading.local()
        self._readers: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    # -- opening -------------------------------------------------------------------------

    @staticmethod
    def exists(data_dir: Path) -> bool:
        """True when the data directory already holds an initialised store file."""
        return (Path(data_dir) / DB_FILENAME).exists()

    @classmethod
    def _acquire_lock(cls, data_dir: Path) -> int:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(data_dir / LOCK_FILENAME), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise LedgerStoreLocked(f"ledger store {data_dir} is in use by another node") from exc
        return fd

    @classmethod
    def create(
        cls,
        data_dir: Path,
        schema: Sequence[str],
        initialise: Callable[[SqliteStore], None],
    ) -> SqliteStore:
        """Build a new store in a temporary file, run `initialise` in one transaction, publish."""
        data_dir = Path(data_dir)
        lock_fd = cls._acquire_lock(data_dir)
        try:
            final = data_dir / DB_FILENAME
            if final.exists():
                raise LedgerStoreError(f"store already exists: {final}")
            tmp = data_dir / (DB_FILENAME + ".init")
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)
            conn = _connect(tmp, readonly=False)
            builder = cls(data_dir, conn, lock_fd)
            builder.path = tmp
            try:
                with builder.transaction():
                    for stmt in (*_BASE_SCHEMA, *schema):
                        conn.execute(stmt)
                    builder.set_meta("format", STORE_FORMAT)
                    initialise(builder)
            finally:
                builder._close_connections()
            os.replace(tmp, final)
            _fsync_dir(data_dir)
            return cls._open_locked(data_dir, lock_fd, quick_check=False)
        except BaseException:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)
            raise

    @classmethod
    def open(cls, data_dir: Path, *, quick_check: bool = True) -> SqliteStore:
        """Open an existing store; an unreadable or foreign file raises LedgerStoreCorrupt."""
        data_dir = Path(data_dir)
        lock_fd = cls._acquire_lock(data_dir)
        try:
            return cls._open_locked(data_dir, lock_fd, quick_check=quick_check)
        except BaseException:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)
            raise

    @classmethod
    def open_readonly(cls, data_dir: Path) -> SqliteStore:
        """Open a store another process writes, for reads only (no lock, no writer).

        WAL lets readers in other processes see each committed block whole; a write
        through this store fails (its only connection is ``query_only``).
        """
        path = Path(data_dir) / DB_FILENAME
        if not path.exists():
            raise LedgerStoreError(f"no ledger store at {path}")
        conn = _connect(path, readonly=True)
        try:
            row = conn.execute("SELECT v FROM meta WHERE k = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LedgerStoreCorrupt(f"ledger store {path} is unreadable: {exc}") from exc
        if row is None or row[0] != STORE_FORMAT:
            conn.close()
            raise LedgerStoreCorrupt(f"ledger store {path} has no or a foreign format marker")
        return cls(Path(data_dir), conn, -1)

    @classmethod
    def _open_locked(cls, data_dir: Path, lock_fd: int, *, quick_check: bool) -> SqliteStore:
        path = data_dir / DB_FILENAME
        if not path.exists():
            raise LedgerStoreError(f"no ledger store at {path}")
        if path.stat().st_size == 0:
            raise LedgerStoreCorrupt(f"ledger store {path} is empty (truncated?)")
        try:
            conn = _connect(path, readonly=False)
        except sqlite3.DatabaseError as exc:
            raise LedgerStoreCorrupt(f"ledger store {path} is unreadable: {exc}") from exc
        try:
            if quick_check:
                rows = conn.execute("PRAGMA quick_check").fetchall()
                if [tuple(r) for r in rows] != [("ok",)]:
                    detail = "; ".join(str(r[0]) for r in rows[:5])
                    raise LedgerStoreCorrupt(f"ledger store {path} failed quick_check: {detail}")
            row = conn.execute("SELECT v FROM meta WHERE k = 'format'").fetchone()
            if row is None or row[0] != STORE_FORMAT:
                raise LedgerStoreCorrupt(f"ledger store {path} has no or a foreign format marker")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LedgerStoreCorrupt(f"ledger store {path} is unreadable: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return cls(data_dir, conn, lock_fd)

    # -- writer side ---------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """True while the calling code is inside `transaction()`."""
        return self._depth > 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One native transaction (BEGIN IMMEDIATE); nested calls become savepoints."""
        with self._wlock:
            self._check_open()
            if self._depth:
                name = f"sp{self._depth}"
                self._conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    self._conn.execute(f"ROLLBACK TO {name}")
                    self._conn.execute(f"RELEASE {name}")
                    raise
                else:
                    self._conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one write statement inside the current transaction."""
        self._require_txn()
        self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one write statement for many rows inside the current transaction."""
        self._require_txn()
        if rows:
            self._conn.executemany(sql, rows)

    def writer_query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Query through the writer connection (sees the open transaction's writes)."""
        with self._wlock:
            return list(self._conn.execute(sql, params).fetchall())

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta entry inside the current transaction."""
        self.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (key, value))

    def _require_txn(self) -> None:
        if not self._depth:
            raise LedgerStoreError("write outside of a store transaction")

    def writer_kv(self) -> WriterKV:
        """The py-evm database bound to the writer connection."""
        return WriterKV(self)

    # -- reader side ---------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self._check_open()
            conn = _connect(self.path, readonly=True)
            self._local.conn = conn
            self._local.depth = 0
            with self._readers_lock:
                # worker threads come and go (anyio retires idle ones): close their readers
                dead = [c for t, c in self._readers if not t.is_alive()]
                self._readers = [(t, c) for t, c in self._readers if t.is_alive()]
                self._readers.append((threading.current_thread(), conn))
            for old in dead:
                with contextlib.suppress(sqlite3.Error):
                    old.close()
        return conn

    def reader_count(self) -> int:
        """How many per-thread reader connections are open."""
        with self._readers_lock:
            return len(self._readers)

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        """A consistent read snapshot on this thread's reader connection (re-entrant)."""
        conn = self._reader()
        depth: int = self._local.depth
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        conn.execute("BEGIN")
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            if conn.in_transaction:
                conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a read-only query on this thread's reader connection."""
        return list(self._reader().execute(sql, params).fetchall())

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run a read-only query and return its first row, if any."""
        row: Row | None = self._reader().execute(sql, params).fetchone()
        return row

    def get_meta(self, key: str) -> str | None:
        """Read a meta entry (committed state)."""
        row = self.query_one("SELECT v FROM meta WHERE k = ?", (key,))
        return None if row is None else str(row[0])

    def reader_kv(self) -> ReaderKV:
        """A read-only py-evm database over the per-thread reader connections."""
        return ReaderKV(self)

    # -- housekeeping --------------------------------------------------------------------

    def size_bytes(self) -> int:
        """Bytes on disk of the database file plus its WAL."""
        total = 0
        for p in (self.path, Path(f"{self.path}-wal")):
            with contextlib.suppress(FileNotFoundError):
                total += p.stat().st_size
        return total

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (TRUNCATE checkpoint)."""
        with self._wlock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _check_open(self) -> None:
        if self._closed:
            raise LedgerStoreError("ledger store is closed")

    def _close_connections(self) -> None:
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for _, conn in readers:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        with self._wlock:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._closed = True

    def close(self) -> None:
        """Close every connection and release the directory lock (idempotent)."""
        if self._closed and self._lock_fd < 0:
            return
        self._close_connections()
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = -1


_GET = "SELECT v FROM kv WHERE k = ?"
_PUT = "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)"
_DEL = "DELETE FROM kv WHERE k = ?"


class WriterKV(BaseAtomicDB):
    """py-evm database on the writer connection; batches join the open store transaction."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def __getitem__(self, key: bytes) -> bytes:
        rows = self._store.writer_query(_GET, (key,))
        if not rows:
            raise KeyError(key)
        return bytes(rows[0][0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self._store.transaction():
            self._store.execute(_PUT, (key, value))

    def __delitem__(self, key: bytes) -> None:
        with self._store.transaction():
            if not self._exists(key):
                raise KeyError(key)
            self._store.execute(_DEL, (key,))

    def _exists(self, key: bytes) -> bool:
        return bool(self._store.writer_query("SELECT 1 FROM kv WHERE k = ?", (key,)))

    def apply(self, pending: dict[bytes, bytes | None]) -> None:
        """Write a whole batch (None = delete) as one transaction or savepoint."""
        puts = [(k, v) for k, v in pending.items() if v is not None]
        dels = [(k,) for k, v in pending.items() if v is None]
        with self._store.transaction():
            self._store.executemany(_PUT, puts)
            self._store.executemany(_DEL, dels)

    @contextlib.contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        """Buffer writes; on success write them in one native transaction (or savepoint)."""
        batch = _WriteBatch(self)
        try:
            yield batch
            self.apply(batch.pending())
        finally:
            batch.close()


class ReaderKV(BaseAtomicDB):
    """Read-only py-evm database over the per-thread reader connections."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def __getitem__(self, key: bytes) -> bytes:
        row = self._store.query_one(_GET, (key,))
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        raise LedgerStoreError("read-only ledger database")

    def __delitem__(self, key: bytes) -> None:
        raise LedgerStoreError("read-only ledger database")

    def _exists(self, key: bytes) -> bool:
        return self._store.query_one("SELECT 1 FROM kv WHERE k = ?", (key,)) is not None

    @contextlib.contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        """Refuse: the reader side never writes."""
        raise LedgerStoreError("read-only ledger database")
        yield  # pragma: no cover


class _WriteBatch(BaseDB, AtomicWriteBatchAPI):
    """Pending writes of one atomic batch, readable before commit."""

    def __init__(self, target: WriterKV) -> None:
        self._target: WriterKV | None = target
        self._pending: dict[bytes, bytes | None] = {}

    def _live(self) -> WriterKV:
        if self._target is None:
            raise LedgerStoreError("write batch used outside of its context")
        return self._target

    def __getitem__(self, key: bytes) -> bytes:
        target = self._live()
        if key in self._pending:
            value = self._pending[key]
            if value is None:
                raise KeyError(key)
            return value
        return target[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._live()
        self._pending[key] = value

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[key] = None

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def pending(self) -> dict[bytes, bytes | None]:
        """The buffered writes (None marks a delete)."""
        return self._pending

    def close(self) -> None:
        """Invalidate the batch after its context ends."""
        self._target = None
        self._pending = {}
