"""``opsure events``: consumer status and lag, replay, dead letters, pruning."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from core.settings import get_settings

if TYPE_CHECKING:
    from opsure.runtime import Runtime

__all__ = ["events_cli"]


@click.group("events")
def events_cli() -> None:
    """The domain event stream: consumers, replay, dead letters, retention."""


def _runtime() -> Runtime:
    from opsure.event_stream_host import load_event_modules
    from opsure.runtime import open_runtime

    load_event_modules()
    return open_runtime(get_settings())


@events_cli.command("status")
def status() -> None:
    """Each consumer's position, lag (events and seconds), failing event and dead letters."""
    from core.db import read_only_session
    from core.event_stream import consumer_status

    runtime = _runtime()
    try:
        with read_only_session(runtime.session_factory) as session:
            rows = consumer_status(session)
            from core.event_stream import head_id

            head = head_id(session)
    finally:
        runtime.close()
    click.echo(f"head event: {head}")
    if not rows:
        click.echo("no consumers")
        return
    click.echo(f"{'consumer':<32} {'position':>10} {'lag':>8} {'lag s':>9} {'failing':>12} {'dead':>5}")
    for s in rows:
        position = "-" if s.position is None else str(s.position)
        failing = f"{s.failing_event_id}x{s.failing_attempts}" if s.failing_event_id else "-"
        name = s.name if s.registered else f"{s.name} (unknown here)"
        click.echo(f"{name:<32} {position:>10} {s.lag_events:>8} {s.lag_seconds:>9.1f} {failing:>12} {s.dead_letters:>5}")


def _parse_from(value: str) -> tuple[int | None, dt.datetime | None]:
    if value.isdigit():
        return int(value), None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("an event id or an ISO time with its zone (2026-06-01T08:00+08:00)") from None
    if at.tzinfo is None:
        raise click.BadParameter("give the time with its zone (2026-06-01T08:00+08:00), naive times are ambiguous")
    return None, at


@events_cli.command("replay")
@click.argument("consumer")
@click.option("--from", "start", required=True, help="The first event to deliver again: an id or an ISO time with zone.")
def replay_cmd(consumer: str, start: str) -> None:
    """Make CONSUMER read the stream again from an event id or a time."""
    from core.db import transaction
    from core.event_stream import replay

    from_id, from_time = _parse_from(start)
    runtime = _runtime()
    try:
        with transaction(runtime.session_factory) as session:
            position = replay(session, consumer, from_id=from_id, from_time=from_time)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        runtime.close()
    click.echo(f"{consumer}: position {position}; events after it are delivered again")


@events_cli.command("dead-letters")
@click.option("--consumer", default=None, help="Only this consumer's.")
@click.option("--retry", "retry_id", type=int, default=None, help="Ask the running consumer to retry this dead letter.")
@click.option("--all", "show_all", is_flag=True, help="Also list resolved ones.")
def dead_letters(consumer: str | None, retry_id: int | None, show_all: bool) -> None:
    """List dead letters (events a consumer gave up on), or ask for one to be retried."""
    from sqlalchemy import select

    from core.db import read_only_session, transaction
    from core.event_stream import DeadLetter, DeadLetterState, request_retry

    runtime = _runtime()
    try:
        if retry_id is not None:
            try:
                with transaction(runtime.session_factory) as session:
                    letter = request_retry(session, retry_id)
                    click.echo(f"dead letter {letter.id} (event {letter.event_id}, {letter.consumer}): retry requested")
            except (LookupError, ValueError) as exc:
                raise click.ClickException(str(exc)) from exc
            return
        stmt = select(DeadLetter).order_by(DeadLetter.id)
        if consumer:
            stmt = stmt.where(DeadLetter.consumer == consumer)
        if not show_all:
            stmt = stmt.where(DeadLetter.state != DeadLetterState.RESOLVED)
        with read_only_session(runtime.session_factory) as session:
            letters = session.execute(stmt).scalars().all()
    finally:
        runtime.close()
    if not letters:
        click.echo("no dead letters")
        return
    for letter in letters:
        last = letter.error.strip().splitlines()[-1] if letter.error.strip() else ""
        click.echo(f"{letter.id:>6} {letter.consumer:<28} event {letter.event_id:<10} {letter.state.value:<8} "
                   f"attempts {letter.attempts:<3} {letter.failed_at.isoformat(timespec='seconds')}  {last[:120]}")


@events_cli.command("prune")
@click.option("--days", type=int, default=None, help="Keep this many days (default: OPSURE_EVENT_RETENTION_DAYS).")
def prune(days: int | None) -> None:
    """Delete events past retention that every consumer has read."""
    from core.event_stream import prune_events

    settings = get_settings()
    runtime = _runtime()
    try:
        deleted = prune_events(runtime.session_factory,
                               retention_days=settings.event_retention_days if days is None else days,
                               past_consumers=settings.event_prune_past_consumers)
    finally:
        runtime.close()
    click.echo(f"{deleted} events pruned")
