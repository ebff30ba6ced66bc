"""Analytics jobs: the offline full recompute of the rollups, alert evaluation, alert webhooks."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session, sessionmaker

from core.clock import business_date
from core.db import transaction
from core.egress import EgressPolicy, egress_client
from core.jobs import job
from core.settings import get_settings
from resolvers.analytics.alerts import deliver_notifications, evaluate_rules
from resolvers.analytics.rollups import last_rebuilt_at, rebuild, rollup_totals

__all__ = ["alert_webhooks_job", "alerts_job", "rebuild_job"]

log = logging.getLogger("opsure.analytics")


@job("analytics.rebuild", "once a business day, recompute every analytics rollup from all policies and claims (the "
                          "offline check of the live rollups: a difference is logged, then repaired)")
def rebuild_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """Rebuild all rollups in one transaction unless done already on ``at``'s business date; rows read."""
    with transaction(sessions) as session:
        last = last_rebuilt_at(session)
        if last is not None and business_date(last) >= business_date(at):
            return 0
        before = rollup_totals(session)
        read = rebuild(session)
        after = rollup_totals(session)
        if before and before != after:
            differing = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
            log.warning("analytics rebuild: %d rollup rows differed from the live ones (repaired)", len(differing))
        return read


@job("analytics.alerts", "evaluate every active alert rule (threshold and forecast): ok, pending, firing, resolved")
def alerts_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """One evaluation round at ``at``; how many rules changed state."""
    with transaction(sessions) as session:
        return evaluate_rules(session, now=at)


@job("analytics.alert_webhooks", "POST the due alert notifications to their rules' webhooks, HMAC-signed, with backoff")
def alert_webhooks_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """Deliver due notifications once; how many were delivered."""
    with egress_client(EgressPolicy.from_settings(get_settings())) as client:
        return deliver_notifications(sessions, client, now=at).delivered
