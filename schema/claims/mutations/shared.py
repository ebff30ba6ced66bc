"""What the claims domain's mutation families share: the claim payload and argument mapping."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from resolvers.claims import models as m
from resolvers.claims import service
from schema.claims.inputs import LineItemInput
from schema.claims.types import Claim
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.permissions import PUBLIC, access
from schema.relay import decode_global_id, encode_global_id

__all__ = ["ClaimPayload", "claim_id", "claim_payload", "line_item_specs"]


@strawberry.type
@access(PUBLIC)
class ClaimPayload:
    claim: Claim | None
    errors: list[UserError]


def _target(c: m.Claim | None) -> str | None:
    return None if c is None else encode_global_id("Claim", c.id)


def claim_payload(info: Info[Context, Any], action: str, data: Any, work: Any) -> ClaimPayload:
    """Run a claim mutation (``schema.errors.run_mutation``) and wrap the claim it answers."""
    row, errors = run_mutation(info, action, data, work, target=_target)
    return ClaimPayload(claim=Claim.from_row(row) if row else None, errors=errors)


def claim_id(value: strawberry.ID) -> int:
    """The claim key inside a ``claimId`` argument."""
    return decode_global_id(value, "Claim", field="claimId")


def line_item_specs(items: list[LineItemInput] | None) -> list[service.LineItemSpec]:
    """The service's line item specs of the input lines."""
    return [service.LineItemSpec(i.item_code, i.category, i.amount, i.quantity, i.description) for i in items or []]
