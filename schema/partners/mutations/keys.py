"""Mutations on signer keys: registration, rotation, revocation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import PARTNER_SELF_SERVICE
from partners import keys
from partners import models as m
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.partners.arguments import acting_partner, aware
from schema.partners.inputs import RegisterSignerKeyInput, RevokeSignerKeyInput, RotateSignerKeyInput
from schema.partners.types import SignerKey
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["KeyMutations", "SignerKeyPayload"]


@strawberry.type
@access(PUBLIC)
class SignerKeyPayload:
    key: SignerKey | None
    errors: list[UserError]


def _key_payload(info: Info[Context, Any], action: str, data: Any, work: Callable[[Any], m.SignerKey]) -> SignerKeyPayload:
    row, errors = run_mutation(info, action, data, work,
                               target=lambda k: None if k is None else encode_global_id("SignerKey", k.id))
    return SignerKeyPayload(key=SignerKey.from_row(row) if row else None, errors=errors)


@strawberry.type
class KeyMutations:
    @strawberry.mutation(description="Register a signer address (a partner: its own).", metadata=allow(PARTNER_SELF_SERVICE))
    def register_signer_key(self, info: Info[Context, Any], input: RegisterSignerKeyInput) -> SignerKeyPayload:
        ctx = info.context
        return _key_payload(info, "registerSignerKey", input, lambda s: keys.register_key(
            s, principal=ctx.principal, partner_id=acting_partner(ctx, input.partner_id), address=input.address,
            valid_from=aware(input.valid_from, "validFrom"), valid_until=aware(input.valid_until, "validUntil"),
            now=ctx.now()))

    @strawberry.mutation(description="Rotate a key; returns the new key.", metadata=allow(PARTNER_SELF_SERVICE))
    def rotate_signer_key(self, info: Info[Context, Any], input: RotateSignerKeyInput) -> SignerKeyPayload:
        ctx = info.context
        return _key_payload(info, "rotateSignerKey", input, lambda s: keys.rotate_key(
            s, principal=ctx.principal, key_id=decode_global_id(input.key_id, "SignerKey", field="keyId"),
            new_address=input.new_address, valid_from=aware(input.valid_from, "validFrom"),
            old_valid_until=aware(input.old_valid_until, "oldValidUntil"), now=ctx.now()))

    @strawberry.mutation(description="Revoke a key with immediate effect.", metadata=allow(PARTNER_SELF_SERVICE))
    def revoke_signer_key(self, info: Info[Context, Any], input: RevokeSignerKeyInput) -> SignerKeyPayload:
        ctx = info.context
        return _key_payload(info, "revokeSignerKey", input, lambda s: keys.revoke_key(
            s, principal=ctx.principal, key_id=decode_global_id(input.key_id, "SignerKey", field="keyId"),
            reason=input.reason, effective_at=aware(input.effective_at, "effectiveAt"), now=ctx.now()))
