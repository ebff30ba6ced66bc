"""Domain enums in the schema: one strawberry enum per domain enum, every value described.

Example::

    ClaimState = described_enum(m.ClaimState, "ClaimState", "Where a claim stands.", {
        "DRAFT": "Reported, not yet submitted.", ...})
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry

__all__ = ["described_enum"]


def described_enum(cls: type[enum.Enum], name: str, description: str, values: Mapping[str, str]) -> Any:
    """``strawberry.enum`` over a domain enum, with one description per member (all required)."""
    mismatch = {member.name for member in cls} ^ set(values)
    if mismatch:
        raise ValueError(f"{name}: describe exactly its members (mismatch: {sorted(mismatch)})")
    wrapped: Any = strawberry.enum(cls, name=name, description=description)
    for value in wrapped.__strawberry_definition__.values:
        value.description = values[value.name]
    return wrapped
