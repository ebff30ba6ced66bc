"""Signer keys: registration, rotation (new key from a time, old until a time), revocation.

Nothing is deleted: a key's validity window and revocation time stay, so any signature is
judged by the key's status at a given instant (:func:`key_status`) — new submissions at
their arrival, stored records at the time they were received. Revocation takes effect
at once (or, for a compromised key, from an earlier instant the revoker names).

Example::

    key = register_key(s, principal=admin, partner_id=3, address="0xAb…", now=now)
    new = rotate_key(s, principal=admin, key_id=key.id, new_address="0xCd…",
                     valid_from=now, old_valid_until=now + timedelta(days=7), now=now)
    key_status(key, now + timedelta(days=8))     # KeyStatus.EXPIRED
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ConflictError, InvalidTransitionError, NotFoundError, ValidationError
from partners import chain_roles, events
from partners.models import ChainRoleSync, SignerKey
from partners.scoping import owned_by_caller
from partners.service import get_partner

__all__ = [
    "KeyStatus",
    "find_key",
    "get_key",
    "key_status",
    "keys_by_partner",
    "normalise_address",
    "register_key",
    "request_expired_key_syncs",
    "revoke_key",
    "rotate_key",
]

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_ZERO = "0x" + "00" * 20


class KeyStatus(enum.StrEnum):
    """A key's status at one instant."""

    ACTIVE = "active"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


def key_status(key: SignerKey, at: dt.datetime) -> KeyStatus:
    """The status of ``key`` at ``at`` (revocation first, then the validity window)."""
    if key.revoked_at is not None and at >= key.revoked_at:
        return KeyStatus.REVOKED
    if at < key.valid_from:
        return KeyStatus.NOT_YET_VALID
    if key.valid_until is not None and at >= key.valid_until:
        return KeyStatus.EXPIRED
    return KeyStatus.ACTIVE


def normalise_address(raw: str, *, field: str = "address") -> str:
    """Lowercase 0x address; ValidationError for anything else (or the zero address)."""
    address = raw.strip().lower()
    if not _ADDRESS.match(address) or address == _ZERO:
        raise ValidationError("not an EVM address (0x + 40 hex characters)", field=field, code="BAD_ADDRESS")
    return address


def _add(session: Session, key: SignerKey) -> SignerKey:
    if session.scalar(select(SignerKey.id).where(SignerKey.address == key.address)) is not None:
        raise ConflictError("this address is registered already", field="address", code="DUPLICATE_KEY")
    session.add(key)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("this address is registered already", field="address", code="DUPLICATE_KEY") from exc
    return key


def register_key(
    session: Session,
    *,
    principal: Principal,
    partner_id: int,
    address: str,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    now: dt.datetime,
) -> SignerKey:
    """Register a signer address of a partner (the partner itself or staff)."""
    partner = get_partner(session, principal=principal, partner_id=partner_id)
    start = valid_from or now
    if valid_until is not None and valid_until <= start:
        raise ValidationError("validUntil must be after validFrom", field="validUntil", code="BAD_PERIOD")
    key = _add(session, SignerKey(
        partner_id=partner.id, address=normalise_address(address), valid_from=start, valid_until=valid_until,
        created_by=principal.subject, created_at=now,
    ))
    chain_roles.request_sync(session, partner_id=partner.id, addresses=[key.address], now=now)
    events.publish(session, events.KeyRegistered(partner_id=partner.id, key_id=key.id, address=key.address),
                   actor=principal, versioned=key)
    return key


def get_key(session: Session, *, principal: Principal, key_id: int) -> SignerKey:
    """A key the caller may see, else NotFoundError."""
    key = session.scalar(
        select(SignerKey).where(SignerKey.id == key_id, owned_by_caller(principal, SignerKey.partner_id))
    )
    if key is None:
        raise NotFoundError("signer key not found", field="keyId")
    return key


