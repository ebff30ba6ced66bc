"""Batch reads of the knowledge domain (one query per batch), for the schema's DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolvers.knowledge.models import KnowledgeArticle, KnowledgeArticleVersion, KnowledgeNode

__all__ = ["articles_by_id", "nodes_by_id", "versions_by_article", "versions_by_id"]


def articles_by_id(session: Session, ids: Sequence[int]) -> dict[int, KnowledgeArticle]:
    """Articles by id, one query (callers scope: only served ones reach customers)."""
    stmt = select(KnowledgeArticle).where(KnowledgeArticle.id.in_(list(ids)))
    return {row.id: row for row in session.scalars(stmt)}


def versions_by_id(session: Session, ids: Sequence[int]) -> dict[int, KnowledgeArticleVersion]:
    """Article versions by id, one query."""
    stmt = select(KnowledgeArticleVersion).where(KnowledgeArticleVersion.id.in_(list(ids)))
    return {row.id: row for row in session.scalars(stmt)}


def versions_by_article(session: Session, ids: Sequence[int]) -> dict[int, list[KnowledgeArticleVersion]]:
    """Every version of each article, oldest first (ascending ids: the order connections page in), one query."""
    out: dict[int, list[KnowledgeArticleVersion]] = {i: [] for i in ids}
    stmt = select(KnowledgeArticleVersion).where(KnowledgeArticleVersion.article_id.in_(list(ids))).order_by(
        KnowledgeArticleVersion.article_id, KnowledgeArticleVersion.id)
    for row in session.scalars(stmt):
        out[row.article_id].append(row)
    return out


def nodes_by_id(session: Session, ids: Sequence[int]) -> dict[int, KnowledgeNode]:
    """Graph nodes by id, one query."""
    stmt = select(KnowledgeNode).where(KnowledgeNode.id.in_(list(ids)))
    return {row.id: row for row in session.scalars(stmt)}
