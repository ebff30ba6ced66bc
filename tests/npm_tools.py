"""Node.js tooling for the npm-backed checks: where it lives and why it cannot run.

The checks marked ``npm`` compare our Python against the JavaScript reference libraries
installed by ``make npm`` (``npm ci --prefix contracts``; ``make test`` runs it first).
They never skip: without the tooling they fail and say what to run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = REPO / "contracts"
NODE_MODULES = CONTRACTS / "node_modules"
#: Written by every ``npm ci``/``npm install``: its absence means the tree was never installed.
_INSTALLED_MARK = NODE_MODULES / ".package-lock.json"


def tooling_problem() -> str | None:
    """Why the npm-backed checks cannot run on this machine, or None when they can."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not on PATH: install Node.js (>= 20), then run `make npm`"
    if not _INSTALLED_MARK.is_file():
        return f"{NODE_MODULES.relative_to(REPO)} is not installed: run `make npm`"
    return None


def _executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: install Node.js (>= 20), then run `make npm`", pytrace=False)
    return path


def node() -> str:
    """The ``node`` executable; fails the calling test (never skips) when there is none."""
    return _executable("node")


def npm() -> str:
    """The ``npm`` executable; fails the calling test (never skips) when there is none."""
    return _executable("npm")


def package(name: str) -> Path:
    """The installed npm package ``name`` under contracts/node_modules; fails when it is absent."""
    path = NODE_MODULES / name
    if not path.exists():
        pytest.fail(f"{path.relative_to(REPO)} is missing: run `make npm`", pytrace=False)
    return path
