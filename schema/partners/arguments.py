"""Argument mapping of the partners domain: global ids, time-zone-aware instants, the acting partner."""

from __future__ import annotations

import datetime as dt

import strawberry

from core.errors import ValidationError
from partners.scoping import acting_partner_id
from schema.context import Context
from schema.relay import decode_global_id, encode_global_id

__all__ = ["INPUT", "acting_partner", "aware", "gid"]

#: The ``input`` argument of every partners mutation.
INPUT = strawberry.argument(description="The mutation's input (each of its fields is described on the input type).")


def gid(type_name: str, pk: int) -> strawberry.ID:
    """The global id of a ``type_name`` row."""
    return strawberry.ID(encode_global_id(type_name, pk))


def aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """``value`` unchanged; a typed error when it has no time zone."""
    if value is not None and value.tzinfo is None:
        raise ValidationError("timestamps need a time zone (e.g. Z)", field=field)
    return value


def acting_partner(ctx: Context, given: strawberry.ID | None) -> int:
    """The partner a call acts on: the given id (a partner: only its own), or a partner caller's own."""
    pk = decode_global_id(given, "Partner", field="partnerId") if given is not None else None
    return acting_partner_id(ctx.principal, pk)
