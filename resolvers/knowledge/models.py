"""Tables of the knowledge domain: articles with versions and approval, and a small knowledge graph.

* ``knowledge_article`` — one article: which version is served (the approved one), its state in
  short, and ``index_stamp``, the index generation that last changed what it serves.
* ``knowledge_article_version`` — each version of an article: title, body and reply templates as
  written (markup is stored verbatim and never interpreted), its author and its approval. A
  published version is never edited: editing a published article starts a new draft version.
* ``knowledge_node`` / ``knowledge_edge`` — the graph: articles, products (by product code),
  coverage items, ICD-10 codes (a code, a category or a block) and exclusions, linked by typed
  edges (covers, excludes, explains, applies-to). ``coverage`` answers by traversal.
* ``knowledge_index_state`` — one row: the search index's generation counter. Every publish or
  retirement bumps it (the row lock orders them), so every process's in-memory index catches up
  with the articles changed since the generation it has (``search.KnowledgeIndex.refresh``).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, IdPk, Timestamped, UTCDateTime, Versioned, value_enum

__all__ = [
    "ArticleState",
    "EdgeKind",
    "KnowledgeArticle",
    "KnowledgeArticleVersion",
    "KnowledgeEdge",
    "KnowledgeIndexState",
    "KnowledgeNode",
    "NodeKind",
    "VersionState",
]


class VersionState(enum.StrEnum):
    """Where one version of an article stands."""

    DRAFT = "draft"  # being written; editable by knowledge editors
    IN_REVIEW = "in_review"  # submitted: an approver (not its author) approves or rejects it
    PUBLISHED = "published"  # approved: the version served to customers, the bot and agents
    SUPERSEDED = "superseded"  # was published; a later version replaced it
    RETIRED = "retired"  # was published when the article was retired


class ArticleState(enum.StrEnum):
    """An article in short: whether it is served."""

    DRAFT = "draft"  # never published yet
    PUBLISHED = "published"  # a version is served (a newer draft may be in the works)
    RETIRED = "retired"  # no longer served


class NodeKind(enum.StrEnum):
    """What a graph node stands for."""

    ARTICLE = "article"  # key: the article's id
    PRODUCT = "product"  # key: the product's code (policies)
    COVERAGE_ITEM = "coverage_item"  # key: a benefit's code (e.g. INPATIENT)
    ICD10 = "icd10"  # key: an ICD-10 code, category or block (C73, C00-C97)
    EXCLUSION = "exclusion"  # key: an exclusion's code (e.g. PRE_EXISTING)


class EdgeKind(enum.StrEnum):
    """A typed link between two nodes."""

    COVERS = "covers"  # product -> coverage item; coverage item -> ICD-10
    EXCLUDES = "excludes"  # exclusion -> ICD-10
    EXPLAINS = "explains"  # article -> any node
    APPLIES_TO = "applies_to"  # exclusion -> product


class KnowledgeArticle(IdPk, Versioned, Timestamped, Base):
    """An article: its versions live in ``knowledge_article_version``."""

    __tablename__ = "knowledge_article"
    __table_args__ = (Index("ix_knowledge_article_index_stamp", "index_stamp"),)

    state: Mapped[ArticleState] = mapped_column(value_enum(ArticleState, "knowledge_article_state"))
    #: The version served (PUBLISHED), if any.
    served_version_id: Mapped[int | None] = mapped_column(BigId)
    #: The newest version's number (1, 2, ...).
    latest_number: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    #: The index generation of the last publish or retirement (0: never served).
    index_stamp: Mapped[int] = mapped_column(Integer, default=0)


class KnowledgeArticleVersion(IdPk, Base):
    """One version of an article (a published one is never edited)."""

    __tablename__ = "knowledge_article_version"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("knowledge_article.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[VersionState] = mapped_column(value_enum(VersionState, "knowledge_version_state"))
    #: As written: markup is kept verbatim and never interpreted (clients escape when rendering).
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: Suggested replies an agent (or the bot) may send, as written.
    reply_templates: Mapped[list[str]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Why the last review sent it back (a code), if it did.
    rejection_reason: Mapped[str | None] = mapped_column(String(40))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class KnowledgeNode(IdPk, Base):
    """A node of the knowledge graph, unique by kind and key."""

    __tablename__ = "knowledge_node"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    kind: Mapped[NodeKind] = mapped_column(value_enum(NodeKind, "knowledge_node_kind"))
    key: Mapped[str] = mapped_column(String(64))
    #: A display name (Chinese), e.g. the ICD-10 name or the exclusion's wording.
    label: Mapped[str] = mapped_column(String(200), default="")


class KnowledgeEdge(IdPk, Base):
    """A typed edge ``source --kind--> target`` (unique per triple)."""

    __tablename__ = "knowledge_edge"
    __table_args__ = (UniqueConstraint("source_id", "kind", "target_id"),
                      Index("ix_knowledge_edge_target", "target_id", "kind"))

    source_id: Mapped[int] = mapped_column(BigId, ForeignKey("knowledge_node.id"), index=True)
    kind: Mapped[EdgeKind] = mapped_column(value_enum(EdgeKind, "knowledge_edge_kind"))
    target_id: Mapped[int] = mapped_column(BigId, ForeignKey("knowledge_node.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class KnowledgeIndexState(Base):
    """The search index's generation counter (one row, id 1) and the database's index identity."""

    __tablename__ = "knowledge_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Random per database: a process's index built from another database is never reused.
    index_id: Mapped[str] = mapped_column(String(36))
    stamp: Mapped[int] = mapped_column(Integer, default=0)
