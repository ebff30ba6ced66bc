"""kill -9 of a consumer process in the middle of a batch: nothing lost, nothing applied twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core.db import read_only_session
from core.event_stream import ConsumerRow, read_events
from tests.event_factories import append_ticks, projection_rows, projection_table

pytestmark = pytest.mark.timeout(240)

KILLS = int(os.environ.get("OPSURE_EVENT_KILLS", "4"))
EVENTS = 600
CHILD = Path(__file__).with_name("events_crash_child.py")
REPO = Path(__file__).resolve().parents[2]


def _run(settings: Any, kind: str, *extra: str, kill_after: float | None) -> bool:
    """Run the child; kill -9 it ``kill_after`` seconds after it leads. True when it finished on its own."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), settings.resolved_database_url, str(settings.data_dir), kind, *extra],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "leading", proc.stderr.read() if proc.stderr else ""
    if kill_after is None:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out.strip() == "done", err
        return True
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    return False


def _ids(session_factory: Any) -> list[int]:
    with read_only_session(session_factory) as s:
        return [ev.id for ev in read_events(s, after=0, limit=100_000)]


def _position(session_factory: Any, name: str) -> int:
    with read_only_session(session_factory) as s:
        row = s.get(ConsumerRow, name)
        return row.position if row is not None else 0


@pytest.fixture
def projection(engine: Engine) -> Iterator[Any]:
    with projection_table(engine) as table:
        yield table


def test_a_projection_consumer_killed_mid_batch_applies_each_event_once(settings: Any, session_factory: Any,
                                                                        projection: Any) -> None:
    append_ticks(session_factory, EVENTS, per_tx=50)
    rng = random.Random(14)
    positions = []
    for _ in range(KILLS):
        _run(settings, "projection", kill_after=rng.uniform(0.15, 0.6))
        positions.append(_position(session_factory, "crash-projection"))
    assert positions[-1] < _ids(session_factory)[-1], "the kills came too late to land mid-stream"
    assert _run(settings, "projection", kill_after=None)
    ids = _ids(session_factory)
    with read_only_session(session_factory) as s:
        rows = projection_rows(s, "crash-projection")
    assert [r[0] for r in rows] == ids  # every event, exactly once, in order
    assert [r[2] for r in rows] == list(range(1, EVENTS + 1))


class _Receiver(BaseHTTPRequestHandler):
    received: list[int] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.received.append(body["eventId"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def test_a_webhook_consumer_killed_mid_batch_resumes_with_nothing_lost(settings: Any,
                                                                       session_factory: Any) -> None:
    append_ticks(session_factory, EVENTS, per_tx=50)
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        rng = random.Random(9)
        for _ in range(KILLS):
            _run(settings, "webhook", url, kill_after=rng.uniform(0.15, 0.6))
        assert _run(settings, "webhook", url, kill_after=None)
    finally:
        server.shutdown()
        server.server_close()
    ids = _ids(session_factory)
    received = _Receiver.received
    assert sorted(set(received)) == ids  # nothing lost
    redelivered = len(received) - len(set(received))
    assert redelivered <= KILLS * 25  # at least once: at most the batch each kill interrupted
    applied: dict[int, int] = {}
    for event_id in received:  # the receiver dedupes by event id: each applied once
        applied.setdefault(event_id, len(applied))
    assert list(applied) == sorted(applied)  # first deliveries arrive in event order


def test_the_partner_webhook_consumer_killed_mid_batch_makes_every_delivery_once(settings: Any,
                                                                                 session_factory: Any) -> None:
    """The real consumer (partners.webhooks): its deliveries are written with its position, so exactly once."""
    from sqlalchemy import func, select

    from core.clock import moved_clock
    from core.db import transaction
    from partners import webhooks
    from partners.models import WebhookDelivery
    from tests.partner_factories import NOW, make_assignment, make_partner, partner_principal

    assignments = 300
    with moved_clock(NOW):
        with transaction(session_factory) as s:
            firm = make_partner(s)
            webhooks.register_endpoint(s, principal=partner_principal(firm), partner_id=firm.id,
                                       url="http://127.0.0.1:9/hook", events=(), allow_insecure=True, now=NOW,
                                       policy=webhooks.EgressPolicy.from_entries(["127.0.0.1/32"]))
        for n in range(0, assignments, 20):
            with transaction(session_factory) as s:
                for i in range(n, n + 20):
                    make_assignment(s, firm, case_reference=f"CLM-{i}")
    rng = random.Random(21)
    for _ in range(KILLS):
        _run(settings, "partners-webhooks", kill_after=rng.uniform(0.2, 0.8))
    assert _position(session_factory, webhooks.WEBHOOK_CONSUMER.name) < _ids(session_factory)[-1], "killed too late"
    assert _run(settings, "partners-webhooks", kill_after=None)
    with read_only_session(session_factory) as s:
        made = s.execute(select(WebhookDelivery.payload, func.count()).group_by(WebhookDelivery.payload)).all()
    assert len(made) == assignments and all(count == 1 for _, count in made)  # every one, once
