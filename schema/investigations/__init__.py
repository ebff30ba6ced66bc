"""The investigations contract: what build_schema takes (InvestigationsQuery, InvestigationsMutation, NODES)."""

from __future__ import annotations

from schema.investigations.mutations import InvestigationsMutation
from schema.investigations.queries import NODES, InvestigationsQuery

__all__ = ["NODES", "InvestigationsMutation", "InvestigationsQuery"]
