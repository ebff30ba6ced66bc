"""Bearer tokens: issued, verified, and every way of being wrong refused."""

from __future__ import annotations

import jwt
import pytest

from core.auth import Role, TokenKeys, issue_token, verify_token
from core.errors import AuthError
from core.settings import Settings

S = Settings()
KEYS = TokenKeys.generate()


def test_round_trip_carries_role_and_scope() -> None:
    token = issue_token(KEYS, S, subject="c-1", role=Role.CUSTOMER, customer_id=1)
    p = verify_token(KEYS, S, token)
    assert (p.subject, p.role, p.customer_id) == ("c-1", Role.CUSTOMER, 1)


def test_expired_token_refused() -> None:
    token = issue_token(KEYS, S, subject="a", role=Role.ADMIN, ttl_seconds=-60)
    with pytest.raises(AuthError) as err:
        verify_token(KEYS, S, token)
    assert err.value.code == "TOKEN_EXPIRED"


def test_forged_token_refused() -> None:
    other = TokenKeys.generate()
    token = issue_token(other, S, subject="a", role=Role.ADMIN)
    with pytest.raises(AuthError, match="signature"):
        verify_token(KEYS, S, token)


@pytest.mark.parametrize("field", ["jwt_audience", "jwt_issuer"])
def test_wrong_audience_or_issuer_refused(field: str) -> None:
    token = issue_token(KEYS, S.with_(**{field: "someone-else"}), subject="a", role=Role.ADMIN)
    with pytest.raises(AuthError):
        verify_token(KEYS, S, token)


def test_unsigned_token_refused() -> None:
    token = jwt.encode({"sub": "a", "role": "admin"}, key=None, algorithm="none")
    with pytest.raises(AuthError):
        verify_token(KEYS, S, token)


def test_customer_token_needs_customer_id() -> None:
    token = issue_token(KEYS, S, subject="c", role=Role.CUSTOMER)
    with pytest.raises(AuthError, match="customer id"):
        verify_token(KEYS, S, token)


def test_key_is_created_once_and_reloaded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = TokenKeys.load_or_create(tmp_path)
    second = TokenKeys.load_or_create(tmp_path)
    token = issue_token(first, S, subject="a", role=Role.ADMIN)
    assert verify_token(second, S, token).role is Role.ADMIN
    assert oct((tmp_path / "jwt_ed25519.pem").stat().st_mode & 0o777) == "0o600"
