"""Root query fields of the knowledge domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from core.errors import DomainError
from core.roles import INTERNAL, KNOWLEDGE_ASSISTED, KNOWLEDGE_READERS
from resolvers.knowledge import graph, search, service
from resolvers.knowledge import models as m
from schema.context import Context
from schema.knowledge.enums import KnowledgeArticleState
from schema.knowledge.types import (
    AgentAssist,
    CoverageAnswer,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeEdge,
    KnowledgeSearchHit,
    SuggestedReply,
)
from schema.node import NodeFetcher
from schema.partners.paging import After, Before, First, Last, loaded_connection
from schema.permissions import allow
from schema.relay import PAGING, Connection, decode_global_id, keyset_connection, page_request

__all__ = ["NODES", "KnowledgeQuery"]


def _article(ctx: Context, pk: int) -> KnowledgeArticle | None:
    return KnowledgeArticle.from_row(service.get_article(ctx.session, principal=ctx.principal, article_id=pk))


def _version(ctx: Context, pk: int) -> KnowledgeArticleVersion | None:
    return KnowledgeArticleVersion.from_row(service.get_version(ctx.session, principal=ctx.principal, version_id=pk))


def _edge(ctx: Context, pk: int) -> KnowledgeEdge | None:
    if ctx.principal.role not in INTERNAL:
        return None
    return KnowledgeEdge.from_row(graph.get_edge(ctx.session, edge_id=pk))


@dataclass(frozen=True)
class _Ranked:
    id: int  # the rank, from 1: pages are cut by it
    hit: search.Hit


#: How ``node(id:)`` fetches this domain's types (customers: served articles and versions only).
NODES: dict[str, NodeFetcher] = {
    "KnowledgeArticle": _article,
    "KnowledgeArticleVersion": _version,
    "KnowledgeEdge": _edge,
}


@strawberry.type
class KnowledgeQuery:
    @strawberry.field(description="A knowledge article by global id (null when absent or not visible: customers "
                      "see served articles only).", metadata=allow(KNOWLEDGE_READERS))
    def knowledge_article(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
            description="The article's global id.")]) -> KnowledgeArticle | None:
        try:
            return _article(info.context, decode_global_id(id, "KnowledgeArticle"))
        except DomainError:
            return None

    @strawberry.field(description="Knowledge articles, oldest first (customers: served ones only). " + PAGING,
                      metadata=allow(KNOWLEDGE_READERS))
    def knowledge_articles(self, info: Info[Context, Any], first: First = None, after: After = None,
                           last: Last = None, before: Before = None,
                           states: Annotated[list[KnowledgeArticleState] | None, strawberry.argument(  # type: ignore[valid-type]
                               description="Only articles in these states (all when absent).")] = None,
                           ) -> Connection[KnowledgeArticle]:
        ctx = info.context
        stmt = service.articles_query(ctx.principal, states=tuple(states or ()))
        return keyset_connection(ctx.session, stmt, wrap=KnowledgeArticle.from_row, settings=ctx.settings,
                                 first=first, after=after, last=last, before=before)

    @strawberry.field(description="The knowledge graph's edges, oldest first (staff and auditors). " + PAGING,
                      metadata=allow(INTERNAL))
    def knowledge_edges(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                        before: Before = None) -> Connection[KnowledgeEdge]:
        ctx = info.context
        return keyset_connection(ctx.session, select(m.KnowledgeEdge), wrap=KnowledgeEdge.from_row,
                                 settings=ctx.settings, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Search the served articles in Chinese (or any text): jieba segmentation, BM25 "
                      "ranking over title and body, best first, each with a highlighted snippet. At most the best "
                      f"{search.MAX_FIRST} are paged. Refusals: EMPTY_QUERY, QUERY_TOO_LONG (over "
                      f"{search.MAX_QUERY} characters). " + PAGING, metadata=allow(KNOWLEDGE_READERS))
    def search_knowledge(self, info: Info[Context, Any], query: Annotated[str, strawberry.argument(
            description=f"What to look for: 1-{search.MAX_QUERY} characters, e.g. 甲状腺癌 等待期.")],
            first: First = None, after: After = None, last: Last = None, before: Before = None,
    ) -> Connection[KnowledgeSearchHit]:
        ctx = info.context
        request = page_request(first, after, last, before, ctx.settings)
        hits = search.search(ctx.session, query=query, first=search.MAX_FIRST)
        ranked = [_Ranked(rank, hit) for rank, hit in enumerate(hits, 1)]  # cursors: the rank
        return loaded_connection(ranked, request,  # type: ignore[return-value]
                                 lambda r: KnowledgeSearchHit.from_hit(r.hit, rank=r.id))

    @strawberry.field(description="Is this diagnosis covered by this product? Answered by traversal of the knowledge "
                      "graph, with the path and the served articles as evidence. A customer asks about products of "
                      "their own policies only. Refusals: UNKNOWN_PRODUCT, BAD_ICD10, NOT_YOUR_PRODUCT.",
                      metadata=allow(KNOWLEDGE_READERS))
    def coverage_answer(self, info: Info[Context, Any],
                        product: Annotated[str, strawberry.argument(description="The product's code.")],
                        diagnosis: Annotated[str, strawberry.argument(
                            description="An ICD-10 category or subcategory (WHO list), e.g. C73 or C34.1.")],
                        ) -> CoverageAnswer:
        ctx = info.context
        return CoverageAnswer.from_answer(graph.coverage(ctx.session, principal=ctx.principal, product_code=product,
                                                         icd10=diagnosis))

    @strawberry.field(description="Agent assist: for a consultation's text, the top served articles and suggested "
                      "replies (their reply templates). The text is not stored. Refusals: EMPTY_QUERY, "
                      f"QUERY_TOO_LONG (over {search.MAX_TEXT} characters).", metadata=allow(KNOWLEDGE_ASSISTED))
    def agent_assist(self, info: Info[Context, Any], text: Annotated[str, strawberry.argument(
            description=f"The consultation's text: 1-{search.MAX_TEXT} characters.")],
            first: Annotated[int, strawberry.argument(description="How many articles (0-10).")] = 3) -> AgentAssist:
        ctx = info.context
        result = search.assist(ctx.session, text=text, first=first)
        return AgentAssist(keywords=result.keywords,
                           articles=[KnowledgeSearchHit.from_hit(h, rank=i) for i, h in enumerate(result.hits, 1)],
                           suggested_replies=[SuggestedReply(text=t, article_pk=h.article_id)
                                              for t, h in result.replies], diagnoses=result.diagnoses)
