"""Mutations on partners' OAuth client credentials: creation (secret shown once), revocation."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS
from partners import credentials
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.partners.inputs import CreatePartnerClientInput
from schema.partners.types import PartnerClientCredential
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id

__all__ = ["ClientMutations", "PartnerClientPayload"]


@strawberry.type
@access(PUBLIC)
class PartnerClientPayload:
    client: PartnerClientCredential | None
    client_secret: str | None = strawberry.field(description="Shown once; store it now.")
    errors: list[UserError]


@strawberry.type
class ClientMutations:
    @strawberry.mutation(description="Create client credentials for a partner (secret shown once).",
                         metadata=allow(MANAGERS))
    def create_partner_client(self, info: Info[Context, Any], input: CreatePartnerClientInput) -> PartnerClientPayload:
        ctx = info.context
        made, errors = run_mutation(info, "createPartnerClient", input, lambda s: credentials.create_client(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            label=input.label, now=ctx.now()), target=lambda r: None if r is None else r[0].client_id)
        if made is None:
            return PartnerClientPayload(client=None, client_secret=None, errors=errors)
        return PartnerClientPayload(client=PartnerClientCredential.from_row(made[0]), client_secret=made[1],
                                    errors=errors)

    @strawberry.mutation(description="Revoke client credentials; tokens issued to them stop working at once.",
                         metadata=allow(MANAGERS))
    def revoke_partner_client(self, info: Info[Context, Any], client_id: str) -> PartnerClientPayload:
        ctx = info.context
        row, errors = run_mutation(info, "revokePartnerClient", {"clientId": client_id},
                                   lambda s: credentials.revoke_client(s, principal=ctx.principal,
                                                                       client_id=client_id, now=ctx.now()),
                                   target=lambda r: None if r is None else r.client_id)
        return PartnerClientPayload(client=PartnerClientCredential.from_row(row) if row else None,
                                    client_secret=None, errors=errors)
