"""The process's wiring: settings, engine, sessions and keys, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditKey, install_audit_key
from core.auth import TokenKeys
from core.clock import install_business_zone
from core.crypto import FieldKeys, install_field_keys
from core.db import make_engine, make_session_factory
from core.settings import Settings
from ledger.commitments import TenantKey, install_tenant_key

__all__ = ["Runtime", "open_runtime"]


@dataclass
class Runtime:
    """Long-lived objects shared by every request of one process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    token_keys: TokenKeys
    field_keys: FieldKeys

    def close(self) -> None:
        """Dispose of pooled connections."""
        self.engine.dispose()


def open_runtime(settings: Settings) -> Runtime:
    """Create the data directory, load or create keys, and connect the database."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    token_keys = TokenKeys.load_or_create(settings.keys_dir)
    field_keys = FieldKeys.load_or_create(settings.keys_dir)
    install_field_keys(field_keys)
    install_tenant_key(TenantKey.load_or_create(settings.keys_dir))
    install_audit_key(AuditKey.load_or_create(settings.keys_dir))
    install_business_zone(settings.business_timezone)  # an unknown zone fails here, not on a first date
    engine = make_engine(settings.resolved_database_url)
    return Runtime(settings, engine, make_session_factory(engine), token_keys, field_keys)
