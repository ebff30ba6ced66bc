"""Root query fields of the claim-risk rule library, and how ``node(id:)`` fetches a version."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import ForbiddenError
from core.roles import RISK_READERS
from resolvers.claims.risk import rule_models as rm
from resolvers.claims.risk import rules_service
from schema.claims.enums import ClaimRuleVersionStatus
from schema.claims.rule_types import ClaimRuleVersion, wrap_version
from schema.claims.types import After, Before, First, Last
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.relay import PAGING, Connection, KeyColumn, keyset_connection

__all__ = ["RULE_NODES", "ClaimRulesQuery"]


def _version_node(ctx: Context, pk: int) -> ClaimRuleVersion:
    if ctx.principal.role not in RISK_READERS:
        raise ForbiddenError("the rule library is for staff and auditors")
    return wrap_version(ctx.session)(rules_service.get_version(ctx.session, version_id=pk))  # type: ignore[no-any-return]


#: ``node(id:)`` for rule versions: risk readers only, as the library's own queries.
RULE_NODES: dict[str, NodeFetcher] = {"ClaimRuleVersion": _version_node}


@strawberry.type
class ClaimRulesQuery:
    @strawberry.field(description="Versions of the claim-risk rule set, newest first, optionally of one status "
                      f"(staff and auditors). {PAGING}", metadata=allow(RISK_READERS))
    def claim_rule_versions(
        self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
        before: Before = None,
        status: Annotated[ClaimRuleVersionStatus | None,  # type: ignore[valid-type]
                          strawberry.argument(description="Only versions in this status.")] = None,
    ) -> Connection[ClaimRuleVersion]:
        ctx = info.context
        return keyset_connection(ctx.session, rules_service.versions_query(status=status),
                                 wrap=wrap_version(ctx.session), settings=ctx.settings, first=first, after=after,
                                 last=last, before=before, key_columns=[KeyColumn(rm.ClaimRuleVersion.id,
                                                                                  descending=True)])

    @strawberry.field(description="The version judging new claims now: the pinned one, else the newest published "
                      "(null: only the built-in rules exist and none was imported yet; staff and auditors).",
                      metadata=allow(RISK_READERS))
    def live_claim_rule_version(self, info: Info[Context, Any]) -> ClaimRuleVersion | None:
        ctx = info.context
        row = rules_service.live_version(ctx.session)
        return wrap_version(ctx.session)(row) if row else None
