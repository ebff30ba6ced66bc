"""Root query fields of the hash-chained audit log, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from core.audit import AuditEntry as AuditRow
from core.audit import verify_chain
from core.roles import AUDIT_READERS
from schema.audit.types import AuditChainStatus, AuditEntry
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.relay import page_size

__all__ = ["NODES", "AuditQuery"]

#: How ``node(id:)`` fetches this domain's types (``schema.node``): none (entries are addressed by seq).
NODES: dict[str, NodeFetcher] = {}


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
