"""GraphQL object types of the audit log (auditors and admins)."""

from __future__ import annotations

import datetime as dt

import strawberry

from core.roles import AUDIT_READERS
from schema.permissions import access

__all__ = ["AuditChainStatus", "AuditEntry"]


@strawberry.type(description="One audited mutation.")
@access(AUDIT_READERS)
class AuditEntry:
    seq: int
    at: dt.datetime
    actor: str
    role: str | None
    action: str
    target: str | None
    outcome: str
    input_digest: str
    prev_hash: str
    hash: str


@strawberry.type(description="Result of walking the whole audit chain.")
@access(AUDIT_READERS)
class AuditChainStatus:
    intact: bool
    broken_at_seq: int | None
    reason: str | None
