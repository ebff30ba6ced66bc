"""Demo of operations: a finished experiment with results, and the claim flow's switch set up for QA.

* ``consult-video``: chat vs video consultations, 50/50, ran from 30 to 2 days ago. Each demo
  customer opens a consultation at a random moment of that window and asks the flow which
  variant they get (``variant``: exposures logged once); a simulated share of them completes
  the consultation (a conversion, hours later), more often by video. The experiment is then
  stopped; its results (z-test, intervals, SRM check) are computed when read.
* ``claim-fast``: the claim flow's fast/standard switch as a draft with one QA override, so a
  tester sees the standard path on their own subject while every demo claim keeps fast claim.

Each action leaves the audit entry of the mutation a client would have called.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from opsure.demo.actors import CHECKER, audit
from opsure.demo.clock import DemoClock
from resolvers.operations import experiments, stats
from resolvers.operations.experiments import ExperimentSpec
from resolvers.operations.models import Experiment, Flow
from resolvers.operations.outcomes import record_conversions
from resolvers.policies.models import Customer
from schema.relay import encode_global_id

__all__ = ["ExperimentsDemo", "load_experiments"]

QA_TESTER = Principal(subject="demo:qa-liu", role=Role.QA)
#: Completion rates the simulated customers follow (the demo's ground truth, not a result).
COMPLETION = {"chat": 0.30, "video": 0.40}
MAX_SUBJECTS = 600


@dataclass(frozen=True)
class ExperimentsDemo:
    """What the demo made: the finished experiment's verdict and exposures."""

    key: str
    verdict: str
    exposures: int


def load_experiments(session: Session, rng: random.Random, clock: DemoClock) -> ExperimentsDemo:
    """Run ``consult-video`` to its end over the demo's customers; draft ``claim-fast`` with a QA override."""
    start, end = clock.at(30), clock.at(2)
    exp = experiments.create_experiment(session, principal=CHECKER, now=start, spec=ExperimentSpec(
        key="consult-video", flow=Flow.CONSULTATION, variants=[("chat", 0.5), ("video", 0.5)], starts_at=start,
        ends_at=end, description="Does a video consultation get more consultations completed than chat?"))
    gid = encode_global_id("Experiment", exp.id)
    audit(session, CHECKER, "createExperiment", {"key": exp.key}, target=gid)
    experiments.set_status(session, principal=CHECKER, experiment_id=exp.id, action="start", expected_version=None,
                           now=start)
    audit(session, CHECKER, "setExperimentStatus", {"experimentId": gid, "action": "START"}, target=gid)
    customers = session.scalars(select(Customer.id).order_by(Customer.id).limit(MAX_SUBJECTS)).all()
    window = (end - start).total_seconds()
    for customer_id in customers:
        subject = f"customer:{customer_id}"
        opened = start + dt.timedelta(seconds=rng.uniform(0, window))
        arm = experiments.variant(session, flow=Flow.CONSULTATION, subject=subject, now=opened)
        if arm.in_experiment and rng.random() < COMPLETION[arm.variant]:
            record_conversions(session, flow=Flow.CONSULTATION, subject=subject,
                               at=opened + dt.timedelta(hours=rng.uniform(0.2, 8)))
    experiments.set_status(session, principal=CHECKER, experiment_id=exp.id, action="stop", expected_version=None,
                           now=clock.now)
    audit(session, CHECKER, "setExperimentStatus", {"experimentId": gid, "action": "STOP"}, target=gid)

    switch = experiments.create_experiment(session, principal=CHECKER, now=clock.now, spec=ExperimentSpec(
        key="claim-fast", flow=Flow.CLAIM, variants=[("fast", 0.9), ("standard", 0.1)],
        description="Fast claim vs an adjuster's review for claims eligible for fast claim."))
    switch_gid = encode_global_id("Experiment", switch.id)
    audit(session, CHECKER, "createExperiment", {"key": switch.key}, target=switch_gid)
    experiments.force_variant(session, principal=QA_TESTER, experiment_id=switch.id, subject="qa:demo",
                              variant_key="standard", now=clock.now)
    audit(session, QA_TESTER, "forceExperimentVariant", {"experimentId": switch_gid, "subject": "qa:demo"},
          target=switch_gid)
    result = stats.results(session, experiment_id=exp.id)
    return ExperimentsDemo(key=exp.key, verdict=result.verdict.value,
                           exposures=sum(v.exposures for v in result.variants))


def experiments_summary(session: Session) -> dict[str, int | str]:
    """The summary rows: experiments by status, and each stopped experiment's exposures and verdict."""
    rows: dict[str, int | str] = {}
    for exp in session.scalars(experiments.experiments_query().order_by(Experiment.id)):
        r = stats.results(session, experiment_id=exp.id)
        exposed = "/".join(f"{v.key} {v.exposures}" for v in r.variants)
        rows[f"{exp.key} ({exp.flow.value}, {exp.status.value})"] = f"exposed {exposed}: {r.verdict.value}"
    return rows
