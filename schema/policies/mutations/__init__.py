"""The policies domain's mutations, one module per family, merged in the schema's field order."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.policies.mutations.customers import CustomerMutations
from schema.policies.mutations.endorsements import EndorsementMutations
from schema.policies.mutations.policies import PolicyMutations
from schema.policies.mutations.products import ProductMutations
from schema.policies.mutations.quotes import QuoteMutations

__all__ = ["PoliciesMutation"]

PoliciesMutation = merge_types(
    "PoliciesMutation", (CustomerMutations, ProductMutations, QuoteMutations, PolicyMutations, EndorsementMutations)
)
