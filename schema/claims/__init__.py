"""GraphQL contract of claims: reporting, invoice data, documents, adjudication, payments, queue.

The domain's parts for ``schema.build_schema``: its root query and mutation fields and the
node fetchers of its global ids.
"""

from __future__ import annotations

from schema.claims.mutations import ClaimsMutation
from schema.claims.queries import NODES, ClaimsQuery

__all__ = ["NODES", "ClaimsMutation", "ClaimsQuery"]
