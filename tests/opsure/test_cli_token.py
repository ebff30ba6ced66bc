"""``opsure token``: customer and partner ids as global ids (or integer keys), anything else refused clearly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from core.auth import Principal, Role, TokenKeys, verify_token
from core.settings import override_settings
from opsure.cli import main
from schema.relay import encode_global_id


@pytest.fixture
def mint(settings: Any) -> Iterator[Any]:
    override_settings(settings)

    def run(*args: str) -> tuple[int, str, Principal | None]:
        result = CliRunner().invoke(main, ["token", *args])
        if result.exit_code != 0:
            return result.exit_code, result.output, None
        token = result.output.strip()
        return 0, token, verify_token(TokenKeys.load_or_create(settings.keys_dir), settings, token)

    yield run
    override_settings(None)


@pytest.mark.parametrize("given", [encode_global_id("Customer", 42), "42", " 42 "])
def test_customer_id_as_global_id_or_integer(mint: Any, given: str) -> None:
    code, _, principal = mint("--role", "customer", "--customer-id", given)
    assert code == 0 and principal is not None
    assert principal.role is Role.CUSTOMER and principal.customer_id == 42


def test_partner_id_as_global_id(mint: Any) -> None:
    code, _, principal = mint("--role", "partner", "--partner-id", encode_global_id("Partner", 7))
    assert code == 0 and principal is not None and principal.partner_id == 7


@pytest.mark.parametrize(("option", "given", "says"), [
    ("--customer-id", encode_global_id("Partner", 7), "is a Partner, expected a Customer"),
    ("--partner-id", encode_global_id("Customer", 42), "is a Customer, expected a Partner"),
    ("--customer-id", "not-an-id", "malformed id"),
    ("--customer-id", "-3", "malformed id"),
])
def test_other_ids_are_refused_with_the_reason(mint: Any, option: str, given: str, says: str) -> None:
    role = "customer" if option == "--customer-id" else "partner"
    code, output, _ = mint("--role", role, option, given)
    assert code == 2 and says in output and "nor an integer key" in output
