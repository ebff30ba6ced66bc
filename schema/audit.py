"""GraphQL view of the hash-chained audit log (auditors and admins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from core.audit import AuditEntry as AuditRow
from core.audit import verify_chain
from core.auth import Role
from schema.context import Context
from schema.permissions import access, allow
from schema.relay import page_size

AUDIT_READERS = frozenset({Role.AUDITOR.value, Role.ADMIN.value})


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


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="Audit entries after a sequence number, oldest first (max 100).",
        metadata=allow(AUDIT_READERS),
    )
    def audit_entries(
        self, info: Info[Context, Any], after_seq: int = 0, first: int | None = None
    ) -> list[AuditEntry]:
        ctx: Context = info.context
        n = page_size(first, ctx.settings)
        rows = ctx.session.scalars(
            select(AuditRow).where(AuditRow.seq > after_seq).order_by(AuditRow.seq).limit(n)
        )
        return [
            AuditEntry(
                seq=r.seq,
                at=r.at,
                actor=r.actor,
                role=r.role,
                action=r.action,
                target=r.target,
                outcome=r.outcome,
                input_digest=r.input_digest,
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in rows
        ]

    @strawberry.field(description="Verify the audit hash chain end to end.", metadata=allow(AUDIT_READERS))
    def audit_chain_status(self, info: Info[Context, Any]) -> AuditChainStatus:
        brk = verify_chain(info.context.session)
        return AuditChainStatus(
            intact=brk is None, broken_at_seq=brk.seq if brk else None, reason=brk.reason if brk else None
        )
