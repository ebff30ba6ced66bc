"""Hash-chained audit log: one row per mutation (who, what, when, input digest).

Each entry's hash covers the previous entry's hash and its own canonical content, so
changing or deleting any row breaks every hash after it (``verify_chain`` finds where).
Appends are serialised: a PostgreSQL advisory lock on PostgreSQL, the database write lock
on SQLite. The ledger anchors these hashes on chain.

A mutation's input often holds personal data (an ID number, a phone), so its digest is
keyed: HMAC-SHA256 under the audit key (``<data_dir>/keys/audit.key`` or
``OPSURE_AUDIT_KEY``, 64 hex characters), never a plain hash that a guess of a
low-entropy input could confirm. Whoever holds the key and the input can still show
that this entry recorded that input. Entries written before the key existed carry
``input_digest_alg = "sha256"`` and keep verifying; the algorithm of newer entries is
part of what their hash covers.

Example::

    install_audit_key(AuditKey.load_or_create(settings.keys_dir))
    append_audit(session, actor="adjuster-7", role="adjuster", action="approveClaim",
                 input_digest=digest_input({"claimId": 42}))
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from sqlalchemy import BigInteger, ColumnElement, Integer, String, Text, false, func, select, text, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, BigId, utcnow
from core.keyfiles import secret_file
from core.pagination import KeyColumn, Page, PageRequest, keyset_page
from core.roles import AUDIT_READERS

__all__ = [
    "DIGEST_ALG",
    "AuditEntry",
    "AuditKey",
    "ChainBreak",
    "append_audit",
    "audit_visible",
    "count_audit_entries",
    "current_audit_key",
    "digest_input",
    "get_audit_entry",
    "install_audit_key",
    "list_audit_entries",
    "refusal_codes",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
_ADVISORY_KEY = 0x0A0D17  # arbitrary constant naming the audit-chain lock
#: How input digests are made now; "sha256" marks the unkeyed digests of older entries.
DIGEST_ALG = "hmac-sha256"
LEGACY_DIGEST_ALG = "sha256"


@dataclass(frozen=True)
class AuditKey:
    """The key of the audit log's input digests (HMAC-SHA256)."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("the audit key is 32 bytes (64 hex characters)")

    def __repr__(self) -> str:  # never print key material
        return "AuditKey(...)"

    @classmethod
    def generate(cls) -> AuditKey:
        """A fresh random key (tests)."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> AuditKey:
        """Load ``OPSURE_AUDIT_KEY`` or ``keys_dir/audit.key``, creating the file once."""
        raw = secret_file(keys_dir / "audit.key", env="OPSURE_AUDIT_KEY", make=lambda: secrets.token_bytes(32).hex())
        try:
            return cls(bytes.fromhex(raw))
        except ValueError:
            raise ValueError("the audit key must be 64 hex characters") from None


_audit_key: AuditKey | None = None


def install_audit_key(key: AuditKey) -> None:
    """Make ``key`` the process-wide audit key (done once at start-up)."""
    global _audit_key
    _audit_key = key


def current_audit_key() -> AuditKey:
    """The installed audit key; refuses to digest personal input without one."""
    if _audit_key is None:
        raise RuntimeError("the audit key is not installed")
    return _audit_key


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
    input_digest_alg: Mapped[str] = mapped_column(String(16), nullable=False, default=DIGEST_ALG)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    detail: Mapped[str | None] = mapped_column(Text)


_SAFE_INT = 2**53 - 1


def _json_safe(value: Any) -> Any:
    """Integers beyond JSON's exact range (RFC 8785 refuses them) as decimal strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > _SAFE_INT:
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def digest_input(payload: Any, *, key: AuditKey | None = None) -> str:
    """HMAC-SHA256 (audit key) over the RFC 8785 canonical JSON of a mutation's input, hex."""
    canonical = rfc8785.dumps(_json_safe(json.loads(json.dumps(payload, default=str))))
    return hmac.new((key or current_audit_key()).key, canonical, hashlib.sha256).hexdigest()


def _entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + rfc8785.dumps(content)).hexdigest()


def _content(entry: AuditEntry) -> dict[str, Any]:
    content: dict[str, Any] = {
        "seq": entry.seq,
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "input": entry.input_digest,
    }
    if entry.input_digest_alg != LEGACY_DIGEST_ALG:  # older entries' hashes cover no algorithm
        content["inputAlg"] = entry.input_digest_alg
    return content


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
        input_digest_alg=DIGEST_ALG,
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


# --- reading the log ---------------------------------------------------------------------------


def audit_visible(role: str | None) -> ColumnElement[bool]:
    """SQL condition: the entries a caller of ``role`` may read (all for auditors and admins, else none)."""
    return true() if role in AUDIT_READERS else false()


def list_audit_entries(session: Session, *, role: str | None, page: PageRequest) -> Page[AuditEntry]:
    """A page of the log in chain order (by ``seq``), as a caller of ``role`` may read it."""
    return keyset_page(session, select(AuditEntry).where(audit_visible(role)), [KeyColumn(AuditEntry.seq)],
                       request=page)


def count_audit_entries(session: Session, *, role: str | None) -> int:
    """How many entries a caller of ``role`` may read."""
    return int(session.scalar(select(func.count()).select_from(AuditEntry).where(audit_visible(role))) or 0)


def get_audit_entry(session: Session, *, role: str | None, seq: int) -> AuditEntry | None:
    """The entry with ``seq`` if a caller of ``role`` may read it."""
    return session.scalar(select(AuditEntry).where(AuditEntry.seq == seq, audit_visible(role)))


def refusal_codes(outcome: str) -> list[str]:
    """The error codes of a refused action's outcome (``refused:<CODE>[,<CODE>...]``); none for ``ok``.

    The outcome column keeps 32 characters: after many codes the last one may be cut short.
    """
    kind, _, codes = outcome.partition(":")
    return [c for c in codes.split(",") if c] if kind == "refused" else []
