"""Mutations on assignments: a partner assigned to a case."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.errors import ValidationError
from core.roles import ASSIGNERS
from partners import assignments as assignment_service
from partners import models as m
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.partners.inputs import CreateAssignmentInput
from schema.partners.types import Assignment
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["AssignmentMutations", "AssignmentPayload"]


@strawberry.type
@access(PUBLIC)
class AssignmentPayload:
    assignment: Assignment | None
    errors: list[UserError]


@strawberry.type
class AssignmentMutations:
    @strawberry.mutation(description="Assign an approved partner to a case; it hears of it by webhook.",
                         metadata=allow(ASSIGNERS))
    def create_assignment(self, info: Info[Context, Any], input: CreateAssignmentInput) -> AssignmentPayload:
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

        row, errors = run_mutation(info, "createAssignment", input, work,
                                   target=lambda a: None if a is None else encode_global_id("Assignment", a.id))
        return AssignmentPayload(assignment=Assignment.from_row(row) if row else None, errors=errors)
