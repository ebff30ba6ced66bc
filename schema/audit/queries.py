"""Root query fields of the hash-chained audit log, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.audit import count_audit_entries, get_audit_entry, list_audit_entries, verify_chain
from core.errors import NotFoundError
from core.roles import AUDIT_READERS
from schema.audit.types import AuditChainStatus, AuditEntry
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.policies.arguments import After, Before, First, Last
from schema.relay import PAGING, Connection, connection, page_request

__all__ = ["NODES", "AuditQuery"]


def _role(ctx: Context) -> str | None:
    return ctx.principal.role.value if ctx.principal.role else None


def _entry_node(ctx: Context, seq: int) -> AuditEntry:  # an entry's global id holds its seq
    row = get_audit_entry(ctx.session, role=_role(ctx), seq=seq)
    if row is None:
        raise NotFoundError("audit entry not found", field="id")
    return AuditEntry.from_row(row)


#: How ``node(id:)`` fetches this domain's types (``schema.node``): entries by seq, for audit readers only.
NODES: dict[str, NodeFetcher] = {"AuditEntry": _entry_node}


@strawberry.type
class AuditQuery:
    @strawberry.field(description="The audit log in chain order (by seq, oldest first). " + PAGING,
                      metadata=allow(AUDIT_READERS))
    def audit_entries(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                      before: Before = None) -> Connection[AuditEntry]:
        ctx = info.context
        request = page_request(first, after, last, before, ctx.settings)
        page = list_audit_entries(ctx.session, role=_role(ctx), page=request)
        return connection(page, AuditEntry.from_row, count=lambda: count_audit_entries(ctx.session, role=_role(ctx)))

    @strawberry.field(description="Verify the audit hash chain end to end (reads every entry: seconds on a long "
                      "log).", metadata=allow(AUDIT_READERS))
    def audit_chain_status(self, info: Info[Context, Any]) -> AuditChainStatus:
        brk = verify_chain(info.context.session)
        return AuditChainStatus(
            intact=brk is None, broken_at_seq=brk.seq if brk else None, reason=brk.reason if brk else None
        )
