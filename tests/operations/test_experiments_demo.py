"""The demo's experiments: a finished consultation experiment with results, the claim switch as a QA draft."""

from __future__ import annotations

import random
from typing import Any

from core.db import transaction
from opsure.demo.clock import DemoClock
from opsure.demo.operations import experiments_summary, load_experiments
from resolvers.operations import experiments, stats
from resolvers.operations.models import ExperimentStatus, Flow
from tests.experiment_factories import T0
from tests.factories import make_customer


def test_demo_experiment_has_results_and_the_claim_switch_waits_for_qa(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        for _ in range(80):
            make_customer(s)
        demo = load_experiments(s, random.Random(3), DemoClock(T0))
        assert demo.key == "consult-video" and demo.exposures == 80
        stopped, switch = s.scalars(experiments.experiments_query().order_by("id")).all()
        assert stopped.status is ExperimentStatus.STOPPED and switch.status is ExperimentStatus.DRAFT
        r = stats.results(s, experiment_id=stopped.id)
        assert sum(v.conversions for v in r.variants) > 0 and r.verdict.value == demo.verdict
        assert experiments.variant(s, flow=Flow.CLAIM, subject="qa:demo", now=T0).variant == "standard"
        assert experiments.variant(s, flow=Flow.CLAIM, subject="customer:1", now=T0).variant == "fast"
        rows = experiments_summary(s)
        assert set(rows) == {"consult-video (consultation, stopped)", "claim-fast (claim, draft)"}
