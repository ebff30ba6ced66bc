"""Models and migrations agree; migrating twice is harmless."""

from __future__ import annotations

from opsure.migrate import pending_drift, upgrade


def test_models_match_migrations(engine) -> None:  # type: ignore[no-untyped-def]
    assert pending_drift(engine) == []


def test_upgrade_is_idempotent(engine) -> None:  # type: ignore[no-untyped-def]
    upgrade(engine)
    assert pending_drift(engine) == []
