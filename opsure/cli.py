"""The ``opsure`` command: serve, migrate, demo, token, worker, keys, events."""

from __future__ import annotations

import sys

import click

from core.auth import Role, issue_token
from core.settings import get_settings

__all__ = ["main"]


@click.group()
def main() -> None:
    """Opsure: the open platform for internet health-insurance operations."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Migrate the database, then serve the API (data directory from OPSURE_DATA_DIR).

    Each worker is a process of its own (``opsure.serving``); the first to start holds the
    embedded ledger node and the others forward ``/rpc`` to it.
    """
    import uvicorn

    from core.db import make_engine
    from opsure.keys_cli import install_keys_for_migrations
    from opsure.logs import configure_logging
    from opsure.migrate import upgrade

    settings = get_settings()
    configure_logging(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    install_keys_for_migrations(settings)  # a migration may re-encrypt sealed fields
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    engine.dispose()
    uvicorn.run(
        "opsure.serving:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,  # the app logs one line per request, with its request id
        proxy_headers=False,
    )


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from core.db import make_engine
    from opsure.keys_cli import install_keys_for_migrations
    from opsure.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    install_keys_for_migrations(settings)  # a migration may re-encrypt sealed fields
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    click.echo(f"database at head: {engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.option("--customers", default=500, show_default=True, type=int, help="Customers of the policy history.")
@click.option("--years", default=2, show_default=True, type=int, help="Years of policy history.")
@click.option("--seed", default=7, show_default=True, type=int,
              help="Same seed, same data set (and the same partner signer keys).")
@click.option("--wait", default=120.0, show_default=True, type=float,
              help="Seconds to wait for a running server to anchor what the demo wrote.")
def demo(customers: int, years: int, seed: int, wait: float) -> None:
    """Load the whole platform once: policies, partners, claims in every state, documents, risk flags.

    Everything is anchored on the ledger (by this process, or by a running server, which the
    demo waits for). Demo credentials go to <data_dir>/demo/partners.json (mode 0600). A data
    directory takes the demo once: a second run refuses and changes nothing.
    """
    from core.errors import DomainError
    from opsure.demo import run_demo
    from opsure.demo.summary import render_summary
    from opsure.migrate import upgrade
    from opsure.runtime import open_runtime

    runtime = open_runtime(get_settings())
    try:
        upgrade(runtime.engine)
        result = run_demo(runtime, customers=customers, years=years, seed=seed, wait=wait)
    except DomainError as exc:  # loaded already; no ledger to sign for
        raise click.ClickException(exc.message) from exc
    finally:
        runtime.close()
    click.echo(render_summary(result.summary))


class RowKey(click.ParamType):  # type: ignore[type-arg]  # click's stubs vary by version
    """A row's key given as its global id (``customer { id }``) or, for compatibility, as the integer key."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.name = f"{type_name} id"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """The integer key inside ``value``; a clear usage error for anything else."""
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isascii() and text.isdigit():
            return int(text)
        from core.errors import ValidationError
        from schema.relay import decode_global_id

        try:
            return decode_global_id(text, self.type_name)
        except ValidationError as exc:
            self.fail(f"{value!r} is not a {self.type_name} global id ({exc.message}) nor an integer key", param, ctx)


@main.command()
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--subject", default=None, help="Token subject (default: <role>-cli).")
@click.option("--customer-id", type=RowKey("Customer"), default=None,
              help="The customer's global id (or integer key); required for the customer role.")
@click.option("--partner-id", type=RowKey("Partner"), default=None,
              help="The partner's global id (or integer key); required for the partner role.")
@click.option("--ttl", type=int, default=None, help="Lifetime in seconds.")
def token(
    role: str, subject: str | None, customer_id: int | None, partner_id: int | None, ttl: int | None
) -> None:
    """Mint a signed bearer token (embedded default key)."""
    from core.auth import TokenKeys

    settings = get_settings()
    r = Role(role)
    if r is Role.CUSTOMER and customer_id is None:
        raise click.UsageError("--customer-id is required for the customer role")
    if r is Role.PARTNER and partner_id is None:
        raise click.UsageError("--partner-id is required for the partner role")
    keys = TokenKeys.load_or_create(settings.keys_dir)
    click.echo(
        issue_token(
            keys,
            settings,
            subject=subject or f"{role}-cli",
            role=r,
            customer_id=customer_id,
            partner_id=partner_id,
            ttl_seconds=ttl,
        )
    )


@main.command("schema")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write here (default: stdout).")
def export_schema(output: str | None) -> None:
    """Print the GraphQL SDL (the committed snapshot is schema/schema.graphql)."""
    from schema import build_schema

    sdl = build_schema(get_settings()).as_str() + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(sdl)
    else:
        click.echo(sdl, nl=False)


@main.command()
@click.option("--once", is_flag=True, help="Run every job once and exit.")
@click.option("--interval", default=30.0, show_default=True, type=float)
def worker(once: bool, interval: float) -> None:
    """Run background jobs (policy expiry; ledger anchoring when configured)."""
    from opsure.logs import configure_logging
    from opsure.runtime import open_runtime
    from opsure.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level)
    run_worker(open_runtime(settings), once=once, interval=interval)


def _register_subcommands() -> None:
    from ledger.cli import ledger_cli, verify_cli
    from opsure.claim_documents import claim_documents_cli
    from opsure.events_cli import events_cli
    from opsure.jobs_cli import jobs_cli
    from opsure.keys_cli import keys_cli
    from opsure.payments_cli import payments_cli
    from opsure.trusted_documents import documents_cli

    main.add_command(claim_documents_cli, "claim-documents")
    main.add_command(documents_cli, "documents")
    main.add_command(events_cli, "events")
    main.add_command(jobs_cli, "jobs")
    main.add_command(keys_cli, "keys")
    main.add_command(ledger_cli, "ledger")
    main.add_command(payments_cli, "payments")
    main.add_command(verify_cli, "verify")
    ledger_cli.add_command(ledger_node, "node")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8545, show_default=True, type=int)
def ledger_node(host: str, port: int) -> None:
    """Run the embedded EVM node as its own process (JSON-RPC at http://HOST:PORT/).

    It also listens on ``<data_dir>/chain/rpc.sock``: ``opsure serve`` workers on this data
    directory forward ``/rpc`` there. The public bounds (``OPSURE_RPC_*``) apply to both.
    """
    from ledger.chain_client import load_or_create_account
    from ledger.node.rpc import run_node
    from ledger.node.rpc_limits import RpcLimits
    from opsure.ledger_host import PREFUND_WEI

    settings = get_settings()
    account = load_or_create_account(settings.keys_dir)
    run_node(host, port, settings.data_dir / "chain", prefund={account.address: PREFUND_WEI},
             allowlist=[account.address], chain_id=settings.ledger_chain_id, max_clock_drift=0.0,
             limits=RpcLimits.from_settings(settings), redis_url=settings.redis_url)


_register_subcommands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
