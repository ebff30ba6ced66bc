"""GraphQL enums of the policies domain (the service's enums, exposed under their schema names)."""

from __future__ import annotations

import strawberry

from resolvers.policies import models as m

__all__ = ["EndorsementKind", "Gender", "PolicyStatus", "QuoteStatus", "UnderwritingOutcome"]

PolicyStatus = strawberry.enum(m.PolicyStatus, name="PolicyStatus", description="FHIR Coverage.status plus ends.")
Gender = strawberry.enum(m.Gender, name="Gender")
UnderwritingOutcome = strawberry.enum(m.UnderwritingOutcome, name="UnderwritingOutcome")
QuoteStatus = strawberry.enum(m.QuoteStatus, name="QuoteStatus")
EndorsementKind = strawberry.enum(m.EndorsementKind, name="EndorsementKind")
