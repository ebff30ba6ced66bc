"""What ``opsure serve`` runs in each uvicorn worker process: logging, the app, the collector.

``opsure serve --workers N`` starts N processes that each import :func:`create_served_app`
(a uvicorn factory), so every worker configures its own logging (a spawned worker does not
inherit the parent's) and tunes Python's garbage collector for serving once its app is
built (:func:`tune_gc_for_serving`).

Why the collector: after startup a worker holds ~260,000 tracked objects (web3, py-evm,
the schema) that live as long as the process, and a full collection walks all of them
(~135 ms here). A request allocates thousands of short-lived containers (rows, ORM
states, response dicts), so under load full collections came every second or so and cost
a tenth of the CPU; GraphQL requests, which allocate more, paid most (``bench/README.md``).
Freezing the startup heap takes those objects out of every collection; a larger first
generation threshold collects the young objects of several requests at once.

Example::

    uvicorn opsure.serving:create_served_app --factory --workers 2
"""

from __future__ import annotations

import gc

from starlette.applications import Starlette

__all__ = ["GC_THRESHOLDS", "create_served_app", "tune_gc_for_serving"]

# Collections of the youngest generation every 10,000 net allocations (Python's default: 700);
# the older generations keep their default ratios.
GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc_for_serving() -> None:
    """Collect once, freeze what is alive (startup state) and raise the young threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_served_app() -> Starlette:
    """uvicorn factory of ``opsure serve``: this worker's logging, its app, the tuned collector."""
    from core.settings import get_settings
    from opsure.app import create_app
    from opsure.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    tune_gc_for_serving()
    return app
