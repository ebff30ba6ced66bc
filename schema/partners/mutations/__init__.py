"""The partners domain's mutations, one module per family, merged in the schema's field order."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.partners.mutations.assignments import AssignmentMutations
from schema.partners.mutations.clients import ClientMutations
from schema.partners.mutations.keys import KeyMutations
from schema.partners.mutations.registry import RegistryMutations
from schema.partners.mutations.risk import RiskMutations
from schema.partners.mutations.signed_records import SignedRecordMutations
from schema.partners.mutations.webhooks import WebhookMutations

__all__ = ["PartnersMutation"]

PartnersMutation = merge_types(
    "PartnersMutation",
    (RegistryMutations, KeyMutations, ClientMutations, AssignmentMutations, SignedRecordMutations, RiskMutations,
     WebhookMutations),
)
