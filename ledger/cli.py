"""Command-line pieces of the ledger, mounted by ``opsure/cli.py``.

* ``ledger_cli`` — ``opsure ledger …``: ``export-proofs DIR``, ``status``, ``anchor``.
* ``verify_cli`` — ``opsure verify BUNDLE.json --rpc URL``: prints the verdict, exits 1
  when the bundle does not verify (2 for unreadable input).

Example::

    main.add_command(ledger_cli, "ledger")
    main.add_command(verify_cli, "verify")
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from core.crypto import FieldKeys, install_field_keys
from core.db import make_engine, make_session_factory
from core.settings import get_settings

__all__ = ["ledger_cli", "verify_cli"]


@contextmanager
def _sessions(*, field_keys: bool = False) -> Iterator[sessionmaker[Session]]:
    settings = get_settings()
    if field_keys:  # only commands that write encrypted columns need the data key
        install_field_keys(FieldKeys.load_or_create(settings.keys_dir))
    engine = make_engine(settings.resolved_database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@click.group("ledger")
def ledger_cli() -> None:
    """Anchored records: export proofs, show the outbox, anchor now."""


@ledger_cli.command("export-proofs")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_proofs_cmd(directory: Path) -> None:
    """Write every anchored record's proof bundle to DIRECTORY/<commitment>.json."""
    from ledger.service import anchored_bundles
    from ledger.verify import export_proofs

    with _sessions() as factory, factory() as session:
        n = export_proofs(anchored_bundles(session), directory)
    click.echo(f"wrote {n} proof bundles to {directory}")


@ledger_cli.command("status")
def status_cmd() -> None:
    """Records by status, the outbox, batches by status, the last anchored root."""
    from ledger.service import ledger_status

    with _sessions() as factory, factory() as session:
        click.echo(json.dumps(ledger_status(session).as_dict(), indent=2))


@ledger_cli.command("anchor")
@click.option("--rpc", "rpc_url", default=None, help="Ledger JSON-RPC URL (default OPSURE_LEDGER_RPC_URL).")
@click.option("--max-batch", default=10_000, show_default=True, type=int)
def anchor_cmd(rpc_url: str | None, max_batch: int) -> None:
    """Anchor every pending record now (one round; deploys the registry on first use)."""
    from ledger.anchoring import anchoring_round, open_chain
    from ledger.commitments import TenantKey, install_tenant_key

    settings = get_settings()
    install_tenant_key(TenantKey.load_or_create(settings.keys_dir))
    with _sessions(field_keys=True) as factory:
        chain = open_chain(settings, factory, target=rpc_url)
        result = anchoring_round(factory, chain, max_batch=max_batch, max_age=0)
    click.echo(json.dumps(result.__dict__, indent=2))
    if result.error:
        sys.exit(1)


@click.command("verify")
@click.argument("bundle_path", metavar="BUNDLE.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rpc", "rpc_url", default=None, help="Any Ethereum JSON-RPC URL of the ledger network.")
@click.option("--contract", "expect_contract", default=None,
              help="The AnchorRegistry address you trust (the bundle must name it).")
@click.option("--offline", is_flag=True, help="Check only the Merkle proof (no chain).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.option("--timeout", default=10.0, show_default=True, type=float, help="RPC timeout in seconds.")
def verify_cli(
    bundle_path: Path, rpc_url: str | None, expect_contract: str | None, offline: bool, as_json: bool,
    timeout: float,
) -> None:
    """Verify a proof bundle: Merkle proof off chain, then its anchoring on chain."""
    from ledger.verify import verify_bundle

    if rpc_url is None and not offline:
        rpc_url = get_settings().ledger_rpc_url
        if rpc_url is None:
            raise click.UsageError("give --rpc URL (or --offline to check only the Merkle proof)")
    try:
        bundle: Any = json.loads(bundle_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        click.echo(f"NOT VERIFIED: cannot read {bundle_path}: {exc}", err=True)
        sys.exit(2)
    verdict = verify_bundle(bundle, None if offline else rpc_url, timeout=timeout, expect_contract=expect_contract)
    click.echo(json.dumps(verdict.as_dict(), indent=2) if as_json else verdict.render())
    passed = verdict.proof_ok if offline else verdict.ok
    sys.exit(0 if passed else 1)
