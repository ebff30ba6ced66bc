"""/healthz tells anonymous callers a status, never the database's error text."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.db import make_engine, make_session_factory
from opsure.app import create_app
from opsure.runtime import Runtime

# A database that refuses connections; its error text would name the host, port and user.
DOWN_URL = "postgresql+psycopg://leaky_admin:hunter2@127.0.0.1:9/payroll_db?connect_timeout=2"


def test_healthy(http: Any) -> None:
    resp = http.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


def test_a_down_database_is_a_bare_503_and_the_detail_stays_in_the_log(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(DOWN_URL)
    down = Runtime(runtime.settings, engine, make_session_factory(engine), runtime.token_keys, runtime.field_keys)
    with caplog.at_level(logging.ERROR, logger="opsure.http"), TestClient(create_app(down.settings, down)) as client:
        resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.json() == {"status": "unavailable"}
    for secret in ("127.0.0.1", "leaky_admin", "payroll_db", "connection", "refused", "psycopg"):
        assert secret not in resp.text.lower()
    assert any("127.0.0.1" in (r.exc_text or "") + r.getMessage() for r in caplog.records)
