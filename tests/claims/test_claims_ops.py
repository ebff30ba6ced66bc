"""Claims operations: QA sampling (a share per adjuster and product, deterministic and idempotent), QA reviews
with findings and scores, and progress tracking (where each claim waits, since when, against which SLA)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth import Role
from core.calendar import default_calendar
from core.clock import business_date, business_today, moved_clock
from core.db import transaction
from resolvers.claims import service as claims
from resolvers.claims.models import Claim, ClaimState
from resolvers.claims.ops.models import QaSample
from resolvers.claims.ops.qa import QaConfig, draw_samples
from resolvers.claims.service import sla_due_at
from tests.claim_factories import ADJUSTER, add_invoice, make_approved_claim, make_claim_policy, nodes, report
from tests.factories import make_customer, make_policy, make_product
from tests.payment_factories import add_account

SAMPLES = """query($s: QaSampleStatus) { claimQaSamples(first: 50, status: $s) { totalCount
  edges { node { id adjuster status score findings reviewer claim { number } } } } }"""
REVIEW = """mutation($i: QaReviewInput!) { recordQaReview(input: $i) {
  sample { status score findings note reviewer } errors { field code } } }"""
PROGRESS = """query($b: Boolean!) { claimProgress(first: 20, breachedOnly: $b) { totalCount
  edges { node { claim { number } state waitingSince slaDays slaDueAt breached } } } }"""
SUMMARY = """{ claimProgressSummary { state count breached oldestSince slaDays } }"""


AT = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)  # after every factory decision (made at 09:00 UTC today)


def _decided(session_factory: Any, per_adjuster: dict[str, int], *, products: int = 1) -> list[int]:
    """Closed claims decided by each adjuster, spread over ``products`` products (one insured each)."""
    ids = []
    with transaction(session_factory) as s:
        shared = [make_product(s) for _ in range(products)]
        for adjuster, n in per_adjuster.items():
            for i in range(n):
                customer = make_customer(s)
                add_account(s, customer_id=customer.id)
                policy = make_policy(s, today=business_today() - dt.timedelta(days=120), customer=customer,
                                     product=shared[i % products])
                claim = make_approved_claim(s, policy=policy)
                claim.state, claim.assignee = ClaimState.CLOSED, adjuster
                ids.append(claim.id)
    return ids


def test_sampling_draws_the_share_per_adjuster_and_product_once(session_factory: Any) -> None:
    _decided(session_factory, {"adj-a": 10, "adj-b": 3}, products=2)
    at = AT
    config = QaConfig(share=0.3)
    with transaction(session_factory) as s:
        first = draw_samples(s, at=at, config=config)
    with transaction(session_factory) as s:
        again = draw_samples(s, at=at, config=config)
        groups = Counter((q.adjuster, q.product_id) for q in s.query(QaSample))
        drawn = sorted(q.claim_id for q in s.query(QaSample))
    # adj-a: 5 + 5 claims over two products -> 2 + 2; adj-b: 2 + 1 -> 1 + 1
    assert (first, again) == (6, 0)
    assert sorted(groups.values()) == [1, 1, 2, 2]
    with transaction(session_factory) as s:  # the same claims again from scratch: deterministic
        s.query(QaSample).delete()
        draw_samples(s, at=at, config=config)
        assert sorted(q.claim_id for q in s.query(QaSample)) == drawn


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(share=st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0]), sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_every_group_gets_ceil_share_of_its_claims_and_a_rerun_adds_nothing(
        session_factory: Any, share: float, sizes: list[int]) -> None:
    with transaction(session_factory) as s:
        s.query(QaSample).delete()
        s.query(Claim).filter(Claim.assignee.like("prop-%")).update({Claim.assignee: None})
    _decided(session_factory, {f"prop-{i}": n for i, n in enumerate(sizes)})
    at = AT
    with transaction(session_factory) as s:
        draw_samples(s, at=at, config=QaConfig(share=share))
        assert draw_samples(s, at=at, config=QaConfig(share=share)) == 0
        got = Counter(q.adjuster for q in s.query(QaSample) if q.adjuster.startswith("prop-"))
    assert {a: got.get(a, 0) for a in (f"prop-{i}" for i in range(len(sizes)))} == {
        f"prop-{i}": math.ceil(share * n) for i, n in enumerate(sizes)}


def test_qa_reviews_record_score_and_findings_once_and_never_ones_own(gql: Any, session_factory: Any) -> None:
    _decided(session_factory, {"qa-test": 1, "adj-z": 1})
    with transaction(session_factory) as s:
        draw_samples(s, at=AT, config=QaConfig(share=1.0))
    reviewer = gql(Role.QA)
    listed = nodes(reviewer(SAMPLES, {"s": "PENDING"})["claimQaSamples"])
    by_adjuster = {n["adjuster"]: n["id"] for n in listed}
    assert set(by_adjuster) == {"qa-test", "adj-z"}
    bad = reviewer(REVIEW, {"i": {"sampleId": by_adjuster["qa-test"], "score": 120}})["recordQaReview"]
    assert {(e["field"], e["code"]) for e in bad["errors"]} == {("score", "BAD_SCORE"), ("sampleId", "OWN_DECISION")}
    missing = reviewer(REVIEW, {"i": {"sampleId": by_adjuster["adj-z"], "score": 70}})["recordQaReview"]
    assert missing["errors"] == [{"field": "findings", "code": "FINDINGS_REQUIRED"}]
    ok = reviewer(REVIEW, {"i": {"sampleId": by_adjuster["adj-z"], "score": 70, "note": "deductible twice",
                                 "findings": ["WRONG_AMOUNT", "POOR_REASON"]}})["recordQaReview"]
    assert ok == {"sample": {"status": "REVIEWED", "score": 70, "findings": ["POOR_REASON", "WRONG_AMOUNT"],
                             "note": "deductible twice", "reviewer": "qa-test"}, "errors": []}
    twice = reviewer(REVIEW, {"i": {"sampleId": by_adjuster["adj-z"], "score": 100}})["recordQaReview"]
    assert twice["errors"] == [{"field": "sampleId", "code": "ALREADY_REVIEWED"}]
    assert reviewer(SAMPLES, {"s": "REVIEWED"})["claimQaSamples"]["totalCount"] == 1
    forbidden = gql(Role.ADJUSTER).post(SAMPLES, {"s": None})
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_progress_shows_where_each_claim_waits_since_when_and_its_sla(gql: Any, session_factory: Any) -> None:
    from tests.rule_factories import submitted_claim

    with transaction(session_factory) as s:
        review = submitted_claim(s, amount=Decimal("6000.00"))
        late = submitted_claim(s, amount=Decimal("6000.00"))
        late.sla_due_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        make_approved_claim(s).state = ClaimState.CLOSED  # waits for nobody
        numbers = {review.number: review.id, late.number: late.id}
    manager = gql(Role.MANAGER)
    got = nodes(manager(PROGRESS, {"b": False})["claimProgress"])
    assert sorted(n["claim"]["number"] for n in got) == sorted(numbers)
    for n in got:
        assert (n["state"], n["slaDays"]) == ("UNDER_REVIEW", 5)
    on_time = next(n for n in got if n["claim"]["number"] == review.number)
    due = default_calendar().add_business_days_at(dt.datetime.fromisoformat(on_time["waitingSince"]), 5)
    assert dt.datetime.fromisoformat(on_time["slaDueAt"]) == due and on_time["breached"] is False
    breached = nodes(manager(PROGRESS, {"b": True})["claimProgress"])
    assert [(n["claim"]["number"], n["breached"]) for n in breached] == [(late.number, True)]
    summary = {r["state"]: r for r in gql(Role.AUDITOR)(SUMMARY)["claimProgressSummary"]}
    assert (summary["UNDER_REVIEW"]["count"], summary["UNDER_REVIEW"]["breached"]) == (2, 1)
    assert summary["INVESTIGATING"] == {"state": "INVESTIGATING", "count": 0, "breached": 0, "oldestSince": None,
                                        "slaDays": 20}
    assert gql(Role.ADJUSTER).post(SUMMARY).json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_progress_slas_count_business_days_across_national_day(session_factory: Any) -> None:
    """Five business days from 2026-09-30 skip the National Day holiday (10-01..10-07) and count the
    adjusted Saturday workday 10-10: due at the close of business on 10-13, not on 10-05."""
    at = dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing, the last business day before the holiday
    close_13th = dt.datetime(2026, 10, 13, 10, 0, tzinfo=dt.UTC)  # 18:00 in Beijing
    assert sla_due_at(ClaimState.UNDER_REVIEW, at) == close_13th
    assert sla_due_at(ClaimState.CLOSED, at) is None
    with moved_clock(at), transaction(session_factory) as s:
        policy = make_claim_policy(s)
        claim = report(s, policy, amount=Decimal("6000.00"), days_ago=6,
                       items=[claims.LineItemSpec("SURG-1", "inpatient", Decimal("6000.00"), 1)])
        add_invoice(s, claim)
        claim = claims.submit_claim(s, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                                    today=business_date(at), now=at)
        assert claim.state is ClaimState.UNDER_REVIEW
        assert claim.sla_due_at == close_13th  # calendar days would have said 2026-10-05
        # on 10-12 (business day 4 of 5) it is not breached; after the close of 10-13 it is
        assert claim.sla_due_at >= dt.datetime(2026, 10, 12, 10, 0, tzinfo=dt.UTC)
