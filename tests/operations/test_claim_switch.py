"""The claim flow's fast/standard switch runs through the experiment layer; payments are its conversions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.clock import business_today
from core.db import transaction
from core.event_stream import drain
from resolvers.claims import service as claims
from resolvers.claims.models import ClaimState
from resolvers.claims.reasons import render_reason
from resolvers.operations import experiments, stats
from resolvers.operations.events import EXPERIMENT_CONSUMER
from resolvers.operations.models import ExperimentExposure, ExperimentOutcome
from tests.claim_factories import ADJUSTER, add_invoice, make_claim_policy, report
from tests.experiment_factories import MANAGER, make_experiment
from tests.payment_factories import bank_round

NOW = dt.datetime.now(dt.UTC)


def _submit(session: Any) -> Any:
    claim = report(session, make_claim_policy(session))
    add_invoice(session, claim)
    return claims.submit_claim(session, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                               today=business_today(), now=NOW)


def _last_routing(session: Any, claim_id: int) -> Any:
    return [e for e in claims.timeline(session, claim_id=claim_id)
            if e.reason_code in ("ROUTED_TO_REVIEW", "FAST_CLAIM_APPROVED")][-1]


def test_standard_arm_sends_an_eligible_claim_to_review(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        make_experiment(s, variants=[("fast", 0.0), ("standard", 1.0)], now=NOW - dt.timedelta(hours=1))
        claim = _submit(s)
        assert claim.state is ClaimState.UNDER_REVIEW and claim.fast_track is False
        event = _last_routing(s, claim.id)
        assert event.reason_params == {"blockers": ["EXPERIMENT_STANDARD"], "experiment": "claim-fast:standard"}
        assert "experiment claim-fast:standard" in render_reason(event.reason_code, event.reason_params,
                                                                 role="adjuster", locale="en")
        assert "experiment" not in render_reason(event.reason_code, event.reason_params, role="customer", locale="en")


def test_without_an_experiment_the_flow_stays_fast_and_nothing_is_exposed(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        claim = _submit(s)
        assert claim.fast_track is True
        assert "experiment" not in _last_routing(s, claim.id).reason_params
        assert s.scalars(select(ExperimentExposure)).first() is None


def test_killed_experiment_restores_the_fast_path(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s, variants=[("fast", 0.0), ("standard", 1.0)], now=NOW - dt.timedelta(hours=1))
        experiments.set_status(s, principal=MANAGER, experiment_id=exp.id, action="kill", expected_version=None,
                               now=NOW)
        assert _submit(s).fast_track is True


def test_fast_arm_pays_and_the_payment_counts_as_its_conversion(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        exp = make_experiment(s, variants=[("fast", 1.0), ("standard", 0.0)], now=NOW - dt.timedelta(hours=1))
        claim = _submit(s)
        exp_id, customer = exp.id, claim.customer_id
        assert claim.fast_track is True
        assert _last_routing(s, claim.id).reason_params["experiment"] == "claim-fast:fast"
    with transaction(session_factory) as s:
        bank_round(s, at=NOW + dt.timedelta(hours=3))  # the payout settles: claim.paid
    drain(session_factory, EXPERIMENT_CONSUMER)
    drain(session_factory, EXPERIMENT_CONSUMER)  # a replay changes nothing
    with transaction(session_factory) as s:
        (outcome,) = s.scalars(select(ExperimentOutcome)).all()
        assert (outcome.experiment_id, outcome.subject, outcome.variant) == (exp_id, f"customer:{customer}", 0)
        assert outcome.seconds_to_settle >= 0
        r = stats.results(s, experiment_id=exp_id)
        assert [(v.key, v.exposures, v.conversions) for v in r.variants] == [("fast", 1, 1), ("standard", 0, 0)]
        assert r.verdict is stats.Verdict.NOT_ENOUGH_DATA
