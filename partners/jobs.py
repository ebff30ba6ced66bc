"""Periodic partner jobs, for the worker: expiry, role sync, anchoring news, webhooks.

Example (one round)::

    http = egress_client(EgressPolicy.from_settings(runtime.settings))   # webhooks reach public hosts only
    done = run_partner_jobs(runtime.session_factory, chain=chain, http=http)
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from ledger.chain_client import ChainClient
from partners import chain_roles, keys, review, signed_records, webhooks

__all__ = ["run_partner_jobs"]

log = logging.getLogger("opsure.partners.jobs")


def run_partner_jobs(
    session_factory: sessionmaker[Session],
    *,
    now: dt.datetime | None = None,
    chain: ChainClient | None = None,
    http: httpx.Client | None = None,
) -> dict[str, int]:
    """One round of every partner job; returns what each did (chain/http jobs need a client)."""
    at = now or utcnow()
    with transaction(session_factory) as s:
        expired = review.expire_due_partners(s, now=at)
        key_syncs = keys.request_expired_key_syncs(s, now=at)
    with transaction(session_factory) as s:
        anchored = signed_records.notify_anchored(s, now=at)
    done = {"partners_expired": expired, "key_role_syncs_requested": key_syncs, "records_anchored_notified": anchored}
    if chain is not None:
        result = chain_roles.sync_chain_roles(session_factory, chain, now=at)
        done.update(roles_granted=result.granted, roles_revoked=result.revoked, role_sync_errors=len(result.errors))
    if http is not None:
        # Unless a time was given, deliver as of now: the rounds above (chain syncs) take time, and
        # the deliveries the webhook consumer makes from their events are due from when they occurred.
        delivered = webhooks.deliver_pending(session_factory, http, now=now)
        done.update(webhooks_delivered=delivered.delivered, webhooks_retried=delivered.retried,
                    webhooks_failed=delivered.failed)
    return done
