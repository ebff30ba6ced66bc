"""Mutations on signer keys: registration, rotation, revocation (a partner for itself, or managers)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import PARTNER_SELF_SERVICE
from partners import keys
from schema.context import Context
from schema.errors import run_mutation
from schema.partners.arguments import INPUT, acting_partner, aware
from schema.partners.errors import RegisterSignerKeyError, RevokeSignerKeyError, RotateSignerKeyError
from schema.partners.inputs import RegisterSignerKeyInput, RevokeSignerKeyInput, RotateSignerKeyInput
from schema.partners.types import SignerKey
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["KeyMutations", "RegisterSignerKeyPayload", "RevokeSignerKeyPayload", "RotateSignerKeyPayload"]

_ERRORS = "Every refusal (empty on success)."


@strawberry.type(description="The result of registerSignerKey.")
@access(PUBLIC)
class RegisterSignerKeyPayload:
    key: SignerKey | None = strawberry.field(description="The registered key (null when refused).")
    errors: list[RegisterSignerKeyError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


@strawberry.type(description="The result of rotateSignerKey.")
@access(PUBLIC)
class RotateSignerKeyPayload:
    key: SignerKey | None = strawberry.field(description="The new key; its rotatedFrom is the old one (null when "
                                                         "refused).")
    errors: list[RotateSignerKeyError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


@strawberry.type(description="The result of revokeSignerKey.")
@access(PUBLIC)
class RevokeSignerKeyPayload:
    key: SignerKey | None = strawberry.field(description="The revoked key (null when refused).")
    errors: list[RevokeSignerKeyError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


def _target(key: Any) -> str | None:
    return None if key is None else encode_global_id("SignerKey", key.id)


def _key_id(raw: strawberry.ID) -> int:
    return decode_global_id(raw, "SignerKey", field="keyId")


@strawberry.type
class KeyMutations:
    @strawberry.mutation(description="Register a signer address (a partner: its own; managers name the partner). "
                         "Once the partner is approved the address gets PARTNER_ROLE on chain.",
                         metadata=allow(PARTNER_SELF_SERVICE))
    def register_signer_key(
        self, info: Info[Context, Any], input: Annotated[RegisterSignerKeyInput, INPUT]
    ) -> RegisterSignerKeyPayload:
        ctx = info.context
        row, errors = run_mutation(info, "registerSignerKey", input, lambda s: keys.register_key(
            s, principal=ctx.principal, partner_id=acting_partner(ctx, input.partner_id), address=input.address,
            valid_from=aware(input.valid_from, "validFrom"), valid_until=aware(input.valid_until, "validUntil"),
            now=ctx.now()), target=_target, codes=RegisterSignerKeyError)
        return RegisterSignerKeyPayload(key=SignerKey.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Rotate a live key: the new one is valid from validFrom, the old one until "
                         "oldValidUntil (records signed meanwhile by either are accepted). Returns the new key.",
                         metadata=allow(PARTNER_SELF_SERVICE))
    def rotate_signer_key(
        self, info: Info[Context, Any], input: Annotated[RotateSignerKeyInput, INPUT]
    ) -> RotateSignerKeyPayload:
        ctx = info.context
        row, errors = run_mutation(info, "rotateSignerKey", input, lambda s: keys.rotate_key(
            s, principal=ctx.principal, key_id=_key_id(input.key_id), new_address=input.new_address,
            valid_from=aware(input.valid_from, "validFrom"),
            old_valid_until=aware(input.old_valid_until, "oldValidUntil"), now=ctx.now()),
            target=_target, codes=RotateSignerKeyError)
        return RotateSignerKeyPayload(key=SignerKey.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Revoke a key now, or from an earlier instant for a compromised key; it loses "
                         "PARTNER_ROLE on chain. Records it signed before stay valid.",
                         metadata=allow(PARTNER_SELF_SERVICE))
    def revoke_signer_key(
        self, info: Info[Context, Any], input: Annotated[RevokeSignerKeyInput, INPUT]
    ) -> RevokeSignerKeyPayload:
        ctx = info.context
        row, errors = run_mutation(info, "revokeSignerKey", input, lambda s: keys.revoke_key(
            s, principal=ctx.principal, key_id=_key_id(input.key_id), reason=input.reason,
            effective_at=aware(input.effective_at, "effectiveAt"), now=ctx.now()),
            target=_target, codes=RevokeSignerKeyError)
        return RevokeSignerKeyPayload(key=SignerKey.from_row(row) if row else None, errors=errors)
