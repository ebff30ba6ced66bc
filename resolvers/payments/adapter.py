"""How the rail talks to a bank: an adapter interface, and the built-in file adapter.

The built-in adapter exchanges files in ``<data_dir>/payments/``: it writes each batch to
``outbox/<batch reference>.txt`` (written whole to a temporary name, then renamed, mode 0600:
the file holds account numbers for the bank) and reads returns files the bank drops in
``returns/``; a file read is moved to ``returns/processed/`` (or ``returns/rejected/``).
The formats are in ``resolvers.payments.bankfile`` and docs/PAYMENTS.md.

Example::

    adapter = FileRailAdapter(settings.data_dir / "payments")
    adapter.deliver_batch("B20261127-0001", text)
    for returns in adapter.pending_returns():
        ...
        adapter.done(returns, ok=True)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["FileRailAdapter", "RailAdapter", "ReturnsDocument"]


@dataclass(frozen=True)
class ReturnsDocument:
    """A returns file as received: its name, text and digest."""

    name: str
    text: str
    sha256: str
    path: Path | None = None


class RailAdapter(Protocol):
    """What the rail needs from a bank connection."""

    name: str

    def deliver_batch(self, reference: str, text: str) -> str:
        """Hand a batch file to the bank (idempotent by reference); returns where it went."""
        ...

    def pending_returns(self) -> Iterator[ReturnsDocument]:
        """Returns files received and not yet read."""
        ...

    def done(self, document: ReturnsDocument, *, ok: bool) -> None:
        """Mark a returns file read (applied or refused as a whole)."""
        ...


class FileRailAdapter:
    """The built-in adapter: batch files out, returns files in, in a directory the bank's gateway shares."""

    name = "file"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outbox = root / "outbox"
        self.returns = root / "returns"

    def deliver_batch(self, reference: str, text: str) -> str:
        """Write ``outbox/<reference>.txt`` atomically (a rewrite of the same batch is the same bytes)."""
        self.outbox.mkdir(parents=True, exist_ok=True)
        final = self.outbox / f"{reference}.txt"
        temp = self.outbox / f".{reference}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, final)
        return str(final)

    def drop_returns(self, name: str, text: str) -> Path:
        """Place a returns file as the bank's gateway would (the demo and tests play the bank)."""
        self.returns.mkdir(parents=True, exist_ok=True)
        temp = self.returns / f".{name}.tmp"
        temp.write_text(text, encoding="utf-8")
        final = self.returns / name
        os.replace(temp, final)
        return final

    def pending_returns(self) -> Iterator[ReturnsDocument]:
        """Every ``returns/*`` file (not hidden, not a directory), oldest name first."""
        if not self.returns.is_dir():
            return
        for path in sorted(self.returns.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                raw = path.read_bytes()
                yield ReturnsDocument(path.name, raw.decode("utf-8", errors="replace"),
                                      hashlib.sha256(raw).hexdigest(), path)

    def done(self, document: ReturnsDocument, *, ok: bool) -> None:
        """Move the file to ``processed/`` or ``rejected/`` (kept for the record)."""
        if document.path is None or not document.path.exists():
            return
        target = self.returns / ("processed" if ok else "rejected")
        target.mkdir(parents=True, exist_ok=True)
        os.replace(document.path, target / document.path.name)
