"""``opsure keys``: the field keyring — status, rotation, re-encryption, retirement.

A rotation, step by step (every process must hold a key before anything is sealed or
read under it)::

    opsure keys rotate-field-key        # adds key N+1 to field.key and makes it current
    # restart every opsure process: new writes use N+1, all keys still open
    opsure keys reencrypt               # batched, resumable, idempotent
    opsure keys retire-field-key N      # refused while any value is still under key N

The blind-index key is not rotated by these commands: a new one would need every blind
index (``*_bidx``) recomputed from the decrypted values.
"""

from __future__ import annotations

import json
import os

import click

from core.crypto import FIELD_KEY_ENV, FieldKeys, install_field_keys, write_keyring
from core.reencrypt import SealedColumn, reencrypt, remaining_by_key, sealed_columns
from core.settings import Settings, get_settings

__all__ = ["all_sealed_columns", "install_keys_for_migrations", "keys_cli"]


def install_keys_for_migrations(settings: Settings) -> FieldKeys:
    """Load (or create) and install the field keyring: migrations re-encrypt sealed fields."""
    keys = FieldKeys.load_or_create(settings.keys_dir)
    install_field_keys(keys)
    return keys


def all_sealed_columns() -> list[SealedColumn]:
    """Every column holding sealed values: encrypted model columns and wrapped document keys."""
    from opsure.models import metadata
    from resolvers.claims.envelope import data_key_context

    documents = SealedColumn("claim_document", "data_key", data_key_context(""), row=None, context_from="storage_key")
    return [*sealed_columns(metadata), documents]


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from core.db import make_engine

    return make_engine(settings.resolved_database_url)


@click.group("keys")
def keys_cli() -> None:
    """Field encryption keys: status, rotation, re-encryption, retirement."""


@keys_cli.command("status")
def status() -> None:
    """Key ids, the current one, and how many sealed values each key holds."""
    settings = get_settings()
    keys = FieldKeys.load_or_create(settings.keys_dir)
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            counts = remaining_by_key(conn, all_sealed_columns(), keys.data_keys)
    finally:
        engine.dispose()
    click.echo(json.dumps({"keys": list(keys.data_keys), "current": keys.current,
                           "source": FIELD_KEY_ENV if os.environ.get(FIELD_KEY_ENV) else "file",
                           "sealedValues": counts}, indent=2))


@keys_cli.command("rotate-field-key")
def rotate_field_key() -> None:
    """Add a new data key and make it current (older keys stay to open what they sealed)."""
    settings = get_settings()
    keys = FieldKeys.load_or_create(settings.keys_dir).with_new_key()
    if os.environ.get(FIELD_KEY_ENV):
        click.echo(f"{FIELD_KEY_ENV} is set, so nothing was written. Set it to this value (a secret), "
                   "restart every process, then run `opsure keys reencrypt`:", err=True)
        click.echo(keys.dump(one_line=True))
        return
    path = write_keyring(settings.keys_dir, keys)
    click.echo(f"key {keys.current} added to {path} and made current; restart every opsure process, "
               "then run `opsure keys reencrypt`")


@keys_cli.command("reencrypt")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
def reencrypt_cmd(batch: int) -> None:
    """Re-seal every sealed value under the current key (batched, resumable, idempotent)."""
    settings = get_settings()
    keys = install_keys_for_migrations(settings)
    engine = _engine(settings)
    try:
        report = reencrypt(engine.begin, all_sealed_columns(), keys=keys, batch=batch)
        with engine.connect() as conn:
            left = remaining_by_key(conn, all_sealed_columns(), keys.data_keys)
    finally:
        engine.dispose()
    click.echo(json.dumps({"current": keys.current, "rewritten": report.rewritten, "total": report.total,
                           "sealedValues": left,
                           "failures": [{"column": c, "id": pk, "error": why} for c, pk, why in report.failures]},
                          indent=2, default=str))
    if report.failures:
        raise SystemExit(1)


@keys_cli.command("retire-field-key")
@click.argument("key_id", type=int)
def retire_field_key(key_id: int) -> None:
    """Remove an old data key from the keyring; refused while any value is still sealed under it."""
    settings = get_settings()
    keys = FieldKeys.load_or_create(settings.keys_dir)
    try:
        smaller = keys.without_key(key_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            left = remaining_by_key(conn, all_sealed_columns(), keys.data_keys)
    finally:
        engine.dispose()
    under = left.get(str(key_id), 0) + (left.get("v1", 0) if key_id == 1 else 0)
    if under:
        raise click.ClickException(f"{under} values are still sealed under key {key_id}: run `opsure keys reencrypt`")
    if os.environ.get(FIELD_KEY_ENV):
        click.echo(f"{FIELD_KEY_ENV} is set, so nothing was written. Set it to:", err=True)
        click.echo(smaller.dump(one_line=True))
        return
    write_keyring(settings.keys_dir, smaller)
    click.echo(f"key {key_id} retired; keys left: {list(smaller.data_keys)}")
