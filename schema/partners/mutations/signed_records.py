"""Mutations submitting EIP-712 signed records, one or a batch."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.errors import DomainError, ValidationError
from core.roles import PARTNERS
from partners import ledger_seam, signed_records
from partners import models as m
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.partners.inputs import SignedRecordInput
from schema.partners.types import SignedRecord
from schema.permissions import PUBLIC, access, allow
from schema.relay import encode_global_id

__all__ = ["MAX_BATCH", "SignedRecordMutations", "SignedRecordPayload", "SignedRecordResult", "SubmitSignedRecordsPayload"]


MAX_BATCH = 100


@strawberry.type
@access(PUBLIC)
class SignedRecordPayload:
    record: SignedRecord | None
    errors: list[UserError]


@strawberry.type(description="The outcome of one record of a batch.")
@access(PUBLIC)
class SignedRecordResult:
    index: int
    record: SignedRecord | None
    errors: list[UserError]


@strawberry.type
@access(PUBLIC)
class SubmitSignedRecordsPayload:
    results: list[SignedRecordResult]
    accepted: int
    errors: list[UserError]


def _errors(exc: DomainError) -> list[UserError]:
    return [UserError(field=exc.field, code=exc.code, message=exc.message)]


@strawberry.type
class SignedRecordMutations:
    @strawberry.mutation(description="Submit an EIP-712 signed record (SurveyReport, HospitalBill, CreditReport). "
                         "Refusals: MALFORMED, WRONG_DOMAIN, WRONG_CHAIN, WRONG_CONTRACT, HIGH_S, "
                         "DEADLINE_PASSED, NOT_ASSIGNED, WRONG_SIGNER, KEY_REVOKED, KEY_NOT_YET_VALID, "
                         "KEY_EXPIRED, NONCE_REUSED, PARTNER_NOT_APPROVED.", metadata=allow(PARTNERS))
    def submit_signed_record(self, info: Info[Context, Any], input: SignedRecordInput) -> SignedRecordPayload:
        ctx = info.context
        row, errors = run_mutation(info, "submitSignedRecord", input, lambda s: signed_records.submit_signed_record(
            s, principal=ctx.principal, domain=ledger_seam.signing_domain(s, ctx.settings),
            typed_data=input.typed_data, signature=input.signature, now=ctx.now()),
            target=lambda r: None if r is None else encode_global_id("SignedRecord", r.id))
        return SignedRecordPayload(record=SignedRecord.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description=f"Submit up to {MAX_BATCH} signed records; each is accepted or refused alone.",
                         metadata=allow(PARTNERS))
    def submit_signed_records(self, info: Info[Context, Any], inputs: list[SignedRecordInput]) -> SubmitSignedRecordsPayload:
        ctx = info.context
        if len(inputs) > MAX_BATCH:
            err = ValidationError(f"at most {MAX_BATCH} records per call", field="inputs", code="TOO_MANY")
            return SubmitSignedRecordsPayload(results=[], accepted=0, errors=_errors(err))

        def work(s: Any) -> list[tuple[signed_records.Outcome, m.SignedRecord | None]]:
            outcomes = signed_records.verify_and_store(
                s, principal=ctx.principal, domain=ledger_seam.signing_domain(s, ctx.settings), now=ctx.now(),
                submissions=[signed_records.Submission(i.typed_data, i.signature) for i in inputs])
            return [(o, s.get(m.SignedRecord, o.record_id) if o.record_id else None) for o in outcomes]

        done, errors = run_mutation(info, "submitSignedRecords", {"count": len(inputs), "inputs": inputs}, work)
        results = [
            SignedRecordResult(index=i, record=SignedRecord.from_row(row) if row else None,
                               errors=_errors(o.error) if o.error else [])
            for i, (o, row) in enumerate(done or [])
        ]
        return SubmitSignedRecordsPayload(results=results, accepted=sum(1 for r in results if r.record), errors=errors)
