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
    held = f"; {done.held_lines} line(s) held for retry" if done.held_lines else ""
    click.echo(f"{done.files} file(s) applied, {done.refused_files} refused; {done.settled} settled, "
               f"{done.returned} returned, {done.rejected_lines} line(s) not applied{held}")


@payments_cli.command("retry")
def retry() -> None:
    """Retry the held returns lines that are due (as the payments.retry_held_returns job does)."""
    from core.clock import now
    from core.leadership import leadership
    from opsure.runtime import open_runtime
    from opsure.worker import load_job_modules
    from resolvers.payments.jobs import retry_held

    load_job_modules()
    runtime = open_runtime(get_settings())
    try:
        with leadership(runtime.engine, runtime.settings.data_dir, "job:payments.retry_held_returns") as lead:
            if lead is None:
                raise click.ClickException("another process is retrying held lines now")
            done = retry_held(runtime.session_factory, now())
    finally:
        runtime.engine.dispose()
    click.echo(f"{done.applied} applied, {done.retrying} still retrying, {done.dead_lettered} dead-lettered")


@payments_cli.command("held")
@click.option("--state", type=click.Choice(["retrying", "dead_letter", "applied"]), default=None,
              help="Only lines in this state (default: all).")
def held(state: str | None) -> None:
    """List returns lines held because their owner's handler failed (id, state, attempts, reference, amount)."""
    from core.pagination import PageRequest
    from opsure.runtime import open_runtime
    from resolvers.payments import service

    runtime = open_runtime(get_settings())
    try:
        with runtime.session_factory() as session:
            after = None
            while True:
                page = service.list_holds(session, page=PageRequest(first=100, after=after),
                                          state=service.ReturnHoldState(state) if state else None)
                for r in page.items:
                    click.echo(f"{r.id}\t{r.state.value}\t{r.attempts}\t{r.last_error}\t{r.reference}\t"
                               f"{'settled' if r.settled else 'returned'}\t{r.amount}\t{r.file_name}:{r.line_no}")
                if not page.has_next:
                    break
                after = page.end_cursor
    finally:
        runtime.engine.dispose()


@payments_cli.command("requeue")
@click.argument("hold_id", type=int)
def requeue(hold_id: int) -> None:
    """Send a dead-lettered returns line back to retrying (once its owner's fault is fixed)."""
    from core.clock import now
    from core.db import transaction
    from core.errors import DomainError
    from opsure.runtime import open_runtime
    from resolvers.payments import service

    runtime = open_runtime(get_settings())
    try:
        with transaction(runtime.session_factory) as session:
            row = service.requeue_hold(session, hold_id=hold_id, at=now())
            click.echo(f"{row.id} {row.state.value}")
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc}") from exc
    finally:
        runtime.engine.dispose()
