"""Secrets kept as files in the data directory, created once and never overwritten.

Example::

    hex_key = secret_file(keys_dir / "tenant.key", env="OPSURE_TENANT_KEY",
                          make=lambda: secrets.token_bytes(32).hex())
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["secret_file"]


def secret_file(path: Path, *, make: Callable[[], str], env: str | None = None) -> str:
    """The secret from ``env`` if set, else from ``path``, created (0600) by ``make`` if absent.

    Creation is atomic and the first writer wins, so processes starting together agree.
    """
    if env:
        value = os.environ.get(env)
        if value:
            return value.strip()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
