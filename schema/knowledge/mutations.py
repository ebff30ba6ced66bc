"""Mutations of the knowledge domain: write, submit, review (four eyes) and retire articles; link the graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from core.roles import KNOWLEDGE_APPROVERS, KNOWLEDGE_EDITORS, MANAGERS
from resolvers.knowledge import graph, search, service
from resolvers.knowledge import models as m
from schema.context import Context
from schema.errors import run_mutation
from schema.knowledge.enums import (
    KnowledgeEdgeKind,
    KnowledgeNodeKind,
    KnowledgeRejectionReason,
    KnowledgeReviewDecision,
)
from schema.knowledge.errors import (
    CreateKnowledgeArticleError,
    EditKnowledgeArticleError,
    LinkKnowledgeError,
    RebuildKnowledgeIndexError,
    RetireKnowledgeArticleError,
    ReviewKnowledgeArticleError,
    SubmitKnowledgeArticleError,
    UnlinkKnowledgeError,
)
from schema.knowledge.types import KnowledgeArticle, KnowledgeEdge
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["KnowledgeMutation"]

P = TypeVar("P")

INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
ERRORS_DOC = "Every refusal (empty on success): field, code, message."
ARTICLE_DOC = "The article as the mutation left it (null when refused)."
_VERBATIM = "Stored and returned as written, markup included."


@strawberry.input(description="A new article (its first version is a DRAFT).")
class CreateKnowledgeArticleInput:
    title: str = strawberry.field(description=f"1-200 characters. {_VERBATIM}")
    body: str = strawberry.field(description=f"1-20,000 characters. {_VERBATIM}")
    reply_templates: list[str] = strawberry.field(default_factory=list,
                                                  description=f"At most 10 suggested replies, each 1-1,000 "
                                                              f"characters. {_VERBATIM}")


@strawberry.input(description="Change an article: the draft, or a new draft version of a published one.")
class EditKnowledgeArticleInput:
    article_id: strawberry.ID = strawberry.field(description="The article's global id.")
    title: str | None = strawberry.field(default=None, description="A new title (unchanged when null).")
    body: str | None = strawberry.field(default=None, description="A new body (unchanged when null).")
    reply_templates: list[str] | None = strawberry.field(default=None,
                                                         description="New reply templates (unchanged when null).")
    expected_version: int | None = strawberry.field(default=None, description="Refuse (STALE_VERSION) unless the "
                                                                              "article is at this version.")


@strawberry.input(description="One article to act on.")
class KnowledgeArticleActionInput:
    article_id: strawberry.ID = strawberry.field(description="The article's global id.")
    expected_version: int | None = strawberry.field(default=None, description="Refuse (STALE_VERSION) unless the "
                                                                              "article is at this version.")


@strawberry.input(description="An approver's decision on the version in review.")
class ReviewKnowledgeArticleInput:
    article_id: strawberry.ID = strawberry.field(description="The article's global id.")
    decision: KnowledgeReviewDecision = strawberry.field(description="APPROVE publishes; REJECT sends it back.")
    reason: KnowledgeRejectionReason | None = strawberry.field(default=None,
                                                               description="Why it is rejected (REJECT only).")
    expected_version: int | None = strawberry.field(default=None, description="Refuse (STALE_VERSION) unless the "
                                                                              "article is at this version.")


@strawberry.input(description="A node of the knowledge graph, by kind and key (created on first use).")
class KnowledgeNodeInput:
    kind: KnowledgeNodeKind = strawberry.field(description="What it stands for.")  # type: ignore[valid-type]
    key: str = strawberry.field(description="A product code, an ICD-10 code or block, a benefit's or exclusion's "
                                            "code, or an article's global id.")
    label: str | None = strawberry.field(default=None, description="A display name (at most 200 characters; "
                                                                   "default: the product's or ICD-10 name).")


@strawberry.input(description="An edge to add: source --kind--> target.")
class LinkKnowledgeInput:
    source: KnowledgeNodeInput = strawberry.field(description="Where the edge starts.")
    kind: KnowledgeEdgeKind = strawberry.field(description="What it says.")  # type: ignore[valid-type]
    target: KnowledgeNodeInput = strawberry.field(description="Where it ends.")


@strawberry.input(description="An edge to remove.")
class UnlinkKnowledgeInput:
    edge_id: strawberry.ID = strawberry.field(description="The edge's global id.")


@strawberry.type(description="The result of createKnowledgeArticle.")
@access(PUBLIC)
class CreateKnowledgeArticlePayload:
    article: KnowledgeArticle | None = strawberry.field(description=ARTICLE_DOC)
    errors: list[CreateKnowledgeArticleError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of editKnowledgeArticle.")
@access(PUBLIC)
class EditKnowledgeArticlePayload:
    article: KnowledgeArticle | None = strawberry.field(description=ARTICLE_DOC)
    errors: list[EditKnowledgeArticleError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of submitKnowledgeArticle.")
@access(PUBLIC)
class SubmitKnowledgeArticlePayload:
    article: KnowledgeArticle | None = strawberry.field(description=ARTICLE_DOC)
    errors: list[SubmitKnowledgeArticleError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of reviewKnowledgeArticle.")
@access(PUBLIC)
class ReviewKnowledgeArticlePayload:
    article: KnowledgeArticle | None = strawberry.field(description=ARTICLE_DOC)
    errors: list[ReviewKnowledgeArticleError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of retireKnowledgeArticle.")
@access(PUBLIC)
class RetireKnowledgeArticlePayload:
    article: KnowledgeArticle | None = strawberry.field(description=ARTICLE_DOC)
    errors: list[RetireKnowledgeArticleError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of linkKnowledge.")
@access(PUBLIC)
class LinkKnowledgePayload:
    edge: KnowledgeEdge | None = strawberry.field(description="The edge added (null when refused).")
    errors: list[LinkKnowledgeError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of unlinkKnowledge.")
@access(PUBLIC)
class UnlinkKnowledgePayload:
    removed_edge_id: strawberry.ID | None = strawberry.field(description="The removed edge's global id (null when "
                                                                         "refused).")
    errors: list[UnlinkKnowledgeError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of rebuildKnowledgeIndex.")
@access(PUBLIC)
class RebuildKnowledgeIndexPayload:
    articles: int | None = strawberry.field(description="How many served articles this process's index holds now.")
    errors: list[RebuildKnowledgeIndexError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


def _article_id(value: strawberry.ID) -> int:
    return decode_global_id(value, "KnowledgeArticle", field="articleId")


def _article_mutation(info: Info[Context, Any], action: str, data: Any, work: Callable[[Session], m.KnowledgeArticle],
                      codes: Any, payload: Callable[..., P]) -> P:
    row, errors = run_mutation(info, action, data, work, codes=codes,
                               target=lambda r: None if r is None else encode_global_id("KnowledgeArticle", r.id))
    return payload(article=KnowledgeArticle.from_row(row) if row else None, errors=errors)


def _ref(node: KnowledgeNodeInput, at: str) -> graph.NodeRef:
    key = node.key
    if node.kind is m.NodeKind.ARTICLE:
        key = str(decode_global_id(strawberry.ID(node.key), "KnowledgeArticle", field=f"{at}.key"))
    return graph.NodeRef(m.NodeKind(node.kind), key, node.label)


@strawberry.type
class KnowledgeMutation:
    @strawberry.mutation(description="Write a new article (version 1, a DRAFT). Knowledge editors.",
                         metadata=allow(KNOWLEDGE_EDITORS))
    def create_knowledge_article(self, info: Info[Context, Any], input: Annotated[
            CreateKnowledgeArticleInput, INPUT]) -> CreateKnowledgeArticlePayload:
        ctx = info.context
        return _article_mutation(info, "createKnowledgeArticle", input, lambda s: service.create_article(
            s, principal=ctx.principal, title=input.title, body=input.body, reply_templates=input.reply_templates,
            now=ctx.now()), CreateKnowledgeArticleError, CreateKnowledgeArticlePayload)

    @strawberry.mutation(description="Change an article's draft; on a published or retired article this starts a "
                         "new DRAFT version (the published one stays served until the new one is approved). "
                         "Refused while a version is in review (IN_REVIEW).", metadata=allow(KNOWLEDGE_EDITORS))
    def edit_knowledge_article(self, info: Info[Context, Any], input: Annotated[
            EditKnowledgeArticleInput, INPUT]) -> EditKnowledgeArticlePayload:
        ctx = info.context
        return _article_mutation(info, "editKnowledgeArticle", input, lambda s: service.edit_article(
            s, principal=ctx.principal, article_id=_article_id(input.article_id), title=input.title, body=input.body,
            reply_templates=input.reply_templates, expected_version=input.expected_version, now=ctx.now()),
            EditKnowledgeArticleError, EditKnowledgeArticlePayload)

    @strawberry.mutation(description="Send the draft to review.", metadata=allow(KNOWLEDGE_EDITORS))
    def submit_knowledge_article(self, info: Info[Context, Any], input: Annotated[
            KnowledgeArticleActionInput, INPUT]) -> SubmitKnowledgeArticlePayload:
        ctx = info.context
        return _article_mutation(info, "submitKnowledgeArticle", input, lambda s: service.submit_article(
            s, principal=ctx.principal, article_id=_article_id(input.article_id),
            expected_version=input.expected_version, now=ctx.now()),
            SubmitKnowledgeArticleError, SubmitKnowledgeArticlePayload)

    @strawberry.mutation(description="Approve (publish: served from now on) or reject (back to draft, with a reason) "
                         "the version in review. Four eyes: never a version you wrote or submitted (OWN_VERSION).",
                         metadata=allow(KNOWLEDGE_APPROVERS))
    def review_knowledge_article(self, info: Info[Context, Any], input: Annotated[
            ReviewKnowledgeArticleInput, INPUT]) -> ReviewKnowledgeArticlePayload:
        ctx = info.context
        return _article_mutation(info, "reviewKnowledgeArticle", input, lambda s: service.review_article(
            s, principal=ctx.principal, article_id=_article_id(input.article_id),
            approve=input.decision is KnowledgeReviewDecision.APPROVE,
            reason=input.reason.name if input.reason else None, expected_version=input.expected_version,
            now=ctx.now()), ReviewKnowledgeArticleError, ReviewKnowledgeArticlePayload)

    @strawberry.mutation(description="Stop serving a published article.", metadata=allow(KNOWLEDGE_APPROVERS))
    def retire_knowledge_article(self, info: Info[Context, Any], input: Annotated[
            KnowledgeArticleActionInput, INPUT]) -> RetireKnowledgeArticlePayload:
        ctx = info.context
        return _article_mutation(info, "retireKnowledgeArticle", input, lambda s: service.retire_article(
            s, principal=ctx.principal, article_id=_article_id(input.article_id),
            expected_version=input.expected_version, now=ctx.now()),
            RetireKnowledgeArticleError, RetireKnowledgeArticlePayload)

    @strawberry.mutation(description="Add an edge to the knowledge graph (nodes are created on first use); every "
                         "input error at once. Approvers.", metadata=allow(KNOWLEDGE_APPROVERS))
    def link_knowledge(self, info: Info[Context, Any], input: Annotated[LinkKnowledgeInput, INPUT]
                       ) -> LinkKnowledgePayload:
        ctx = info.context
        row, errors = run_mutation(info, "linkKnowledge", input, lambda s: graph.link(
            s, principal=ctx.principal, source=_ref(input.source, "source"), kind=m.EdgeKind(input.kind),
            target=_ref(input.target, "target"), now=ctx.now()), codes=LinkKnowledgeError,
            target=lambda r: None if r is None else encode_global_id("KnowledgeEdge", r.id))
        return LinkKnowledgePayload(edge=KnowledgeEdge.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Remove an edge of the knowledge graph. Approvers.",
                         metadata=allow(KNOWLEDGE_APPROVERS))
    def unlink_knowledge(self, info: Info[Context, Any], input: Annotated[UnlinkKnowledgeInput, INPUT]
                         ) -> UnlinkKnowledgePayload:
        ctx = info.context
        row, errors = run_mutation(info, "unlinkKnowledge", input, lambda s: graph.unlink(
            s, principal=ctx.principal, edge_id=decode_global_id(input.edge_id, "KnowledgeEdge", field="edgeId")),
            codes=UnlinkKnowledgeError)
        return UnlinkKnowledgePayload(removed_edge_id=strawberry.ID(encode_global_id("KnowledgeEdge", row.id))
                                      if row else None, errors=errors)

    @strawberry.mutation(description="Rebuild this process's search index from the database (it also catches up by "
                         "itself on every search). Managers.", metadata=allow(MANAGERS))
    def rebuild_knowledge_index(self, info: Info[Context, Any]) -> RebuildKnowledgeIndexPayload:
        count, errors = run_mutation(info, "rebuildKnowledgeIndex", {}, lambda s: search.rebuild(s),
                                     codes=RebuildKnowledgeIndexError)
        return RebuildKnowledgeIndexPayload(articles=count, errors=errors)
