"""What the claims domain's mutation families share: running a claim mutation, argument mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from resolvers.claims import models as m
from resolvers.claims import service
from schema.claims.inputs import LineItemInput
from schema.claims.types import Claim
from schema.context import Context
from schema.errors import run_mutation
from schema.relay import decode_global_id, encode_global_id

__all__ = ["CLAIM_DOC", "ERRORS_DOC", "INPUT", "claim_id", "claim_mutation", "line_item_specs"]

#: How every claims mutation's ``input`` argument is described.
INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
#: How a payload's claim and errors are described.
CLAIM_DOC = "The claim as the mutation left it (null when refused)."
ERRORS_DOC = "Every refusal (empty on success): field, code, message."


def _target(c: m.Claim | None) -> str | None:
    return None if c is None else encode_global_id("Claim", c.id)


def claim_mutation(info: Info[Context, Any], action: str, data: Any, work: Callable[[Session], m.Claim],
                   codes: Any) -> tuple[Claim | None, list[Any]]:
    """Run a claim mutation (``schema.errors.run_mutation``): the claim it answers, wrapped, and every refusal."""
    row, errors = run_mutation(info, action, data, work, target=_target, codes=codes)
    return (Claim.from_row(row) if row else None), errors


def claim_id(value: strawberry.ID) -> int:
    """The claim key inside a ``claimId`` argument."""
    return decode_global_id(value, "Claim", field="claimId")


def line_item_specs(items: list[LineItemInput] | None) -> list[service.LineItemSpec]:
    """The service's line item specs of the input lines."""
    return [service.LineItemSpec(i.item_code, i.category, i.amount, i.quantity, i.description) for i in items or []]
