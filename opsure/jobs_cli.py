"""``opsure jobs``: list the periodic jobs and run one round of a job on demand."""

from __future__ import annotations

import datetime as dt

import click

from core.settings import get_settings

__all__ = ["jobs_cli"]


@click.group("jobs")
def jobs_cli() -> None:
    """Periodic jobs (run by opsure worker): list them, run one now."""


@jobs_cli.command("list")
def list_jobs() -> None:
    """Every registered job with what it does."""
    from core.jobs import registered_jobs
    from opsure.worker import load_job_modules

    load_job_modules()
    for registered in registered_jobs():
        click.echo(f"{registered.name}\t{registered.description}")


@jobs_cli.command("run")
@click.argument("name")
@click.option("--at", "at", default=None, help="Run as of this ISO time with zone (default: now).")
def run(name: str, at: str | None) -> None:
    """Run one round of job NAME now (waits for no one: says so if another process runs it)."""
    from core.jobs import run_job
    from opsure.runtime import open_runtime
    from opsure.worker import load_job_modules

    load_job_modules()
    when = None
    if at is not None:
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise click.BadParameter("give the zone, e.g. 2026-11-27T09:00:00+08:00", param_hint="--at")
    runtime = open_runtime(get_settings())
    try:
        count = run_job(runtime.engine, runtime.session_factory, runtime.settings.data_dir, name, at=when)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from exc
    finally:
        runtime.engine.dispose()
    click.echo(f"{name}: another process is running it" if count is None else f"{name}: {count}")
