"""DataLoaders of the knowledge domain's relations (one per relation for the whole schema)."""

from __future__ import annotations

from typing import Any

from resolvers.knowledge import loaders as fetch
from resolvers.knowledge import models as m
from schema.loaders import BatchLoader

__all__ = ["KnowledgeArticleByIdLoader", "KnowledgeNodeByIdLoader", "KnowledgeVersionByIdLoader",
           "KnowledgeVersionsByArticleIdLoader"]


class KnowledgeArticleByIdLoader(BatchLoader[int, m.KnowledgeArticle | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.articles_by_id(self.context.session, keys)


class KnowledgeVersionByIdLoader(BatchLoader[int, m.KnowledgeArticleVersion | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.versions_by_id(self.context.session, keys)


class KnowledgeVersionsByArticleIdLoader(BatchLoader[int, list[m.KnowledgeArticleVersion]]):
    default: Any = ()

    def fetch(self, keys: Any) -> Any:
        return fetch.versions_by_article(self.context.session, keys)


class KnowledgeNodeByIdLoader(BatchLoader[int, m.KnowledgeNode | None]):
    def fetch(self, keys: Any) -> Any:
        return fetch.nodes_by_id(self.context.session, keys)
