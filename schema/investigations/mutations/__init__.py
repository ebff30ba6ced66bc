"""The investigations domain's mutation families, merged in the schema's field order."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.investigations.mutations.firm import FirmMutations
from schema.investigations.mutations.staff import StaffMutations

__all__ = ["InvestigationsMutation"]

InvestigationsMutation = merge_types("InvestigationsMutation", (StaffMutations, FirmMutations))
