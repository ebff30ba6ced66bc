"""GraphQL view of the hash-chained audit log (auditors and admins).

The domain's parts for ``schema.build_schema``: its root query fields and the node fetchers
of its global ids.
"""

from __future__ import annotations

from schema.audit.queries import NODES, AuditQuery

__all__ = ["NODES", "AuditQuery"]
