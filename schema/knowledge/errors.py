"""The error type of every knowledge mutation: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode``.

Each lists exactly the codes its services (``resolvers/knowledge/*``) refuse with, plus the codes
every mutation can get (``schema.errors.COMMON_CODES``).
"""

from __future__ import annotations

from schema.errors import mutation_errors

__all__ = ["CreateKnowledgeArticleError", "EditKnowledgeArticleError", "LinkKnowledgeError",
           "RebuildKnowledgeIndexError", "RetireKnowledgeArticleError", "ReviewKnowledgeArticleError",
           "SubmitKnowledgeArticleError", "UnlinkKnowledgeError"]

_TEXT = {
    "EMPTY_TEXT": "The title, the body or a reply template is empty (the field says which).",
    "TEXT_TOO_LONG": "Title over 200, body over 20,000 or a reply template over 1,000 characters.",
    "TOO_MANY_TEMPLATES": "More than 10 reply templates.",
    "BAD_TEXT": "A text contains a NUL character (the field says which).",
}
_TRANSITION = "The newest version's state does not allow this (see KnowledgeVersionState); the message names it."

CreateKnowledgeArticleError = mutation_errors("CreateKnowledgeArticle", _TEXT)
EditKnowledgeArticleError = mutation_errors("EditKnowledgeArticle", {
    **_TEXT, "IN_REVIEW": "The newest version is in review: wait for the approver's decision."})
SubmitKnowledgeArticleError = mutation_errors("SubmitKnowledgeArticle", {"INVALID_TRANSITION": _TRANSITION})
ReviewKnowledgeArticleError = mutation_errors("ReviewKnowledgeArticle", {
    "INVALID_TRANSITION": _TRANSITION,
    "OWN_VERSION": "Four eyes: you wrote or submitted this version; another approver decides.",
    "REASON_REQUIRED": "A rejection names its reason.",
    "BAD_REASON": "The reason is not one of KnowledgeRejectionReason.",
})
RetireKnowledgeArticleError = mutation_errors("RetireKnowledgeArticle", {"INVALID_TRANSITION": _TRANSITION})
LinkKnowledgeError = mutation_errors("LinkKnowledge", {
    "BAD_EDGE": "This kind of edge does not join these kinds of node (see KnowledgeEdgeKind).",
    "UNKNOWN_PRODUCT": "No product has this code.",
    "UNKNOWN_ICD10": "Not an ICD-10 category, subcategory, block or chapter of the WHO list.",
    "UNKNOWN_ARTICLE": "No article has this id.",
    "BAD_CODE": "A coverage item's or exclusion's code is 2-40 of A-Z, 0-9 and _, starting with a letter.",
    "NOT_A_BENEFIT": "The coverage item is not one of the product's coverage items.",
    "EDGE_EXISTS": "The same edge exists already.",
})
UnlinkKnowledgeError = mutation_errors("UnlinkKnowledge", {})
RebuildKnowledgeIndexError = mutation_errors("RebuildKnowledgeIndex", {})
