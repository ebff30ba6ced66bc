"""Hash-chained audit log: one row per mutation (who, what, when, input digest).

Each entry's hash covers the previous entry's hash and its own canonical content, so
changing or deleting any row breaks every hash after it (``verify_chain`` finds where).
Appends are serialised: a PostgreSQL advisory lock on PostgreSQL, the database write lock
on SQLite. The ledger anchors these hashes on chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import rfc8785
from sqlalchemy import BigInteger, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, BigId, utcnow

__all__ = ["AuditEntry", "ChainBreak", "append_audit", "digest_input", "verify_chain"]

GENESIS_HASH = "0" * 64
_ADVISORY_KEY = 0x0A0D17  # arbitrary constant naming the audit-chain lock


class AuditEntry(Base):
    """One audited mutation, linked to its predecessor by hash."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), unique=True)
    at: Mapped[dt.datetime] = mapped_column(nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    input_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    detail: Mapped[str | None] = mapped_column(Text)


def digest_input(payload: Any) -> str:
    """SHA-256 over the RFC 8785 canonical JSON of a mutation's input."""
    canonical = rfc8785.dumps(json.loads(json.dumps(payload, default=str)))
    return hashlib.sha256(canonical).hexdigest()


def _entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + rfc8785.dumps(content)).hexdigest()


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "input": entry.input_digest,
    }


def append_audit(
    session: Session,
    *,
    actor: str,
    role: str | None,
    action: str,
    input_digest: str,
    outcome: str = "ok",
    target: str | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    entry = AuditEntry(
        seq=seq,
        at=utcnow(),
        actor=actor,
        role=role,
        action=action,
        target=target,
        outcome=outcome,
        input_digest=input_digest,
        prev_hash=prev,
        detail=detail,
    )
    entry.hash = _entry_hash(prev, _content(entry))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainBreak:
    """Where and why the audit chain fails to verify."""

    seq: int
    reason: str


def verify_chain(session: Session, *, batch: int = 5000) -> ChainBreak | None:
    """Walk the whole chain; None when intact, else the first break."""
    prev = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    while True:
        rows = (
            session.execute(
                select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return None
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainBreak(expected_seq, "entry missing")
            if entry.prev_hash != prev:
                return ChainBreak(entry.seq, "previous-hash link broken")
            if _entry_hash(prev, _content(entry)) != entry.hash:
                return ChainBreak(entry.seq, "entry content altered")
            prev = entry.hash
            expected_seq += 1
            last_seq = entry.seq
