"""The claims domain's mutations, one module per family, merged in the schema's field order."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.claims.mutations.assignment import AssignmentMutations
from schema.claims.mutations.decisions import DecisionMutations
from schema.claims.mutations.direct_billing import DirectBillingMutations
from schema.claims.mutations.documents import DocumentMutations
from schema.claims.mutations.payments import PaymentMutations
from schema.claims.mutations.qa import QaMutations
from schema.claims.mutations.reporting import ReportingMutations
from schema.claims.mutations.rules import ClaimRuleMutations
from schema.claims.mutations.templates import TemplateMutations

__all__ = ["ClaimsMutation"]

ClaimsMutation = merge_types(
    "ClaimsMutation",
    (ReportingMutations, DecisionMutations, PaymentMutations, DocumentMutations, DirectBillingMutations,
     AssignmentMutations, ClaimRuleMutations, QaMutations, TemplateMutations),
)
