"""Anchoring what the demo wrote, so its proofs verify the moment ``opsure demo`` returns.

When this process holds the ledger (no server running, or an external network), the demo
anchors every pending record itself, then runs the partner jobs once, so approved signers
get their on-chain role. When a running ``opsure serve`` holds the embedded node, that
server's anchoring worker does both; the demo waits until it has (or a timeout passes).
"""

from __future__ import annotations

import time

from sqlalchemy import func, select

from core.audit import AuditEntry
from ledger import service as ledger
from ledger.models import LedgerCursor, RecordStatus
from opsure.ledger_host import LedgerHost
from opsure.runtime import Runtime
from partners.jobs import run_partner_jobs
from partners.models import ChainRoleSync

__all__ = ["settle_ledger"]

MAX_ROUNDS = 10


def _anchor_here(host: LedgerHost, runtime: Runtime) -> str:
    for _ in range(MAX_ROUNDS):
        result = host.anchor_now()
        if not result.ok:
            return f"anchoring stopped: {result.error} (records stay pending; `opsure ledger anchor` retries)"
        if result.pending == 0:
            break
    run_partner_jobs(runtime.session_factory, chain=host.chain())
    return "anchored by this process"


def _settled(runtime: Runtime, audit_seq: int) -> bool:
    with runtime.session_factory() as s:
        status = ledger.ledger_status(s)
        cursor = s.get(LedgerCursor, ledger.AUDIT_CURSOR)
        roles_due = s.scalar(select(func.count()).select_from(ChainRoleSync).where(ChainRoleSync.synced_at.is_(None)))
    return status.records[RecordStatus.PENDING] == 0 and cursor is not None and cursor.position >= audit_seq \
        and not roles_due


def settle_ledger(host: LedgerHost, runtime: Runtime, *, timeout: float = 120.0, poll: float = 0.5) -> str:
    """Anchor the demo's records (here, or wait for the serving process); returns what happened."""
    if host.mode == "off":
        return "the ledger is off (OPSURE_LEDGER=off): records stay pending"
    if host.mode == "external" or host.node is not None:
        return _anchor_here(host, runtime)
    with runtime.session_factory() as s:
        audit_seq = int(s.scalar(select(func.max(AuditEntry.seq))) or 0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _settled(runtime, audit_seq):
            return "anchored by the running server"
        time.sleep(poll)
    return (f"still pending after {timeout:.0f} s: the running server anchors them (is "
            "OPSURE_ANCHORING_IN_PROCESS off? then run `opsure worker`)")
