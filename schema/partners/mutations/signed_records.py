"""Mutations submitting EIP-712 signed records, one or a batch (approved partners, for their assignments)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import DomainError, ValidationError
from core.roles import PARTNERS
from partners import ledger_seam, signed_records
from partners import models as m
from schema.context import Context
from schema.errors import run_mutation
from schema.partners.arguments import INPUT
from schema.partners.errors import REJECT_CODES, SubmitSignedRecordError, SubmitSignedRecordsError
from schema.partners.inputs import SignedRecordInput
from schema.partners.types import SignedRecord
from schema.permissions import PUBLIC, access, allow
from schema.relay import encode_global_id

__all__ = ["MAX_BATCH", "SignedRecordMutations", "SignedRecordResult", "SubmitSignedRecordPayload",
           "SubmitSignedRecordsPayload"]

MAX_BATCH = 100
_CHECKS = ("Checks, in order (the first failing one answers): " + ", ".join(REJECT_CODES) + ". An accepted record "
           "is committed to the ledger and anchored with the next batch; its proof is PENDING until then.")


@strawberry.type(description="The result of submitSignedRecord.")
@access(PUBLIC)
class SubmitSignedRecordPayload:
    record: SignedRecord | None = strawberry.field(description="The accepted record (null when refused).")
    errors: list[SubmitSignedRecordError] = strawberry.field(  # type: ignore[valid-type]
        description="Why it was refused (empty on success). Nothing is stored for a refused record.")


@strawberry.type(description="The outcome of one record of a batch.")
@access(PUBLIC)
class SignedRecordResult:
    index: int = strawberry.field(description="The record's position in `inputs` (from 0).")
    record: SignedRecord | None = strawberry.field(description="The accepted record (null when refused).")
    errors: list[SubmitSignedRecordsError] = strawberry.field(  # type: ignore[valid-type]
        description="Why this record was refused (empty when accepted).")


@strawberry.type(description="The result of submitSignedRecords.")
@access(PUBLIC)
class SubmitSignedRecordsPayload:
    results: list[SignedRecordResult] = strawberry.field(
        description="One result per input, in input order (empty when the batch as a whole was refused).")
    accepted: int = strawberry.field(description="How many records were accepted.")
    errors: list[SubmitSignedRecordsError] = strawberry.field(  # type: ignore[valid-type]
        description="Refusals of the batch as a whole (e.g. TOO_MANY); each record's own are in results.")


def _record_errors(exc: DomainError | None) -> list[Any]:
    if exc is None:
        return []
    codes = SubmitSignedRecordsError.Code  # type: ignore[attr-defined]
    code = codes.__members__.get(exc.code, codes["INVALID"])
    return [SubmitSignedRecordsError(field=exc.field, code=code, message=exc.message)]


@strawberry.type
class SignedRecordMutations:
    @strawberry.mutation(description="Submit an EIP-712 signed record (SurveyReport, HospitalBill or CreditReport) for "
                         f"one of your assignments (approved partners). {_CHECKS}", metadata=allow(PARTNERS))
    def submit_signed_record(
        self, info: Info[Context, Any], input: Annotated[SignedRecordInput, INPUT]
    ) -> SubmitSignedRecordPayload:
        ctx = info.context
        row, errors = run_mutation(info, "submitSignedRecord", input, lambda s: signed_records.submit_signed_record(
            s, principal=ctx.principal, domain=ledger_seam.signing_domain(s, ctx.settings),
            typed_data=input.typed_data, signature=input.signature, now=ctx.now()), codes=SubmitSignedRecordError,
            target=lambda r: None if r is None else encode_global_id("SignedRecord", r.id))
        return SubmitSignedRecordPayload(record=SignedRecord.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description=f"Submit up to {MAX_BATCH} signed records at once (approved partners); each is "
                         "accepted or refused on its own, as submitSignedRecord would.", metadata=allow(PARTNERS))
    def submit_signed_records(
        self, info: Info[Context, Any],
        inputs: Annotated[list[SignedRecordInput], strawberry.argument(
            description=f"The records, at most {MAX_BATCH}.")],
    ) -> SubmitSignedRecordsPayload:
        ctx = info.context

        def work(s: Any) -> list[tuple[signed_records.Outcome, m.SignedRecord | None]]:
            if len(inputs) > MAX_BATCH:
                raise ValidationError(f"at most {MAX_BATCH} records per call", field="inputs", code="TOO_MANY")
            outcomes = signed_records.verify_and_store(
                s, principal=ctx.principal, domain=ledger_seam.signing_domain(s, ctx.settings), now=ctx.now(),
                submissions=[signed_records.Submission(i.typed_data, i.signature) for i in inputs])
            return [(o, s.get(m.SignedRecord, o.record_id) if o.record_id else None) for o in outcomes]

        done, errors = run_mutation(info, "submitSignedRecords", {"count": len(inputs), "inputs": inputs}, work,
                                    codes=SubmitSignedRecordsError)
        results = [
            SignedRecordResult(index=i, record=SignedRecord.from_row(row) if row else None,
                               errors=_record_errors(o.error))
            for i, (o, row) in enumerate(done or [])
        ]
        return SubmitSignedRecordsPayload(results=results, accepted=sum(1 for r in results if r.record), errors=errors)
