"""GraphQL contract of partners: registry and review, signer keys, client credentials,
assignments, EIP-712 signed records, shared risk flags, webhooks.

A partner token (role ``partner``, scoped to its partner) sees only its own partner,
assignments, signed records, keys, endpoints and deliveries; reading another partner's
case is refused with ``FORBIDDEN`` (``partners.scoping``). Refused submissions come back as
typed payload errors with the codes of :class:`partners.errors.RejectCode`.
"""

from __future__ import annotations

from schema.partners.mutations import PartnersMutation
from schema.partners.queries import NODES, PartnersQuery

__all__ = ["NODES", "PartnersMutation", "PartnersQuery"]
