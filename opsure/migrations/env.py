"""Alembic environment: runs against the URL the caller configured (see opsure.migrate)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool

from core.crypto import EncryptedString
from core.db import UTCDateTime
from opsure.models import metadata

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render Opsure's column types as the plain SQL types they are stored as."""
    if type_ == "type" and isinstance(obj, EncryptedString):
        return "sa.Text()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


OPTS: dict[str, Any] = {"render_as_batch": True, "compare_type": True, "render_item": render_item}


def run_migrations_online() -> None:
    """Run migrations with a connection handed in by opsure.migrate, or from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, **OPTS)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, **OPTS)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
