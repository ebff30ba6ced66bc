"""Mutations on a claim's documents: requests for supplementary documents, paper originals."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import ADJUSTERS, ORIGINAL_RECEIVERS
from resolvers.claims import documents as doc_service
from schema.claims.errors import RecordOriginalDocumentError, RequestClaimDocumentError
from schema.claims.inputs import OriginalReceivedInput, RequestDocumentInput
from schema.claims.mutations.shared import ERRORS_DOC, INPUT, claim_id
from schema.claims.types import ClaimDocument, DocumentRequest
from schema.context import Context
from schema.errors import run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id

__all__ = ["DocumentMutations", "RecordOriginalDocumentPayload", "RequestClaimDocumentPayload"]


@strawberry.type(description="The result of requestClaimDocument.")
@access(PUBLIC)
class RequestClaimDocumentPayload:
    document_request: DocumentRequest | None = strawberry.field(description="The request (null when refused).")
    errors: list[RequestClaimDocumentError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of recordOriginalDocument.")
@access(PUBLIC)
class RecordOriginalDocumentPayload:
    document: ClaimDocument | None = strawberry.field(description="The document (null when refused).")
    errors: list[RecordOriginalDocumentError] = strawberry.field(  # type: ignore[valid-type]
        description=ERRORS_DOC)


@strawberry.type
class DocumentMutations:
    @strawberry.mutation(description="Ask for a supplementary document by a due date (within the next 90 days), "
                         "while the claim takes documents; the next upload of its kind fulfils it.",
                         metadata=allow(ADJUSTERS))
    def request_claim_document(self, info: Info[Context, Any],
                               input: Annotated[RequestDocumentInput, INPUT]) -> RequestClaimDocumentPayload:
        ctx = info.context
        row, errors = run_mutation(info, "requestClaimDocument", input, lambda s: doc_service.request_document(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), kind=input.kind, due_on=input.due_on,
            note=input.note, today=ctx.today()), codes=RequestClaimDocumentError)
        return RequestClaimDocumentPayload(document_request=DocumentRequest.from_row(row) if row else None,
                                           errors=errors)

    @strawberry.mutation(description="Record that a document's paper original arrived by post (on a date not "
                         "after today).", metadata=allow(ORIGINAL_RECEIVERS))
    def record_original_document(self, info: Info[Context, Any],
                                 input: Annotated[OriginalReceivedInput, INPUT]) -> RecordOriginalDocumentPayload:
        ctx = info.context
        row, errors = run_mutation(info, "recordOriginalDocument", input, lambda s: doc_service.record_original(
            s, principal=ctx.principal, document_id=decode_global_id(input.document_id, "ClaimDocument",
                                                                     field="documentId"),
            received_on=input.received_on, tracking=input.tracking_number, today=ctx.today()),
            codes=RecordOriginalDocumentError)
        return RecordOriginalDocumentPayload(document=ClaimDocument.from_row(row) if row else None, errors=errors)
