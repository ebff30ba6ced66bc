"""docs/PARTNERS.md's walk-through works exactly as written, against a real ``opsure serve``.

The ``sh`` blocks of the guide's "Try it" section run in order in one bash (they share
variables), in a fresh directory laid out as the repository after ``make serve`` and
``npm install --prefix examples``: ``.venv`` links to the project's, ``examples/`` holds the
two scripts beside a ``node_modules`` with the packages ``examples/package.json`` pins (the ones
``make npm`` installs under contracts/), ``data`` is the data directory. Only the port changes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests import npm_tools

pytestmark = [pytest.mark.timeout(300), pytest.mark.npm]

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "PARTNERS.md"
SECTION = "## Try it: onboard an assessor firm from scratch"


def guide_blocks() -> list[str]:
    """The ``sh`` blocks of the guide's walk-through, in order."""
    section = GUIDE.read_text().split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]


def readme_examples_block() -> str:
    """The README's block running the examples as the demo's assessor firm."""
    after = (ROOT / "README.md").read_text().split("\nA partner's own code:", 1)[1]
    found = re.search(r"```bash\n(.*?)```", after, flags=re.S)
    assert found, "the README's examples block is missing"
    return found.group(1).strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _layout(tmp_path: Path) -> None:
    """The repository as the guide expects it: the venv, the examples with their npm packages."""
    for name in ("ethers", "@openzeppelin/merkle-tree"):
        npm_tools.package(name)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    examples = tmp_path / "examples"
    examples.mkdir()
    for name in ("partner_python.py", "partner_node.mjs", "package.json"):
        shutil.copyfile(ROOT / "examples" / name, examples / name)
    (examples / "node_modules").symlink_to(npm_tools.NODE_MODULES, target_is_directory=True)


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


def test_the_guide_blocks_use_only_the_documented_server() -> None:
    blocks = guide_blocks()
    assert len(blocks) == 9
    assert not re.search(r"(localhost|127\.0\.0\.1):(?!8000\b)\d+", "\n".join(blocks))


@contextmanager
def serving(tmp_path: Path, data_dir: Path, database_url: str) -> Iterator[tuple[int, dict[str, str]]]:
    """``opsure serve`` in ``tmp_path`` laid out as the repository; yields its port and environment."""
    _layout(tmp_path)
    assert data_dir == tmp_path / "data"  # the suite's data directory is ./data here (SQLite or PostgreSQL)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSURE_")}
    env["OPSURE_DATABASE_URL"] = database_url
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([".venv/bin/opsure", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", server, log)
        yield port, env
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def run_blocks(blocks: list[str], tmp_path: Path, port: int, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The blocks in order in one bash, on the served port, each output after ``=== block N``."""
    script = ["set -euo pipefail"]
    for n, block in enumerate(blocks, start=1):
        script += [f"echo '=== block {n}'", block.replace("localhost:8000", f"127.0.0.1:{port}")]
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=240)
    log = (tmp_path / "serve.log").read_text()[-3000:]
    assert done.returncode == 0, f"{done.stdout[-5000:]}\n{done.stderr[-3000:]}\n{log}"
    return done


def test_the_guide_walkthrough_runs_as_written(tmp_path: Path, data_dir: Path, database_url: str) -> None:
    with serving(tmp_path, data_dir, database_url) as (port, env):
        done = run_blocks(guide_blocks(), tmp_path, port, env)
    out = dict(re.findall(r"=== block (\d+)\n(.*?)(?==== block |\Z)", done.stdout, flags=re.S))
    _, registered, review, client, key, assignment, submitted, rotated, revoked = (out[str(n)] for n in range(1, 10))
    assert '"status": "SUBMITTED"' in registered and '"submittedBy": "agent-cli"' in registered
    first, started, approved = review.strip().splitlines()
    assert '"FORBIDDEN"' in first and '"REVIEWING"' in started and '"APPROVED"' in approved
    assert '"clientId": "pc_' in client and '"(shown once)"' in client
    assert '"status": "ACTIVE"' in key and '"status":"APPROVED"' in key
    assert '"investigationId": "90001"' in assignment and '"active":true' in assignment
    assert "verdict: VERIFIED" in submitted and "VERIFIED: the record's commitment is anchored on chain" in submitted
    python_run, node_run = rotated.split("exit status 2")
    assert "refused: KEY_EXPIRED" in python_run and '"rotatedFrom":"' in python_run
    assert node_run.strip().endswith("verdict: VERIFIED")
    assert '"revokedAt":"' in revoked and "invalid_client" in revoked and "HTTP 401" in revoked
    assert '"TOKEN_REVOKED"' in revoked


def test_the_readme_runs_the_examples_as_the_demo_assessor(tmp_path: Path, data_dir: Path, database_url: str) -> None:
    with serving(tmp_path, data_dir, database_url) as (port, env):
        demo = subprocess.run([".venv/bin/opsure", "demo", "--customers", "10"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=180)
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        # the block relies on the examples' default base URL, http://127.0.0.1:8000: point it at our port
        done = run_blocks([readme_examples_block()], tmp_path, port, {**env, "OPSURE_BASE_URL": f"http://127.0.0.1:{port}"})
    python_run, node_run = done.stdout.split("[1] logged in", 2)[1:]
    for run in (python_run, node_run):
        assert run.strip().endswith("verdict: VERIFIED") and "accepted as record" in run
