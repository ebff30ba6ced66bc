"""`opsure events`: status with lag, replay, dead letters and their retry, prune; `opsure worker --once` drains."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.clock import moved_clock
from core.db import read_only_session
from core.event_stream import Consumer, ConsumerRow, DeadLetter, DeadLetterState, StoredEvent, drain
from core.settings import Settings, override_settings
from opsure.cli import main
from opsure.runtime import Runtime
from opsure.worker import drain_consumers_once
from tests.event_factories import (
    append_ticks,
    projection_consumer,
    projection_rows,
    projection_table,
    registered,
)


@pytest.fixture
def cli(settings: Settings) -> Iterator[Any]:
    override_settings(settings)

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, ["events", *args])

    yield run
    override_settings(None)


@pytest.fixture
def projection(engine: Engine) -> Iterator[Any]:
    with projection_table(engine) as table:
        yield table


def _broken(name: str) -> Consumer:
    def handle(_session: Session, ev: StoredEvent) -> None:
        if ev.id == 2:
            raise RuntimeError("the partner endpoint answered 500")

    return Consumer(name, handle, max_attempts=1)


def test_status_replay_and_dead_letters(cli: Any, session_factory: Any, projection: Any) -> None:
    with moved_clock(dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)) as clock:
        append_ticks(session_factory, 5)
        clock.advance(days=1)
        append_ticks(session_factory, 3, widget_id=2)
    live = projection_consumer("cli-projection")
    broken = _broken("cli-broken")
    with registered(live), registered(broken):
        drain(session_factory, broken)
        out = cli("status")
        assert out.exit_code == 0, out.output
        assert "head event: 8" in out.output
        rows = {line.split()[0]: line.split() for line in out.output.splitlines()[2:] if line.strip()}
        assert rows["cli-broken"] == ["cli-broken", "8", "0", "0.0", "-", "1"]
        assert rows["cli-projection"][:3] == ["cli-projection", "-", "8"]  # never ran: 8 behind

        drain(session_factory, live)
        out = cli("replay", "cli-projection", "--from", "2026-03-02T00:00+00:00")
        assert out.exit_code == 0 and "position 5" in out.output, out.output
        with read_only_session(session_factory) as s:
            assert len(projection_rows(s, "cli-projection")) == 5  # the consumer's reset dropped days 2+
        assert cli("replay", "cli-projection", "--from", "3").output.strip().endswith(
            "position 2; events after it are delivered again")
        assert "naive times are ambiguous" in cli("replay", "cli-projection", "--from", "2026-03-02T00:00").output
        assert cli("replay", "nobody", "--from", "1").exit_code != 0

        out = cli("dead-letters")
        [line] = out.output.splitlines()
        assert "cli-broken" in line and "event 2" in line and "RuntimeError: the partner endpoint answered 500" in line
        letter_id = int(line.split()[0])
        assert "retry requested" in cli("dead-letters", "--retry", str(letter_id)).output
        with read_only_session(session_factory) as s:
            assert s.get(DeadLetter, letter_id).state is DeadLetterState.RETRY  # type: ignore[union-attr]
        assert cli("dead-letters", "--retry", "999").exit_code != 0


def test_prune_from_the_command_line(cli: Any, session_factory: Any) -> None:
    with moved_clock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)):
        append_ticks(session_factory, 6)
    assert cli("prune", "--days", "30").output.strip() == "5 events pruned"  # the newest stays
    assert cli("prune").output.strip() == "0 events pruned"


def test_worker_once_drains_the_consumers_it_can_lead(runtime: Runtime, session_factory: Any,
                                                      projection: Any) -> None:
    append_ticks(session_factory, 12, per_tx=5)
    with registered(projection_consumer("worker-once")):
        done = drain_consumers_once(runtime)
    assert done["worker-once"] == 12 and done["events_pruned"] == 0
    with read_only_session(session_factory) as s:
        assert s.get(ConsumerRow, "worker-once").position == 12  # type: ignore[union-attr]
