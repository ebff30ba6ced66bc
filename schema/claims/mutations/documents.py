"""Mutations on a claim's documents: requests for supplementary documents, paper originals."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import ADJUSTERS, ORIGINAL_RECEIVERS
from resolvers.claims import documents as doc_service
from schema.claims.inputs import OriginalReceivedInput, RequestDocumentInput
from schema.claims.mutations.shared import claim_id
from schema.claims.types import ClaimDocument, DocumentRequest
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id

__all__ = ["DocumentMutations", "DocumentPayload", "DocumentRequestPayload"]


@strawberry.type
@access(PUBLIC)
class DocumentRequestPayload:
    document_request: DocumentRequest | None
    errors: list[UserError]


@strawberry.type
@access(PUBLIC)
class DocumentPayload:
    document: ClaimDocument | None
    errors: list[UserError]


@strawberry.type
class DocumentMutations:
    @strawberry.mutation(description="Ask for a supplementary document by a due date.", metadata=allow(ADJUSTERS))
    def request_claim_document(self, info: Info[Context, Any], input: RequestDocumentInput) -> DocumentRequestPayload:
        ctx = info.context
        row, errors = run_mutation(info, "requestClaimDocument", input, lambda s: doc_service.request_document(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), kind=input.kind, due_on=input.due_on,
            note=input.note, today=ctx.today()))
        return DocumentRequestPayload(document_request=DocumentRequest.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Record that a document's paper original arrived by post.",
                         metadata=allow(ORIGINAL_RECEIVERS))
    def record_original_document(self, info: Info[Context, Any], input: OriginalReceivedInput) -> DocumentPayload:
        ctx = info.context
        row, errors = run_mutation(info, "recordOriginalDocument", input, lambda s: doc_service.record_original(
            s, principal=ctx.principal, document_id=decode_global_id(input.document_id, "ClaimDocument",
                                                                     field="documentId"),
            received_on=input.received_on, tracking=input.tracking_number, today=ctx.today()))
        return DocumentPayload(document=ClaimDocument.from_row(row) if row else None, errors=errors)
