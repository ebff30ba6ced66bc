"""The high-risk robot: features from the read services, a watch list with reason codes, once a business day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from core.event_stream.outbox import EVENTS
from resolvers.analytics.jobs import risk_robot_job
from resolvers.analytics.robot.features import customer_features
from resolvers.claims import service as claims
from resolvers.policies import service as policies
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, add_invoice, make_claim_policy, report
from tests.factories import ADMIN, make_policy, make_product

WATCH = """{ riskWatchList { totalCount edges { node { customerId status score modelVersion
  reasons { code value message } } } } }"""
PROFILE = """query($id: ID!) { node(id: $id) { ... on Customer { riskProfile { hints { code level } } } } }"""


def _risky_and_ordinary(session_factory: Any) -> tuple[int, int]:
    """A customer with an early claim after an endorsement and three policies in 90 days; one ordinary customer."""
    today = business_today()
    with transaction(session_factory) as s:
        policy = make_claim_policy(s, issued_days_ago=50, waiting_period_days=30)
        customer = policies.get_customer(s, principal=ADMIN, customer_id=policy.customer_id)
        for days in (40, 30):
            make_policy(s, today=today - dt.timedelta(days=days), customer=customer, product=make_product(s))
        policies.endorse_beneficiary(s, principal=ADMIN, policy_id=policy.id, expected_version=None, name="王芳",
                                     relationship="spouse", today=today - dt.timedelta(days=20))
        claim = report(s, policy, days_ago=6)  # 14 days after the waiting period ended
        add_invoice(s, claim)
        claims.submit_claim(s, principal=ADJUSTER, claim_id=claim.id, expected_version=None, today=today,
                            now=dt.datetime.now(dt.UTC))
        ordinary = make_policy(s, today=today - dt.timedelta(days=200))
        return policy.customer_id, ordinary.customer_id


def test_features_count_what_the_robot_looks_for(session_factory: Any) -> None:
    risky, ordinary = _risky_and_ordinary(session_factory)
    with session_factory() as s:
        rows = {f.customer_id: f for f in customer_features(s, customer_ids=[risky, ordinary], today=business_today())}
    r, o = rows[risky], rows[ordinary]
    assert (r.value("early_claims"), r.value("endorse_then_claim"), r.value("policies_90d"), r.value("claims_365")) \
        == (1.0, 1.0, 3.0, 1.0)
    assert (o.value("early_claims"), o.value("policies_90d"), o.value("claims_365")) == (0.0, 1.0, 0.0)


def test_the_robot_watches_the_risky_customer_with_reasons_once_a_day(gql: Any, session_factory: Any) -> None:
    risky, _ = _risky_and_ordinary(session_factory)
    at = dt.datetime.now(dt.UTC)
    assert risk_robot_job(session_factory, at) >= 2
    assert risk_robot_job(session_factory, at) == 0  # once per business date
    listed = gql(Role.ADJUSTER)(WATCH)["riskWatchList"]
    assert listed["totalCount"] == 1
    entry = listed["edges"][0]["node"]
    codes = [r["code"] for r in entry["reasons"]]
    assert entry["status"] == "WATCHING" and entry["score"] > 0.5 and entry["modelVersion"].startswith("robot-")
    assert {"CLAIM_SOON_AFTER_WAITING_PERIOD", "ENDORSEMENT_THEN_CLAIM", "MANY_POLICIES_IN_90_DAYS"} <= set(codes)
    assert "3 policies bought within 90 days" in [r["message"] for r in entry["reasons"]]
    assert entry["customerId"] == encode_global_id("Customer", risky)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(EVENTS).where(
            EVENTS.c.type == "analytics.watch_changed")) == 1
    profile = gql(Role.ADJUSTER)(PROFILE, {"id": entry["customerId"]})["node"]["riskProfile"]
    assert "ROBOT_WATCH_LIST" in [h["code"] for h in profile["hints"]]  # the robot feeds the risk profile
    refused = gql(Role.AGENT).post(WATCH).json()
    assert refused.get("data") is None
