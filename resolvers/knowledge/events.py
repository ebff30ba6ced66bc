"""The knowledge domain's events: one typed payload per fact, appended in its transaction.

Article events are about a ``KnowledgeArticle`` (readers: ``KNOWLEDGE_READERS``, as the type);
graph events about a ``KnowledgeEdge`` (staff and auditors). Payloads carry ids, numbers and
codes only, never titles or bodies.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.event_stream import Actor, Aggregate, EventPayload, append, register_event_type
from core.roles import INTERNAL, KNOWLEDGE_READERS
from resolvers.knowledge.models import (
    ArticleState,
    EdgeKind,
    KnowledgeArticle,
    KnowledgeEdge,
    NodeKind,
    VersionState,
)

__all__ = [
    "ArticleFact",
    "ArticlePublished",
    "ArticleRejected",
    "ArticleRetired",
    "ArticleSubmitted",
    "ArticleVersionDrafted",
    "GraphEdgeFact",
    "GraphLinked",
    "GraphUnlinked",
    "publish_article",
    "publish_edge",
]


class ArticleFact(EventPayload):
    """What every article event carries: the article, the version concerned and states after the fact."""

    article_id: int
    version_number: int
    version_state: VersionState
    article_state: ArticleState


class ArticleVersionDrafted(ArticleFact):
    """A new article (version 1) or a new draft version of a published one."""


class ArticleSubmitted(ArticleFact):
    """A draft went to review."""


class ArticlePublished(ArticleFact):
    """An approver approved a version: it is served now (replacing ``superseded_number``, if any)."""

    superseded_number: int | None = None


class ArticleRejected(ArticleFact):
    """An approver sent a version back to draft, with a reason code."""

    reason: str


class ArticleRetired(ArticleFact):
    """The article is no longer served."""


class GraphEdgeFact(EventPayload):
    """A graph edge: its kind and the kinds of its ends (keys are codes, not prose)."""

    edge_id: int
    kind: EdgeKind
    source_kind: NodeKind
    source_key: str
    target_kind: NodeKind
    target_key: str


class GraphLinked(GraphEdgeFact):
    """An edge was added."""


class GraphUnlinked(GraphEdgeFact):
    """An edge was removed."""


for _name, _payload in (("knowledge.version_drafted", ArticleVersionDrafted),
                        ("knowledge.submitted", ArticleSubmitted),
                        ("knowledge.published", ArticlePublished),
                        ("knowledge.rejected", ArticleRejected),
                        ("knowledge.retired", ArticleRetired)):
    register_event_type(_name, 1, _payload, aggregate="KnowledgeArticle", readers=KNOWLEDGE_READERS)
for _name, _edge_payload in (("knowledge.linked", GraphLinked), ("knowledge.unlinked", GraphUnlinked)):
    register_event_type(_name, 1, _edge_payload, aggregate="KnowledgeEdge", readers=INTERNAL)


def publish_article(session: Session, article: KnowledgeArticle, payload: ArticleFact, *, actor: Actor) -> None:
    """Append ``payload`` about ``article`` in the caller's transaction."""
    session.flush()
    append(session, payload, aggregate=Aggregate("KnowledgeArticle", article.id, article.version), actor=actor)


def publish_edge(session: Session, edge: KnowledgeEdge, payload: GraphEdgeFact, *, actor: Actor) -> None:
    """Append ``payload`` about ``edge`` in the caller's transaction."""
    append(session, payload, aggregate=Aggregate("KnowledgeEdge", edge.id), actor=actor)
