"""The knowledge contract: what build_schema takes (KnowledgeQuery, KnowledgeMutation, NODES)."""

from __future__ import annotations

from schema.knowledge.mutations import KnowledgeMutation
from schema.knowledge.queries import NODES, KnowledgeQuery

__all__ = ["NODES", "KnowledgeMutation", "KnowledgeQuery"]
