"""Background jobs: expire ended policies, run the event consumers (and, with the ledger, anchor batches)."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import time

from core.clock import business_today
from core.db import transaction
from core.event_stream import drain, prune_events, registered_consumers
from core.jobs import registered_jobs, run_job
from core.leadership import leadership
from opsure.event_stream_host import EventStreamHost, load_event_modules
from opsure.runtime import Runtime
from resolvers.policies import service as policy_service

__all__ = ["JOB_MODULES", "drain_consumers_once", "load_job_modules", "run_jobs_once", "run_worker"]

#: Modules that register periodic jobs with ``core.jobs.job`` (each domain adds its ``jobs`` module here).
JOB_MODULES: tuple[str, ...] = (
    "resolvers.payments.jobs",
    "resolvers.payments.refunds",  # refunds awaiting an account; hears the rail's refund outcomes
    "resolvers.claims.payments",  # hears the rail's claim payout outcomes (PAID when settled)
    "resolvers.advances.jobs",
    "resolvers.investigations.jobs",
    "resolvers.service.jobs",  # work-order routing, silence reassignment, SLA breaches
    "resolvers.claims.reminders",  # supplementary documents past due
    "resolvers.claims.ops.qa",  # QA sampling of decided claims
    "resolvers.operations.tags.jobs",  # customer tags: incremental step and expiry, full rebuild
    "resolvers.analytics.jobs",  # the offline recompute of the metric rollups
)


def load_job_modules() -> None:
    """Import every module that registers periodic jobs."""
    for name in JOB_MODULES:
        importlib.import_module(name)

log = logging.getLogger("opsure.worker")


def run_jobs_once(runtime: Runtime, *, today: dt.date | None = None) -> dict[str, int]:
    """Run every job once; returns what each did."""
    day = today or business_today()
    with transaction(runtime.session_factory) as session:
        expired = policy_service.expire_due_policies(session, today=day)
    done = {"policies_expired": expired}
    load_job_modules()
    for registered in registered_jobs():
        try:
            count = run_job(runtime.engine, runtime.session_factory, runtime.settings.data_dir, registered.name)
        except Exception:  # one failing job does not stop the others; the next round retries it
            log.exception("job failed", extra={"job": registered.name})
            continue
        if count is not None:
            done[registered.name] = count
    return done


def drain_consumers_once(runtime: Runtime) -> dict[str, int]:
    """Bring every registered consumer this process can lead up to date, then prune; returns the counts."""
    load_event_modules()
    done: dict[str, int] = {}
    for consumer in registered_consumers():
        with leadership(runtime.engine, runtime.settings.data_dir, f"consumer:{consumer.name}") as lead:
            if lead is not None:  # else a running process consumes it
                done[consumer.name] = drain(runtime.session_factory, consumer)
    settings = runtime.settings
    done["events_pruned"] = prune_events(runtime.session_factory, retention_days=settings.event_retention_days,
                                         past_consumers=settings.event_prune_past_consumers)
    return done


def run_worker(runtime: Runtime, *, once: bool = False, interval: float = 30.0) -> None:
    """Loop over the jobs until interrupted (or once); anchoring and event consumers run beside them."""
    from opsure.ledger_host import LedgerHost

    host = LedgerHost(runtime)
    host.start()
    events = EventStreamHost(runtime, run_consumers=not once)
    try:
        if once:
            if host.mode != "off":
                try:
                    log.info("anchoring round", extra={"records": host.anchor_now().records})
                except Exception:
                    log.exception("anchoring round failed")
            log.info("event consumers ran", extra={"consumed": drain_consumers_once(runtime)})
        else:
            host.start_anchoring()
            events.start()
        _job_loop(runtime, once=once, interval=interval)
    finally:
        events.close()
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
