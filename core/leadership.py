"""Named leadership across processes: one holder of a name at a time, released on crash.

On PostgreSQL the holder keeps a session-level advisory lock on a dedicated connection
(the server drops it when the process or its connection dies); on SQLite it holds a
``flock`` on ``<data_dir>/locks/<name>.lock`` (the kernel drops it when the process dies).
Names map to a two-integer advisory key, a key space apart from the single-integer keys of
the audit chain and the anchoring leader.

Example::

    with leadership(engine, data_dir, "consumer:webhooks") as lead:
        if lead is None:
            return                    # another process leads; try again later
        while lead.alive():
            do_one_round()
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

__all__ = ["Leader", "advisory_key", "leadership"]

_CLASS_ID = 0x0E5E  # the first half of every named lock's key: "event stream" names


def advisory_key(name: str) -> int:
    """The second half of ``name``'s two-integer advisory key (a stable signed 32-bit hash)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big", signed=True)


class Leader:
    """Holds the leadership of one name until released."""

    #: Seconds between two checks that the PostgreSQL connection (and so the lock) is alive.
    check_every = 1.0

    def __init__(self, engine: Engine, data_dir: Path, name: str) -> None:
        self.engine = engine
        self.name = name
        self.lock_path = data_dir / "locks" / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".lock")
        self._conn: Connection | None = None
        self._fh: IO[Any] | None = None
        self._checked = 0.0

    def acquire(self) -> bool:
        """Try to take the leadership now; False when another process holds it."""
        if self.engine.dialect.name == "postgresql":
            return self._acquire_advisory()
        import fcntl

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.lock_path, "a+")  # noqa: SIM115 - held while leading
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def _acquire_advisory(self) -> bool:
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:c, :k)"),
                                    {"c": _CLASS_ID, "k": advisory_key(self.name)}).scalar())
            conn.commit()  # the session-level lock outlives the transaction
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        self._checked = time.monotonic()
        return True

    def alive(self) -> bool:
        """Whether the leadership is still held (checks the PostgreSQL connection at most once a second)."""
        if self._conn is None:
            return self._fh is not None
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return True
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except Exception:
            return False
        self._checked = now
        return True

    def release(self) -> None:
        """Give the leadership up (idempotent)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:c, :k)"),
                                   {"c": _CLASS_ID, "k": advisory_key(self.name)})
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@contextlib.contextmanager
def leadership(engine: Engine, data_dir: Path, name: str) -> Iterator[Leader | None]:
    """Try to lead ``name``; yields the held leadership, or None when another process leads."""
    leader = Leader(engine, data_dir, name)
    if not leader.acquire():
        yield None
        return
    try:
        yield leader
    finally:
        leader.release()
