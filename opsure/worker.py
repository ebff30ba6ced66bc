"""Background jobs: expire ended policies (and, with the ledger, anchor batches)."""

from __future__ import annotations

import datetime as dt
import logging
import time

from core.clock import business_today
from core.db import transaction
from opsure.runtime import Runtime
from resolvers.policies import service as policy_service

__all__ = ["run_jobs_once", "run_worker"]

log = logging.getLogger("opsure.worker")


def run_jobs_once(runtime: Runtime, *, today: dt.date | None = None) -> dict[str, int]:
    """Run every job once; returns what each did."""
    day = today or business_today()
    with transaction(runtime.session_factory) as session:
        expired = policy_service.expire_due_policies(session, today=day)
    return {"policies_expired": expired}


def run_worker(runtime: Runtime, *, once: bool = False, interval: float = 30.0) -> None:
    """Loop over the jobs until interrupted (or once); anchoring runs beside them."""
    from opsure.ledger_host import LedgerHost

    host = LedgerHost(runtime)
    host.start()
    try:
        if once:
            if host.mode != "off":
                try:
                    log.info("anchoring round", extra={"records": host.anchor_now().records})
                except Exception:
                    log.exception("anchoring round failed")
        else:
            host.start_anchoring()
        _job_loop(runtime, once=once, interval=interval)
    finally:
        host.close()


def _job_loop(runtime: Runtime, *, once: bool, interval: float) -> None:
    while True:
        try:
            done = run_jobs_once(runtime)
            log.info("jobs ran", extra=done)
        except Exception:  # keep the worker alive; the next round retries
            log.exception("job round failed")
        if once:
            return
        time.sleep(interval)
