"""GraphQL enums of the knowledge domain: the service's enums under their schema names, each value described."""

from __future__ import annotations

import enum

import strawberry

from resolvers.knowledge import graph
from resolvers.knowledge import models as m
from schema.enums import described_enum as _described

__all__ = [
    "CoverageVerdict",
    "KnowledgeArticleState",
    "KnowledgeEdgeKind",
    "KnowledgeNodeKind",
    "KnowledgeRejectionReason",
    "KnowledgeReviewDecision",
    "KnowledgeVersionState",
]

KnowledgeArticleState = _described(m.ArticleState, name="KnowledgeArticleState",
                                   description="Whether an article is served.", values={
    "DRAFT": "Never published yet: staff see it, customers and search do not.",
    "PUBLISHED": "A version is approved and served (a newer draft may be in the works).",
    "RETIRED": "No longer served.",
})
KnowledgeVersionState = _described(m.VersionState, name="KnowledgeVersionState",
                                   description="Where one version of an article stands.", values={
    "DRAFT": "Being written (or sent back by a reviewer): knowledge editors change it.",
    "IN_REVIEW": "Submitted: an approver who did not write or submit it approves or rejects it.",
    "PUBLISHED": "Approved: the version served to customers, the bot, search and agent assist.",
    "SUPERSEDED": "Was published; a later approved version replaced it.",
    "RETIRED": "Was published when the article was retired.",
})
KnowledgeNodeKind = _described(m.NodeKind, name="KnowledgeNodeKind",
                               description="What a knowledge-graph node stands for (and what its key is).", values={
    "ARTICLE": "A knowledge article (key: the article's global id).",
    "PRODUCT": "An insurance product (key: the product's code).",
    "COVERAGE_ITEM": "A benefit (key: its code, e.g. INPATIENT; a product covers it only if it is one of the "
                     "product's coverage items).",
    "ICD10": "An ICD-10 category, subcategory, block or chapter (key: C73, C34.1, C00-C97, XV), checked against "
             "the WHO list.",
    "EXCLUSION": "An exclusion (key: a code, e.g. WAITING_PERIOD; label: its wording).",
})
KnowledgeEdgeKind = _described(m.EdgeKind, name="KnowledgeEdgeKind",
                               description="A typed edge of the knowledge graph.", values={
    "COVERS": "PRODUCT covers COVERAGE_ITEM; COVERAGE_ITEM covers ICD10.",
    "EXCLUDES": "EXCLUSION excludes ICD10.",
    "EXPLAINS": "ARTICLE explains any other node (the article is evidence for answers through it).",
    "APPLIES_TO": "EXCLUSION applies to PRODUCT.",
})
CoverageVerdict = _described(graph.Verdict, name="CoverageVerdict",
                             description="The answer to \"is this diagnosis covered by this product\".", values={
    "COVERED": "A coverage item of the product covers the code (or a category or block containing it).",
    "EXCLUDED": "An exclusion applying to the product excludes it (exclusions win over covers).",
    "UNKNOWN": "The knowledge graph does not say: hand over to a person.",
})


@strawberry.enum(description="An approver's decision on a version in review.")
class KnowledgeReviewDecision(enum.Enum):
    APPROVE = strawberry.enum_value("approve", description="Publish it: served from now on; the previous "
                                                            "served version is superseded.")
    REJECT = strawberry.enum_value("reject", description="Send it back to draft, with a reason.")


@strawberry.enum(description="Why an approver sent a version back.")
class KnowledgeRejectionReason(enum.Enum):
    INACCURATE = strawberry.enum_value("INACCURATE", description="Says something wrong.")
    INCOMPLETE = strawberry.enum_value("INCOMPLETE", description="Leaves out something the reader needs.")
    UNCLEAR = strawberry.enum_value("UNCLEAR", description="Hard to understand.")
    OUT_OF_DATE = strawberry.enum_value("OUT_OF_DATE", description="No longer true (terms, products changed).")
    NOT_COMPLIANT = strawberry.enum_value("NOT_COMPLIANT", description="Breaks a rule of conduct or disclosure.")
    OTHER = strawberry.enum_value("OTHER", description="Something else (tell the author).")
