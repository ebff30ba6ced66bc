"""GraphQL object types of the knowledge domain: articles and their versions, graph nodes and edges, search
hits, coverage answers and agent assist.

Text (titles, bodies, reply templates, snippets) is returned exactly as written, markup included:
clients render it as text (escape it); ``snippetHtml`` is the one field that is HTML, escaped by Opsure.
"""

from __future__ import annotations

import datetime as dt
import html
import inspect
from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import INTERNAL, KNOWLEDGE_ASSISTED, KNOWLEDGE_READERS
from resolvers.knowledge import graph
from resolvers.knowledge import models as m
from resolvers.knowledge.search import Hit
from schema.context import Context
from schema.knowledge.enums import (
    CoverageVerdict,
    KnowledgeArticleState,
    KnowledgeEdgeKind,
    KnowledgeNodeKind,
    KnowledgeVersionState,
)
from schema.knowledge.loaders import (
    KnowledgeArticleByIdLoader,
    KnowledgeNodeByIdLoader,
    KnowledgeVersionByIdLoader,
    KnowledgeVersionsByArticleIdLoader,
)
from schema.partners.arguments import gid
from schema.partners.paging import After, Before, First, Last, loaded_connection
from schema.permissions import access, allow
from schema.relay import PAGING, Connection, Node, page_request

__all__ = ["AgentAssist", "CoverageAnswer", "CoverageStep", "KnowledgeArticle", "KnowledgeArticleVersion",
           "KnowledgeEdge", "KnowledgeNode", "KnowledgeSearchHit", "SuggestedReply", "TextRange", "load_article"]

_VERBATIM = "As written, markup included (never interpreted: escape it when rendering)."


def _then(value: Any, fn: Any) -> Any:
    if inspect.isawaitable(value):
        async def later() -> Any:
            return fn(await value)
        return later()
    return fn(value)


@strawberry.type(description="One version of a knowledge article. Customers and the bot read only the served "
                             "(PUBLISHED) version; staff and auditors read every version.")
@access(KNOWLEDGE_READERS)
class KnowledgeArticleVersion(Node):
    number: int = strawberry.field(description="1 for the first version, then 2, 3, ...")
    state: KnowledgeVersionState = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    title: str = strawberry.field(description=f"The title (at most 200 characters). {_VERBATIM}")
    body: str = strawberry.field(description=f"The body (at most 20,000 characters). {_VERBATIM}")
    reply_templates: list[str] = strawberry.field(
        description=f"Suggested replies an agent or the bot may send (at most 10). {_VERBATIM}")
    published_at: dt.datetime | None = strawberry.field(description="When it was approved and published.")
    author: str = strawberry.field(description="Who wrote it (staff and auditors only).", metadata=allow(INTERNAL))
    created_at: dt.datetime = strawberry.field(description="When the version was started.")
    submitted_by: str | None = strawberry.field(description="Who sent it to review (staff and auditors only).",
                                                metadata=allow(INTERNAL))
    reviewed_by: str | None = strawberry.field(description="Who approved or rejected it last (staff and auditors "
                                                           "only).", metadata=allow(INTERNAL))
    reviewed_at: dt.datetime | None = strawberry.field(description="When it was reviewed last.")
    rejection_reason: str | None = strawberry.field(
        description="Why the last review sent it back (a KnowledgeRejectionReason name; staff and auditors only).",
        metadata=allow(INTERNAL))

    @classmethod
    def from_row(cls, row: m.KnowledgeArticleVersion) -> KnowledgeArticleVersion:
        return cls(id=gid("KnowledgeArticleVersion", row.id), number=row.number, state=row.state, title=row.title,
                   body=row.body, reply_templates=list(row.reply_templates), published_at=row.published_at,
                   author=row.author, created_at=row.created_at, submitted_by=row.submitted_by,
                   reviewed_by=row.reviewed_by, reviewed_at=row.reviewed_at, rejection_reason=row.rejection_reason)


@strawberry.type(description="A knowledge article: versions written by knowledge editors and approved by "
                             "another person (four eyes); only the approved version is served. Customers read "
                             "served articles only.")
