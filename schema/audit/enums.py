"""GraphQL enums of the audit log, each value described."""

from __future__ import annotations

import enum

import strawberry

__all__ = ["AuditOutcome"]


@strawberry.enum(description="How an audited action ended.")
class AuditOutcome(enum.Enum):
    OK = strawberry.enum_value("ok", description="Done: its changes were committed with the entry.")
    REFUSED = strawberry.enum_value("refused", description="Refused with a typed error (see refusalCodes); nothing "
                                    "else was written.")
