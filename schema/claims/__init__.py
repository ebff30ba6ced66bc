"""GraphQL contract of claims: reporting, invoice data, documents, adjudication, payments, queue.

The domain's parts for ``schema.build_schema``: its root query and mutation fields and the
node fetchers of its global ids.
"""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.claims import queries
from schema.claims.mutations import ClaimsMutation
from schema.claims.ops_queries import OPS_NODES, ClaimOpsQuery
from schema.claims.rule_queries import RULE_NODES, ClaimRulesQuery
from schema.claims.subscriptions import ClaimsSubscription

__all__ = ["NODES", "ClaimsMutation", "ClaimsQuery", "ClaimsSubscription"]

NODES = {**queries.NODES, **RULE_NODES, **OPS_NODES}
ClaimsQuery = merge_types("ClaimsQuery", (queries.ClaimsQuery, ClaimRulesQuery, ClaimOpsQuery))
