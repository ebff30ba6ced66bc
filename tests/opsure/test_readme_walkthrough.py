"""The README's "Try it" walk-through works exactly as written, against a real ``opsure serve``.

The section's shell blocks are read from README.md. The first one (``make serve``) is
replaced by ``opsure serve`` on a free port, in a fresh directory where ``.venv`` links to the
project's and ``data`` is the data directory, as after ``make serve``; every other block runs
in order in one bash (they share variables), with only the port substituted. So the README
cannot drift from the commands, the API or the demo.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
SERVE_BLOCK = "make serve"
PORT_SPELLINGS = ("localhost:8000", "127.0.0.1:8000")


def walkthrough_blocks(readme: str) -> list[str]:
    """The ``sh`` blocks of the "Try it" section, in order."""
    section = readme.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _on_port(block: str, port: int) -> str:
    for spelling in PORT_SPELLINGS:
        block = block.replace(spelling, f"127.0.0.1:{port}")
    return block


def _wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, f"opsure serve exited: {log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"opsure serve did not become healthy: {log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def test_the_readme_blocks_are_the_walkthrough_we_run() -> None:
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    assert blocks[0] == SERVE_BLOCK and blocks[1] == ".venv/bin/opsure demo"
    assert all(b != SERVE_BLOCK for b in blocks[1:])
    # only the port changes: no other host or port may hide in the blocks
    assert not re.search(r"(localhost|127\.0\.0\.1):(?!8000\b)\d+", "\n".join(blocks))


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    port = _free_port()
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSURE_")}  # the README's defaults
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([".venv/bin/opsure", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", server, log)
        script = ["set -euo pipefail"]
        for n, block in enumerate(blocks[1:], start=1):
            script += [f"echo '=== block {n}'", _on_port(block, port)]
        done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=240)
    finally:
        _stop(server)
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}\n{log.read_text()[-3000:]}"
    out = dict(re.findall(r"=== block (\d+)\n(.*?)(?==== block |\Z)", done.stdout, flags=re.S))
    demo, queue, timeline, customer, hospital, auditor, paid = (out[str(n)] for n in range(1, 8))
    assert '"errors"' not in done.stdout, done.stdout[-4000:]
    assert re.search(r"records pending +0\n", demo) and "anchored by the running server" in demo, demo
    assert '"totalCount"' in queue and "DIRECT_BILLING" in queue
    assert '"PARTIALLY_APPROVED"' in timeline and '"reasonCode": "ADJUDICATED"' in timeline
    assert "adjudicated by demo:adjuster" in timeline  # staff wording names the adjuster
    assert "理赔已审核" in customer and "demo:adjuster" not in customer  # the customer's wording does not
    assert "NOT_COVERED" in customer and "200 application/pdf" in customer
    assert (tmp_path / "invoice.pdf").read_bytes().startswith(b"%PDF-")
    assert '"primaryType": "HOSPITAL_BILL"' in hospital and '"status": "ANCHORED"' in hospital
    assert '"kind": "HOSPITAL_BILL"' in auditor and '"status": "ANCHORED"' in auditor
    assert "bundle.json is the exported file" in auditor and "VERIFIED" in auditor
    assert '"state": "PAID"' in paid and '"status": "SETTLED"' in paid  # settled by the bank's returns file
    assert re.search(r"^H\|OPSURE\|B\d{8}-\d{4}\|", paid, flags=re.M) and re.search(r"^T\|\d+\|", paid, flags=re.M)
