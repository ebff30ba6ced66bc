"""Auth primitives: roles, the authenticated principal, and signed JWT bearer tokens.

Tokens are EdDSA (Ed25519) JWTs; issuer, audience and expiry are always checked. The
embedded default generates its signing key on first start in ``<data_dir>/keys``.

Example::

    keys = TokenKeys.load_or_create(settings.keys_dir)
    token = issue_token(keys, settings, subject="cust-42", role=Role.CUSTOMER, customer_id=42)
    principal = verify_token(keys, settings, token)
"""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import AuthError
from core.keyfiles import secret_file
from core.settings import Settings

__all__ = ["ANONYMOUS", "Principal", "Role", "TokenKeys", "issue_token", "verify_token"]


class Role(enum.StrEnum):
    """Who a caller is to Opsure; permissions are declared in terms of these."""

    CUSTOMER = "customer"
    AGENT = "agent"
    ADJUSTER = "adjuster"
    QA = "qa"
    ANALYST = "analyst"
    MANAGER = "manager"
    ADMIN = "admin"
    PARTNER = "partner"
    AUDITOR = "auditor"


STAFF_ROLES: frozenset[Role] = frozenset(
    {Role.AGENT, Role.ADJUSTER, Role.QA, Role.ANALYST, Role.MANAGER, Role.ADMIN}
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request: subject, role and the rows it is scoped to."""

    subject: str
    role: Role | None
    customer_id: int | None = None
    partner_id: int | None = None
    token_id: str | None = None
    expires_at: float | None = None  # the token's exp (seconds since the epoch)
    client_id: str | None = None  # the partner OAuth client a token was issued to (revocable)

    @property
    def authenticated(self) -> bool:
        """True when a valid token named a role."""
        return self.role is not None

    @property
    def is_staff(self) -> bool:
        """True for insurer staff roles (not customers, partners or auditors)."""
        return self.role in STAFF_ROLES


ANONYMOUS = Principal(subject="anonymous", role=None)

_ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class TokenKeys:
    """The Ed25519 key pair that signs and verifies bearer tokens."""

    private_key: Ed25519PrivateKey | None
    public_key: Ed25519PublicKey

    @classmethod
    def generate(cls) -> TokenKeys:
        """A fresh in-memory key pair (tests)."""
        key = Ed25519PrivateKey.generate()
        return cls(private_key=key, public_key=key.public_key())

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> TokenKeys:
        """Load ``jwt_ed25519.pem`` from ``keys_dir``, creating it (mode 0600) if absent."""
        path = keys_dir / "jwt_ed25519.pem"
        pem = secret_file(path, make=lambda: Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
        ).decode())
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise AuthError(f"{path} is not an Ed25519 private key")
        return cls(private_key=key, public_key=key.public_key())


def issue_token(
    keys: TokenKeys,
    settings: Settings,
    *,
    subject: str,
    role: Role,
    customer_id: int | None = None,
    partner_id: int | None = None,
    client_id: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """Mint a signed bearer token for ``subject`` acting as ``role``."""
    if keys.private_key is None:
        raise AuthError("this process holds no signing key")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl_seconds if ttl_seconds is not None else settings.token_ttl_seconds),
        "jti": uuid.uuid4().hex,
        "role": role.value,
    }
    if customer_id is not None:
        claims["cid"] = customer_id
    if partner_id is not None:
        claims["pid"] = partner_id
    if client_id is not None:
        claims["clid"] = client_id
    return jwt.encode(claims, keys.private_key, algorithm=_ALGORITHM)


def verify_token(keys: TokenKeys, settings: Settings, token: str) -> Principal:
    """Check signature, issuer, audience and expiry; return the principal or raise AuthError."""
    try:
        claims = jwt.decode(
            token,
            keys.public_key,
            algorithms=[_ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token expired", code="TOKEN_EXPIRED") from exc
    except jwt.InvalidAudienceError as exc:
        raise AuthError("token audience mismatch", code="TOKEN_INVALID") from exc
    except jwt.InvalidIssuerError as exc:
        raise AuthError("token issuer mismatch", code="TOKEN_INVALID") from exc
    except jwt.InvalidSignatureError as exc:
        raise AuthError("token signature invalid", code="TOKEN_INVALID") from exc
    except jwt.PyJWTError as exc:
        raise AuthError(f"token invalid: {exc}", code="TOKEN_INVALID") from exc
    try:
        role = Role(claims["role"])
    except (KeyError, ValueError) as exc:
        raise AuthError("token names no known role", code="TOKEN_INVALID") from exc
    customer_id = claims.get("cid")
    partner_id = claims.get("pid")
    if role is Role.CUSTOMER and not isinstance(customer_id, int):
        raise AuthError("customer token without customer id", code="TOKEN_INVALID")
    if role is Role.PARTNER and not isinstance(partner_id, int):
        raise AuthError("partner token without partner id", code="TOKEN_INVALID")
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        customer_id=customer_id if isinstance(customer_id, int) else None,
        partner_id=partner_id if isinstance(partner_id, int) else None,
        token_id=claims.get("jti"),
        client_id=claims["clid"] if isinstance(claims.get("clid"), str) else None,
        expires_at=float(claims["exp"]),
    )
