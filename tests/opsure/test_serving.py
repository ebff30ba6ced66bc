"""What each `opsure serve` worker runs: its own logging, the app, the collector tuned for serving.

Run in a fresh interpreter, as uvicorn's spawned workers are: the test process's own
collector and logging stay as they are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from opsure.serving import GC_THRESHOLDS

REPO = Path(__file__).resolve().parents[2]

WORKER = """
import gc, json, logging
from opsure.serving import create_served_app
app = create_served_app()
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "thresholds": gc.get_threshold(),
    "formatter": type(logging.getLogger().handlers[0].formatter).__name__,
    "routes": sorted({getattr(r, "path", "") for r in app.routes}),
}))
"""


def test_a_worker_configures_logging_and_freezes_its_startup_heap(tmp_path: Path) -> None:
    env = {**os.environ, "OPSURE_DATA_DIR": str(tmp_path / "data"), "OPSURE_LEDGER": "off",
           "OPSURE_DATABASE_URL": f"sqlite:///{tmp_path / 'opsure.db'}"}
    done = subprocess.run([sys.executable, "-c", WORKER], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    worker = json.loads(done.stdout.strip().splitlines()[-1])
    assert worker["frozen"] > 10_000  # the modules, the schema, the app: out of every collection
    assert tuple(worker["thresholds"]) == GC_THRESHOLDS
    assert worker["formatter"] == "JsonFormatter"  # a spawned worker logs like the parent would
    assert "/graphql" in worker["routes"]