@access(KNOWLEDGE_READERS)
class KnowledgeArticle(Node):
    state: KnowledgeArticleState = strawberry.field(description="Whether it is served.")  # type: ignore[valid-type]
    version: int = strawberry.field(description="Optimistic-locking version: pass it as expectedVersion (staff and "
                                                "auditors only).", metadata=allow(INTERNAL))
    created_at: dt.datetime = strawberry.field(description="When the article was created.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]
    served_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: m.KnowledgeArticle) -> KnowledgeArticle:
        return cls(id=gid("KnowledgeArticle", row.id), pk=row.id, served_pk=row.served_version_id, state=row.state,
                   version=row.version, created_at=row.created_at, updated_at=row.updated_at)

    @strawberry.field(description="The approved version served to customers, the bot and search (null when not "
                                  "published).")
    def served(self, info: Info[Context, Any]) -> KnowledgeArticleVersion | None:
        if self.served_pk is None:
            return None
        return info.context.loader(KnowledgeVersionByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.served_pk, KnowledgeArticleVersion.from_row)

    @strawberry.field(description="The newest version: a draft, one in review, or the served one (staff and "
                                  "auditors only).", metadata=allow(INTERNAL))
    def latest(self, info: Info[Context, Any]) -> KnowledgeArticleVersion:
        rows = info.context.loader(KnowledgeVersionsByArticleIdLoader).get(self.pk)
        return _then(rows, lambda r: KnowledgeArticleVersion.from_row(r[-1]))  # type: ignore[no-any-return]

    @strawberry.field(description="Every version, oldest first (staff and auditors only; `last: 1` is the newest). "
                                  + PAGING,
                      metadata=allow(INTERNAL))
    def versions(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                 before: Before = None) -> Connection[KnowledgeArticleVersion]:
        ctx = info.context
        return loaded_connection(ctx.loader(KnowledgeVersionsByArticleIdLoader).get(self.pk),  # type: ignore[return-value]
                                 page_request(first, after, last, before, ctx.settings),
                                 KnowledgeArticleVersion.from_row)


def load_article(ctx: Context, article_id: int) -> Any:
    """The article ``article_id`` wrapped (or an awaitable of it), batched with its siblings."""
    return ctx.loader(KnowledgeArticleByIdLoader).get_wrapped(article_id, KnowledgeArticle.from_row)


@strawberry.type(description="A node of the knowledge graph.")
@access(KNOWLEDGE_READERS)
class KnowledgeNode:
    kind: KnowledgeNodeKind = strawberry.field(description="What it stands for.")  # type: ignore[valid-type]
    key: str = strawberry.field(description="Its key: a product code, an ICD-10 code or block, a benefit's or "
                                            "exclusion's code, an article's global id.")
    label: str = strawberry.field(description="A display name (Chinese for common ICD-10 codes; the WHO English "
                                              "name otherwise; an exclusion's wording).")

    @classmethod
    def from_row(cls, row: m.KnowledgeNode) -> KnowledgeNode:
        key = gid("KnowledgeArticle", int(row.key)) if row.kind is m.NodeKind.ARTICLE else row.key
        return cls(kind=row.kind, key=key, label=row.label)


@strawberry.type(description="A typed edge of the knowledge graph (approvers maintain them).")
@access(INTERNAL)
class KnowledgeEdge(Node):
    kind: KnowledgeEdgeKind = strawberry.field(description="What the edge says.")  # type: ignore[valid-type]
    created_by: str = strawberry.field(description="Who added it.")
    created_at: dt.datetime = strawberry.field(description="When it was added.")
    source_pk: strawberry.Private[int]
    target_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.KnowledgeEdge) -> KnowledgeEdge:
        return cls(id=gid("KnowledgeEdge", row.id), kind=row.kind, created_by=row.created_by,
                   created_at=row.created_at, source_pk=row.source_id, target_pk=row.target_id)

    @strawberry.field(description="Where the edge starts.")
    def source(self, info: Info[Context, Any]) -> KnowledgeNode:
        return info.context.loader(KnowledgeNodeByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.source_pk, KnowledgeNode.from_row)

    @strawberry.field(description="Where the edge ends.")
    def target(self, info: Info[Context, Any]) -> KnowledgeNode:
        return info.context.loader(KnowledgeNodeByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.target_pk, KnowledgeNode.from_row)


@strawberry.type(description="A matched range of a snippet.")
@access(KNOWLEDGE_READERS)
class TextRange:
    start: int = strawberry.field(description="Offset of the first matched character (in characters, from 0).")
    length: int = strawberry.field(description="How many characters matched.")


