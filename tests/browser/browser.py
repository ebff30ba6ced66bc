"""Debian's Chromium driven by playwright-core (``web/node_modules``) through ``driver.mjs``.

Browser checks are marked ``npm`` and never skip: without Chromium or the web packages they
fail and say what to install (``apt-get install chromium``; ``make npm``). ``.ci/run``
installs Chromium when it is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import npm_tools

__all__ = ["chromium", "run_page"]

DRIVER = Path(__file__).with_name("driver.mjs")
WEB_MODULES = npm_tools.REPO / "web" / "node_modules"


def chromium() -> str:
    """The Chromium executable; fails the calling test (never skips) when there is none."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not on PATH: install it (Debian: `apt-get install chromium`; .ci/run does)",
                    pytrace=False)
    return path


def run_page(url: str, mode: str, profile: Path, timeout_ms: int = 60_000) -> dict[str, Any]:
    """Open ``url`` in headless Chromium with a fresh profile; what the page reported (see driver.mjs)."""
    if not (WEB_MODULES / "playwright-core" / "package.json").is_file():
        pytest.fail("web/node_modules/playwright-core is missing: run `make npm`", pytrace=False)
    config = {"chromium": chromium(), "userDataDir": str(profile), "url": url, "mode": mode, "timeoutMs": timeout_ms}
    proc = subprocess.run([npm_tools.node(), str(DRIVER), json.dumps(config)], capture_output=True, text=True,
                          timeout=timeout_ms / 1000 + 60, check=False)
    assert proc.returncode == 0 and proc.stdout, f"driver failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(proc.stdout)
    return report
