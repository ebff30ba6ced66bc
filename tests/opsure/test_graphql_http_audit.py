"""The npm ``graphql-http`` server audit suite (MUST, SHOULD and MAY) against the real server."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from opsure.runtime import Runtime
from tests import npm_tools

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "js" / "graphql_http_audit.mjs"

pytestmark = pytest.mark.npm


@pytest.fixture
def server_url(runtime: Runtime) -> Iterator[str]:
    """The app served by uvicorn on a free 127.0.0.1 port, in a thread."""
    from opsure.app import create_app

    app = create_app(runtime.settings, runtime)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_graphql_http_audit_passes_every_audit(server_url: str) -> None:
    npm_tools.package("graphql-http/package.json")
    node = npm_tools.node()
    proc = subprocess.run([node, str(SCRIPT), server_url], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.stdout, proc.stderr
    summary = json.loads(proc.stdout)
    failures = [f"{f['status']} {f['id']} {f['name']}: {f.get('reason')} (HTTP {f.get('httpStatus')})"
                for f in summary["failures"]]
    assert proc.returncode == 0 and summary["ok"] == summary["total"], "\n".join(failures)
    assert summary["total"] >= 61, summary["total"]
