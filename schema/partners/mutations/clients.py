"""Mutations on partners' OAuth2 client credentials: creation (secret shown once), revocation."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS
from partners import credentials
from schema.context import Context
from schema.errors import run_mutation
from schema.partners.arguments import INPUT
from schema.partners.errors import CreatePartnerClientError, RevokePartnerClientError
from schema.partners.inputs import CreatePartnerClientInput
from schema.partners.types import PartnerClientCredential
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id

__all__ = ["ClientMutations", "CreatePartnerClientPayload", "RevokePartnerClientPayload"]


@strawberry.type(description="The result of createPartnerClient.")
@access(PUBLIC)
class CreatePartnerClientPayload:
    client: PartnerClientCredential | None = strawberry.field(description="The new credentials (null when refused).")
    client_secret: str | None = strawberry.field(description="The client_secret, shown this once: store it now "
                                                             "(Opsure keeps only its hash).")
    errors: list[CreatePartnerClientError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


@strawberry.type(description="The result of revokePartnerClient.")
@access(PUBLIC)
class RevokePartnerClientPayload:
    client: PartnerClientCredential | None = strawberry.field(description="The revoked credentials (null when "
                                                                          "refused).")
    errors: list[RevokePartnerClientError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


@strawberry.type
class ClientMutations:
    @strawberry.mutation(description="Create OAuth2 client credentials for a partner (managers, admins): it logs in at "
                         "POST /oauth/token (grant_type=client_credentials) once approved. The secret is shown once.",
                         metadata=allow(MANAGERS))
    def create_partner_client(
        self, info: Info[Context, Any], input: Annotated[CreatePartnerClientInput, INPUT]
    ) -> CreatePartnerClientPayload:
        ctx = info.context
        made, errors = run_mutation(info, "createPartnerClient", input, lambda s: credentials.create_client(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            label=input.label, now=ctx.now()), target=lambda r: None if r is None else r[0].client_id,
            codes=CreatePartnerClientError)
        if made is None:
            return CreatePartnerClientPayload(client=None, client_secret=None, errors=errors)
        return CreatePartnerClientPayload(client=PartnerClientCredential.from_row(made[0]), client_secret=made[1],
                                          errors=errors)

    @strawberry.mutation(description="Revoke client credentials (managers, admins); tokens issued to them stop "
                         "working at once.", metadata=allow(MANAGERS))
    def revoke_partner_client(
        self, info: Info[Context, Any],
        client_id: Annotated[str, strawberry.argument(description="The credentials' clientId (pc_...).")],
    ) -> RevokePartnerClientPayload:
        ctx = info.context
        row, errors = run_mutation(info, "revokePartnerClient", {"clientId": client_id},
                                   lambda s: credentials.revoke_client(s, principal=ctx.principal,
                                                                       client_id=client_id, now=ctx.now()),
                                   target=lambda r: None if r is None else r.client_id,
                                   codes=RevokePartnerClientError)
        return RevokePartnerClientPayload(client=PartnerClientCredential.from_row(row) if row else None, errors=errors)
