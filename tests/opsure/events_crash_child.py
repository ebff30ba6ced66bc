"""Child process of test_events_crash: one durable consumer draining the stream until killed.

Usage: ``events_crash_child.py DATABASE_URL DATA_DIR projection|webhook|partners-webhooks [WEBHOOK_URL]``
(``partners-webhooks``: the real consumer turning partner events into webhook deliveries).
It leads the consumer, prints ``leading``, delivers batches (slowly, so a kill lands inside
one) and prints ``done`` once caught up.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from core.db import make_engine, make_session_factory
from core.event_stream import Consumer, StoredEvent, drain
from core.leadership import leadership
from tests.event_factories import TICKED, projection_consumer

# 600 events take at least 3 s: four kills at most 0.6 s after leading always land before the end.
PER_EVENT_SECONDS = 0.005


def _consumer(kind: str, url: str | None) -> Consumer:
    if kind == "projection":
        inner = projection_consumer("crash-projection", batch_size=25)

        def write(session: Session, ev: StoredEvent) -> None:
            inner.handle(session, ev)
            time.sleep(PER_EVENT_SECONDS)

        return Consumer(inner.name, write, types=inner.types, batch_size=25)
    if kind == "partners-webhooks":
        from partners.webhooks import WEBHOOK_CONSUMER

        def make_deliveries(session: Session, ev: StoredEvent) -> None:
            WEBHOOK_CONSUMER.handle(session, ev)
            time.sleep(PER_EVENT_SECONDS * 5)

        return Consumer(WEBHOOK_CONSUMER.name, make_deliveries, types=WEBHOOK_CONSUMER.types, batch_size=25)
    http = httpx.Client(timeout=10)

    def post(_session: Session, ev: StoredEvent) -> None:  # at least once: the receiver dedupes by event id
        http.post(url or "", json={"eventId": ev.id, "payload": ev.payload_json}).raise_for_status()
        time.sleep(PER_EVENT_SECONDS)

    return Consumer("crash-webhook", post, types=frozenset({TICKED.name}), batch_size=25)


def main() -> None:
    """Lead the consumer and drain it."""
    url, data_dir, kind = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    consumer = _consumer(kind, sys.argv[4] if len(sys.argv) > 4 else None)
    engine = make_engine(url)
    with leadership(engine, data_dir, f"consumer:{consumer.name}") as lead:
        assert lead is not None, "another process leads"
        print("leading", flush=True)
        drain(make_session_factory(engine), consumer)
    print("done", flush=True)


if __name__ == "__main__":
    main()
