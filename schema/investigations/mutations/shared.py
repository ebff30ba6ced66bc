"""What the investigations mutation families share: running a mutation and wrapping its investigation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from resolvers.investigations import models as m
from schema.context import Context
from schema.errors import run_mutation
from schema.investigations.types import Investigation
from schema.relay import decode_global_id, encode_global_id

__all__ = ["ERRORS_DOC", "INPUT", "INVESTIGATION_DOC", "investigation_id", "investigation_mutation"]

INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
INVESTIGATION_DOC = "The investigation as the mutation left it (null when refused)."
ERRORS_DOC = "Every refusal (empty on success): field, code, message."


def investigation_id(value: strawberry.ID) -> int:
    """The key inside an ``investigationId`` argument."""
    return decode_global_id(value, "Investigation", field="investigationId")


def investigation_mutation(info: Info[Context, Any], action: str, data: Any,
                           work: Callable[[Session], m.Investigation], codes: Any) -> tuple[Investigation | None,
                                                                                         list[Any]]:
    """Run a mutation (``schema.errors.run_mutation``): the investigation it answers, wrapped, and every refusal."""
    row, errors = run_mutation(info, action, data, work, codes=codes,
                               target=lambda r: None if r is None else encode_global_id("Investigation", r.id))
    return (Investigation.from_row(row) if row else None), errors
