"""The CLI: tokens verify against the server's key; demo data loads and is consistent."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlalchemy import func, select

from core.auth import Role, TokenKeys, verify_token
from core.settings import override_settings
from opsure.cli import main
from opsure.demo import load_demo
from resolvers.policies.models import Customer, Policy, PolicyStatus


def test_token_command_mints_a_verifiable_token(settings) -> None:  # type: ignore[no-untyped-def]
    override_settings(settings)
    try:
        result = CliRunner().invoke(main, ["token", "--role", "customer", "--customer-id", "5"])
        assert result.exit_code == 0, result.output
        principal = verify_token(TokenKeys.load_or_create(settings.keys_dir), settings, result.output.strip())
        assert principal.role is Role.CUSTOMER and principal.customer_id == 5
        refused = CliRunner().invoke(main, ["token", "--role", "customer"])
        assert refused.exit_code != 0 and "customer-id" in refused.output
    finally:
        override_settings(None)


def test_demo_loads_two_years_of_policies(runtime, session_factory) -> None:  # type: ignore[no-untyped-def]
    today = dt.date(2026, 6, 1)
    counts = load_demo(runtime, customers=40, years=2, seed=3, today=today)
    assert counts["customers"] == 40 and counts["products"] == 3 and counts["policies"] >= 40
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 40
        starts = s.scalars(select(Policy.period_start)).all()
        assert min(starts) < today - dt.timedelta(days=365) and max(starts) <= today
        statuses = set(s.scalars(select(Policy.status)).all())
        assert {PolicyStatus.ACTIVE, PolicyStatus.EXPIRED} <= statuses
    again = load_demo(runtime, customers=5, years=2, seed=4, today=today)
    assert again["products"] == 0  # products are not duplicated
