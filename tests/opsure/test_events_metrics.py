"""``/metrics`` counts domain events by type, as this process's tail read them (whoever committed them)."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.db import transaction
from core.event_stream import process_tail
from opsure.app import create_app
from tests.factories import make_policy
from tests.partner_factories import make_assignment, make_partner

pytestmark = pytest.mark.timeout(60)


def _count(text: str, event_type: str) -> float:
    found = re.search(rf'^opsure_events_total\{{type="{re.escape(event_type)}"\}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_events_committed_after_the_start_are_counted_by_type(runtime: Any, session_factory: Any) -> None:
    with TestClient(create_app(runtime.settings, runtime), client=("127.0.0.1", 5000)) as http:
        before = http.get("/metrics").text
        assert _count(before, "policy.issued") == 0
        with transaction(session_factory) as s:  # committed outside any request, as another process would
            for _ in range(3):
                make_policy(s, today=dt.date(2026, 6, 1))
            make_assignment(s, make_partner(s))
        deadline = time.monotonic() + 10
        while process_tail().position == 0 or _count(http.get("/metrics").text, "policy.issued") < 3:
            assert time.monotonic() < deadline, "the tail never counted the events"
            time.sleep(0.05)
        text = http.get("/metrics").text
    assert _count(text, "policy.issued") == 3
    assert _count(text, "partner.assignment_created") == 1
    assert _count(text, "partner.approved") == 1  # make_partner approves it
    position = re.search(r"^opsure_event_tail_position (\S+)$", text, re.MULTILINE)
    assert position is not None and float(position.group(1)) >= 6
