"""Mutations on assignments: a partner assigned to a case."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import ValidationError
from core.roles import ASSIGNERS
from partners import assignments as assignment_service
from partners import models as m
from schema.context import Context
from schema.errors import run_mutation
from schema.partners.arguments import INPUT
from schema.partners.errors import CreateAssignmentError
from schema.partners.inputs import CreateAssignmentInput
from schema.partners.types import Assignment
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["AssignmentMutations", "CreateAssignmentPayload"]


@strawberry.type(description="The result of createAssignment.")
@access(PUBLIC)
class CreateAssignmentPayload:
    assignment: Assignment | None = strawberry.field(description="The assignment (null when refused).")
    errors: list[CreateAssignmentError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


@strawberry.type
class AssignmentMutations:
    @strawberry.mutation(description="Assign an approved partner to a case (adjusters, managers, admins); the partner "
                         "hears of it by webhook (assignment.created) and may then submit a signed record for it.",
                         metadata=allow(ASSIGNERS))
    def create_assignment(
        self, info: Info[Context, Any], input: Annotated[CreateAssignmentInput, INPUT]
    ) -> CreateAssignmentPayload:
        ctx = info.context

        def work(s: Any) -> m.Assignment:
            inv = None
            if input.investigation_id is not None:
                if not input.investigation_id.isdigit():
                    raise ValidationError("investigation id must be a decimal number", field="investigationId")
                inv = int(input.investigation_id)
            return assignment_service.create_assignment(
                s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
                kind=input.kind, case_reference=input.case_reference, investigation_id=inv, now=ctx.now())

        row, errors = run_mutation(info, "createAssignment", input, work, codes=CreateAssignmentError,
                                   target=lambda a: None if a is None else encode_global_id("Assignment", a.id))
        return CreateAssignmentPayload(assignment=Assignment.from_row(row) if row else None, errors=errors)
