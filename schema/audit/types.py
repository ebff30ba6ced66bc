"""GraphQL object types of the audit log (auditors and admins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core.audit import AuditEntry as AuditRow
from core.audit import refusal_codes
from core.roles import AUDIT_READERS
from schema.audit.enums import AuditOutcome
from schema.permissions import RoleName, access
from schema.relay import Node, encode_global_id

__all__ = ["AuditChainStatus", "AuditEntry"]


def _role(stored: str | None) -> Any:
    try:
        return None if stored is None else RoleName(stored)
    except ValueError:  # a role no longer known
        return None


@strawberry.type(description="One audited action (a mutation, a document download, a partner login...), linked to "
                 "the one before by hash. Auditors and admins only.")
@access(AUDIT_READERS)
class AuditEntry(Node):
    seq: int = strawberry.field(description="Position in the chain, from 1, without gaps.")
    at: dt.datetime = strawberry.field(description="When it was written.")
    actor: str = strawberry.field(description="Token subject of who acted (e.g. \"adjuster-7\", "
                                  "\"partner-client:<clientId>\").")
    role: RoleName | None = strawberry.field(description="The actor's role (null for the system's own "  # type: ignore[valid-type]
                                             "actions).")
    action: str = strawberry.field(description="What was done: the mutation's name (e.g. \"registerCustomer\") or "
                                   "the action's (e.g. \"partner.status\").")
    target: str | None = strawberry.field(description="What it was done to, when one object: usually its global "
                                          "id.")
    outcome: AuditOutcome = strawberry.field(description="Whether it was done or refused.")
    refusal_codes: list[str] = strawberry.field(description="The error codes a refused action answered, in order "
                                                "(codes of the mutation's error enum; the log keeps 24 characters of "
                                                "them, so the last of many may be cut short); empty when done.")
    input_digest: str = strawberry.field(description="Keyed digest (HMAC-SHA256, hex) of the action's input: proves "
                                         "an input to whoever holds the audit key, reveals nothing without it.")
    prev_hash: str = strawberry.field(description="Hash of the entry before (hex; 64 zeros for the first).")
    hash: str = strawberry.field(description="This entry's hash over the previous hash and its content (hex).")

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        return cls(id=strawberry.ID(encode_global_id("AuditEntry", row.seq)), seq=row.seq, at=row.at,
                   actor=row.actor, role=_role(row.role), action=row.action, target=row.target,
                   outcome=AuditOutcome.OK if row.outcome == "ok" else AuditOutcome.REFUSED, refusal_codes=refusal_codes(row.outcome),
                   input_digest=row.input_digest, prev_hash=row.prev_hash, hash=row.hash)


@strawberry.type(description="Result of walking the whole audit chain.")
@access(AUDIT_READERS)
class AuditChainStatus:
    intact: bool = strawberry.field(description="True when every entry links to the one before and its hash "
                                    "matches its content.")
    broken_at_seq: int | None = strawberry.field(description="The first entry that fails (null when intact).")
    reason: str | None = strawberry.field(description="Why it fails: \"entry missing\", \"previous-hash link "
                                          "broken\" or \"entry content altered\" (null when intact).")
