"""Analytics jobs: the offline full recompute of the rollups, alert evaluation, alert webhooks, the risk robot."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import business_date
from core.db import transaction
from core.egress import EgressPolicy, egress_client
from core.jobs import job
from core.settings import get_settings
from partners.risk import consortium_key
from resolvers.analytics import rollups
from resolvers.analytics.alerts import deliver_notifications, evaluate_rules
from resolvers.analytics.models import AnalyticsLock
from resolvers.analytics.robot.watch import scan
from resolvers.analytics.rollups import last_rebuilt_at, rebuild, rollup_totals
from resolvers.claims.risk.profile import shared_flags_of
from resolvers.policies.facts import customers_page

__all__ = ["alert_webhooks_job", "alerts_job", "rebuild_job", "risk_robot_job"]

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


@job("analytics.risk_robot", "once a business day, score every customer with the high-risk robot and update the watch "
                             "list (reasons as codes; becoming watched or cleared is an event)")
def risk_robot_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """Scan every customer unless done on ``at``'s business date; how many were scored."""
    today = business_date(at)
    with transaction(sessions) as session:
        lock = session.execute(select(AnalyticsLock).where(AnalyticsLock.id == 1).with_for_update()).scalar_one_or_none()
        if lock is not None and lock.robot_scanned_on is not None and lock.robot_scanned_on >= today:
            return 0
    consortium = consortium_key(get_settings().keys_dir)
    scored, after = 0, 0
    while True:
        with transaction(sessions) as session:
            ids = customers_page(session, after=after, limit=500)
            if not ids:
                break
            scored += scan(session, customer_ids=ids, today=today, now=at,
                           flags=lambda cid: len(shared_flags_of(session, customer_id=cid, consortium=consortium))
                           ).scored
            after = ids[-1]
    with transaction(sessions) as session:
        rollups.lock_row(session).robot_scanned_on = today
    return scored
