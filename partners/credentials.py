"""Partner client credentials (OAuth2 client_credentials): create, revoke, authenticate.

Tokens issued to a client name it (claim ``clid``); :func:`token_revoked` is the one
indexed query every request with such a token runs, so revoking the client ends its live
tokens at once in every worker.

The secret is shown once and kept only as ``scrypt$N$r$p$<salt>$<hash>`` (hashlib.scrypt,
N=2^14, r=8, p=1, 16-byte salt, 32-byte hash, base64). Unknown client ids cost the same
scrypt work as known ones, so timing does not tell which ids exist.

Example::

    client, secret = create_client(s, principal=admin, partner_id=3, label="claims system", now=now)
    authenticate(s, client_id=client.client_id, client_secret=secret, now=now)   # -> PartnerClient
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import Connection, Select, exists, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import AuthError, ConflictError, NotFoundError, ValidationError
from partners.models import Partner, PartnerClient, PartnerStatus
from partners.scoping import owned_by_caller
from partners.service import Page, PageRequest, count_of, get_partner, keyset_page

__all__ = [
    "authenticate",
    "check_secret",
    "count_clients",
    "create_client",
    "get_client",
    "hash_secret",
    "list_clients",
    "revoke_client",
    "token_revoked",
]

_N, _R, _P = 2**14, 8, 1
_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def hash_secret(secret: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    """scrypt hash of ``secret`` in the stored form."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches a stored scrypt hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def create_client(
    session: Session, *, principal: Principal, partner_id: int, label: str, now: dt.datetime
) -> tuple[PartnerClient, str]:
    """New client credentials for a partner; returns the row and the secret (shown once)."""
    partner = get_partner(session, principal=principal, partner_id=partner_id)
    label = label.strip()
    if not 1 <= len(label) <= 200:
        raise ValidationError("label must have 1 to 200 characters", field="label")
    secret = secrets.token_urlsafe(32)
    client = PartnerClient(
        partner_id=partner.id, client_id="pc_" + secrets.token_hex(12), secret_hash=hash_secret(secret),
        label=label, created_by=principal.subject, created_at=now,
    )
    session.add(client)
    session.flush()
    return client, secret


def revoke_client(session: Session, *, principal: Principal, client_id: str, now: dt.datetime) -> PartnerClient:
    """Revoke client credentials at once; tokens already issued to the client stop working too."""
    client = session.scalar(select(PartnerClient).where(
        PartnerClient.client_id == client_id, owned_by_caller(principal, PartnerClient.partner_id)))
    if client is None:
        raise NotFoundError("client not found", field="clientId")
    if client.revoked_at is not None:
        raise ConflictError("client revoked already", field="clientId", code="ALREADY_REVOKED")
    client.revoked_at = now
    session.flush()
    return client


def get_client(session: Session, *, principal: Principal, client_pk: int) -> PartnerClient:
    """Client credentials by row id, if the caller may see them (staff: any; a partner: its own)."""
    client = session.scalar(select(PartnerClient).where(
        PartnerClient.id == client_pk, owned_by_caller(principal, PartnerClient.partner_id)))
    if client is None:
        raise NotFoundError("client not found", field="id")
    return client


def _clients(principal: Principal, partner_id: int) -> Select[PartnerClient]:
    return select(PartnerClient).where(
        PartnerClient.partner_id == partner_id, owned_by_caller(principal, PartnerClient.partner_id))


def list_clients(session: Session, *, principal: Principal, partner_id: int, page: PageRequest) -> Page[PartnerClient]:
    """A page of a partner's client credentials (without secrets), oldest first."""
    return keyset_page(session, _clients(principal, partner_id), PartnerClient.id, request=page)


def count_clients(session: Session, *, principal: Principal, partner_id: int) -> int:
    """How many client credentials a partner has (revoked ones included)."""
    return count_of(session, _clients(principal, partner_id))


def authenticate(session: Session, *, client_id: str, client_secret: str, now: dt.datetime) -> PartnerClient:
    """The active client of an approved partner for these credentials, else AuthError.

    Codes follow RFC 6749: ``invalid_client`` (unknown, wrong secret, revoked) and
    ``unauthorized_client`` (the partner is not approved).
    """
    client = session.scalar(select(PartnerClient).where(PartnerClient.client_id == client_id[:64]))
    ok = check_secret(client_secret, client.secret_hash if client is not None else _DUMMY)
    if client is None or not ok or client.revoked_at is not None:
        raise AuthError("client authentication failed", code="invalid_client")
    partner = session.get(Partner, client.partner_id)
    if partner is None or partner.status is not PartnerStatus.APPROVED:
        raise AuthError("the partner is not approved", code="unauthorized_client")
    client.last_used_at = now
    session.flush()
    return client


def token_revoked(db: Session | Connection, *, client_id: str) -> bool:
    """Whether tokens issued to ``client_id`` are void: the client is revoked or unknown.

    Runs on every request of such a token, so it takes a plain connection too (a third of
    an ORM session's cost): one primary-key-like look-up on the unique ``client_id``.
    """
    live = exists().where(PartnerClient.client_id == client_id[:64], PartnerClient.revoked_at.is_(None))
    return not db.scalar(select(live))
