"""``opsure payments``: hand pending instructions to the bank, read its returns files, on demand.

The same rounds as the worker's ``payments.export`` and ``payments.import_returns`` jobs, under
the same locks, with what each did printed (never an account number).
"""

from __future__ import annotations

import click

from core.settings import get_settings

__all__ = ["payments_cli"]


@click.group("payments")
def payments_cli() -> None:
    """The payment rail's bank exchange (files in <data_dir>/payments)."""


@payments_cli.command("export")
def export() -> None:
    """Write every pending instruction to a bank batch file in <data_dir>/payments/outbox."""
    from core.clock import now
    from core.leadership import leadership
    from opsure.runtime import open_runtime
    from opsure.worker import load_job_modules
    from resolvers.payments.adapter import FileRailAdapter
    from resolvers.payments.jobs import export_batches

    load_job_modules()
    runtime = open_runtime(get_settings())
    adapter = FileRailAdapter(runtime.settings.data_dir / "payments")
    try:
        with leadership(runtime.engine, runtime.settings.data_dir, "job:payments.export") as lead:
            if lead is None:
                raise click.ClickException("another process is exporting now")
            before = set(adapter.outbox.glob("*.txt")) if adapter.outbox.is_dir() else set()
            sent = export_batches(runtime.session_factory, now(), adapter)
    finally:
        runtime.engine.dispose()
    written = sorted(set(adapter.outbox.glob("*.txt")) - before) if adapter.outbox.is_dir() else []
    click.echo(f"{sent} instructions in {len(written)} batch file(s)")
    for path in written:
        click.echo(f"  {path}")


@payments_cli.command("import")
def import_returns() -> None:
    """Apply every returns file waiting in <data_dir>/payments/returns (each applies once)."""
    from core.clock import now
    from core.leadership import leadership
    from opsure.runtime import open_runtime
    from opsure.worker import load_job_modules
    from resolvers.payments.adapter import FileRailAdapter
    from resolvers.payments.jobs import import_returns as run_import

    load_job_modules()
    runtime = open_runtime(get_settings())
    try:
        with leadership(runtime.engine, runtime.settings.data_dir, "job:payments.import_returns") as lead:
            if lead is None:
                raise click.ClickException("another process is reading returns now")
            done = run_import(runtime.session_factory, now(), FileRailAdapter(runtime.settings.data_dir / "payments"))
    finally:
        runtime.engine.dispose()
    click.echo(f"{done.files} file(s) applied, {done.refused_files} refused; {done.settled} settled, "
               f"{done.returned} returned, {done.rejected_lines} line(s) not applied")