def rotate_key(
    session: Session,
    *,
    principal: Principal,
    key_id: int,
    new_address: str,
    valid_from: dt.datetime | None = None,
    old_valid_until: dt.datetime | None = None,
    now: dt.datetime,
) -> SignerKey:
    """Replace a key: the new one is valid from ``valid_from``, the old one until ``old_valid_until``."""
    old = get_key(session, principal=principal, key_id=key_id)
    if key_status(old, now) in (KeyStatus.REVOKED, KeyStatus.EXPIRED):
        raise InvalidTransitionError("only a live key can be rotated", field="keyId", code="KEY_NOT_LIVE")
    start = valid_from or now
    until = old_valid_until or start
    if until < now:
        raise ValidationError("the old key cannot end in the past; revoke it instead",
                              field="oldValidUntil", code="BAD_PERIOD")
    new = _add(session, SignerKey(
        partner_id=old.partner_id, address=normalise_address(new_address, field="newAddress"), valid_from=start,
        rotated_from_id=old.id, created_by=principal.subject, created_at=now,
    ))
    if old.valid_until is None or until < old.valid_until:
        old.valid_until = until
    session.flush()
    chain_roles.request_sync(session, partner_id=old.partner_id, addresses=[new.address, old.address], now=now)
    events.publish(session, events.KeyRotated(partner_id=old.partner_id, key_id=new.id, address=new.address,
                                              rotated_from_id=old.id), actor=principal, versioned=new)
    return new


def revoke_key(
    session: Session,
    *,
    principal: Principal,
    key_id: int,
    reason: str,
    effective_at: dt.datetime | None = None,
    now: dt.datetime,
) -> SignerKey:
    """Revoke a key with immediate effect (or from an earlier instant, for a compromised key)."""
    key = get_key(session, principal=principal, key_id=key_id)
    if key.revoked_at is not None:
        raise ConflictError("the key is revoked already", field="keyId", code="ALREADY_REVOKED")
    at = effective_at or now
    if at > now:
        raise ValidationError("revocation cannot take effect in the future", field="effectiveAt", code="BAD_PERIOD")
    if not reason.strip():
        raise ValidationError("give a reason", field="reason")
    key.revoked_at = at
    key.revoked_reason = reason.strip()
    key.revoked_by = principal.subject
    session.flush()
    chain_roles.request_sync(session, partner_id=key.partner_id, addresses=[key.address], now=now)
    events.publish(session, events.KeyRevoked(partner_id=key.partner_id, key_id=key.id, address=key.address),
                   actor=principal, versioned=key)
    return key


def find_key(session: Session, *, address: str) -> SignerKey | None:
    """The key registered for ``address`` (any partner), if any."""
    return session.scalar(select(SignerKey).where(SignerKey.address == address.lower()))


def keys_by_partner(session: Session, partner_ids: Sequence[int]) -> dict[int, list[SignerKey]]:
    """Keys grouped by partner, oldest first (one query)."""
    out: dict[int, list[SignerKey]] = {pid: [] for pid in partner_ids}
    for key in session.scalars(
        select(SignerKey).where(SignerKey.partner_id.in_(list(partner_ids))).order_by(SignerKey.id)
    ):
        out[key.partner_id].append(key)
    return out


def request_expired_key_syncs(session: Session, *, now: dt.datetime, limit: int = 500) -> int:
    """Request a role sync for keys whose window ended but still hold the role on chain."""
    rows = session.execute(
        select(SignerKey.partner_id, SignerKey.address)
        .join(ChainRoleSync, ChainRoleSync.address == SignerKey.address)
        .where(
            SignerKey.valid_until.is_not(None),
            SignerKey.valid_until <= now,
            ChainRoleSync.granted.is_(True),
            ChainRoleSync.synced_at.is_not(None),
        )
        .limit(limit)
    ).all()
    for partner_id, address in rows:
        chain_roles.request_sync(session, partner_id=partner_id, addresses=[address], now=now)
    return len(rows)