def _marked(snippet: str, ranges: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, length in ranges:
        out += [html.escape(snippet[at:start]), "<mark>", html.escape(snippet[start:start + length]), "</mark>"]
        at = start + length
    out.append(html.escape(snippet[at:]))
    return "".join(out)


@strawberry.type(description="An article found by searchKnowledge or agent assist, with its BM25 score and a "
                             "highlighted snippet of the served version's body.")
@access(KNOWLEDGE_READERS)
class KnowledgeSearchHit:
    rank: int = strawberry.field(description="1 for the best match, then 2, 3, ...")
    score: float = strawberry.field(description="BM25 score (higher is better; comparable within one query only).")
    title: str = strawberry.field(description=f"The served version's title. {_VERBATIM}")
    snippet: str = strawberry.field(description="Up to 80 characters of the body around the densest run of matched "
                                                f"terms. {_VERBATIM}")
    highlights: list[TextRange] = strawberry.field(description="The matched ranges of `snippet`, in order.")
    snippet_html: str = strawberry.field(description="`snippet` as HTML: the text escaped, each matched range in "
                                                     "<mark>…</mark> (safe to insert as HTML).")
    article_pk: strawberry.Private[int]

    @classmethod
    def from_hit(cls, hit: Hit, *, rank: int) -> KnowledgeSearchHit:
        return cls(rank=rank, score=hit.score, title=hit.title, snippet=hit.snippet,
                   highlights=[TextRange(start=a, length=n) for a, n in hit.highlights],
                   snippet_html=_marked(hit.snippet, hit.highlights), article_pk=hit.article_id)

    @strawberry.field(description="The article.")
    def article(self, info: Info[Context, Any]) -> KnowledgeArticle:
        return load_article(info.context, self.article_pk)  # type: ignore[no-any-return]


@strawberry.type(description="One edge of a coverage answer's path.")
@access(KNOWLEDGE_READERS)
class CoverageStep:
    source: KnowledgeNode = strawberry.field(description="Where the edge starts.")
    edge: KnowledgeEdgeKind = strawberry.field(description="What it says.")  # type: ignore[valid-type]
    target: KnowledgeNode = strawberry.field(description="Where it ends.")


@strawberry.type(description="Whether a diagnosis is covered by a product, by traversal of the knowledge graph: "
                             "the verdict, the path that decided it and the served articles as evidence.")
@access(KNOWLEDGE_READERS)
class CoverageAnswer:
    verdict: CoverageVerdict = strawberry.field(description="COVERED, EXCLUDED or UNKNOWN.")  # type: ignore[valid-type]
    product: str = strawberry.field(description="The product's code.")
    product_name: str = strawberry.field(description="The product's name.")
    diagnosis: str = strawberry.field(description="The ICD-10 code asked about, normalised (upper case).")
    diagnosis_label: str = strawberry.field(description="Its name (Chinese for common codes, else WHO English).")
    matched_diagnosis: str | None = strawberry.field(
        description="The graph's ICD-10 node that matched: the code itself or a category or block containing it "
                    "(null when UNKNOWN).")
    path: list[CoverageStep] = strawberry.field(description="The edges that decided it (two; empty when UNKNOWN): "
                                                            "product covers item, item covers code; or exclusion "
                                                            "applies to product, exclusion excludes code.")
    evidence_pks: strawberry.Private[list[int]]

    @classmethod
    def from_answer(cls, a: graph.CoverageAnswer) -> CoverageAnswer:
        return cls(verdict=a.verdict, product=a.product_code, product_name=a.product_name, diagnosis=a.icd10,
                   diagnosis_label=a.icd10_label, matched_diagnosis=a.matched_code,
                   path=[CoverageStep(source=KnowledgeNode.from_row(s.source), edge=s.edge,
                                      target=KnowledgeNode.from_row(s.target)) for s in a.path],
                   evidence_pks=a.evidence_article_ids)

    @strawberry.field(description="Served articles explaining the nodes of the path, the most specific first "
                                  "(at most 5): the source to quote.")
    async def evidence(self, info: Info[Context, Any]) -> list[KnowledgeArticle]:
        out = []
        for pk in self.evidence_pks:
            value = load_article(info.context, pk)
            out.append(await value if inspect.isawaitable(value) else value)
        return out


@strawberry.type(description="A suggested reply: a reply template of a top article.")
@access(KNOWLEDGE_ASSISTED)
class SuggestedReply:
    text: str = strawberry.field(description=f"The reply. {_VERBATIM}")
    article_pk: strawberry.Private[int]

    @strawberry.field(description="The article it comes from.")
    def article(self, info: Info[Context, Any]) -> KnowledgeArticle:
        return load_article(info.context, self.article_pk)  # type: ignore[no-any-return]


@strawberry.type(description="Agent assist for a consultation's text: the top articles and suggested replies.")
@access(KNOWLEDGE_ASSISTED)
class AgentAssist:
    keywords: list[str] = strawberry.field(description="The text's terms that matched the top articles "
                                                       "(jieba segmentation), at most 10.")
    articles: list[KnowledgeSearchHit] = strawberry.field(description="The top articles, best first.")
    suggested_replies: list[SuggestedReply] = strawberry.field(
        description="Reply templates of the top articles, best article first (at most 5).")
    diagnoses: list[str] = strawberry.field(
        description="ICD-10 codes the text names (written codes, or plain Chinese names of common diagnoses such as "
                    "肺癌 or 心梗), in order of mention, at most 5: ask coverageAnswer about the customer's product.")
