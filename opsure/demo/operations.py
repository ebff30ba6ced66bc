"""Demo of operations: a finished experiment with results, and the claim flow's switch set up for QA.

* ``consult-video``: chat vs video consultations, 50/50, ran from 30 to 2 days ago. Each demo
  customer opens a consultation at a random moment of that window and asks the flow which
  variant they get (``variant``: exposures logged once); a simulated share of them completes
  the consultation (a conversion, hours later), more often by video. The experiment is then
  stopped; its results (z-test, intervals, SRM check) are computed when read.
* ``claim-fast``: the claim flow's fast/standard switch as a draft with one QA override, so a
  tester sees the standard path on their own subject while every demo claim keeps fast claim.
* Visitors (``load_visitors``): three anonymous visitors browse the site; the first signs in as a
  demo customer (identify), the second is the same person on their phone (alias of the first),
  the third stays anonymous. Their earlier events count for the customer from then on. The
  platform's own events (purchases, renewals, surrenders, claims reported) are made by the
  ``operations.behaviour`` consumer after the demo commits (``run_demo`` drains it).

Each action leaves the audit entry of the mutation a client would have called.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import ANONYMOUS, Principal, Role
from opsure.demo.actors import CHECKER, audit
from opsure.demo.clock import DemoClock
from resolvers.operations import behaviour, experiments, stats
from resolvers.operations.experiments import ExperimentSpec
from resolvers.operations.models import BehaviourEvent, Experiment, Flow
from resolvers.operations.outcomes import record_conversions
from resolvers.policies.models import Customer
from schema.relay import encode_global_id

__all__ = ["ExperimentsDemo", "VisitorsDemo", "behaviour_summary", "experiments_summary", "load_experiments",
           "load_visitors"]

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


@dataclass(frozen=True)
class VisitorsDemo:
    """The customer the visitors turned out to be, and how many of their events were sent anonymously."""

    customer_id: int
    anonymous_events: int


def load_visitors(session: Session, rng: random.Random, clock: DemoClock) -> VisitorsDemo:
    """Three anonymous visitors browse; the first identifies as a demo customer, the second is aliased to it."""
    customer_id = session.scalars(select(Customer.id).order_by(Customer.id).limit(1)).one()
    visitors = ["web-visitor-01", "phone-visitor-01", "web-visitor-02"]
    events = []
    for v, visitor in enumerate(visitors):
        for i in range(rng.randint(3, 6)):
            at = clock.now - dt.timedelta(days=rng.uniform(1, 20))
            name, props = (("quote.viewed", {"productCode": "MEDI-BASIC"}) if i % 3 == 2
                           else ("page.viewed", {"path": rng.choice(["/", "/products", "/products/medi-basic"])}))
            events.append(behaviour.EventIn(event_id=f"demo-visit-{v}-{i:03d}", name=name, timestamp=at,
                                            anonymous_id=visitor, properties=props))
    result = behaviour.ingest(session, principal=ANONYMOUS, events=events, source="demo:web", now=clock.now)
    audit(session, ANONYMOUS, "postBehaviourEvents", {"events": len(events)})
    me = Principal(subject=f"customer-{customer_id}", role=Role.CUSTOMER, customer_id=customer_id)
    behaviour.identify(session, principal=me, anonymous_id=visitors[0], customer_id=None, now=clock.now)
    audit(session, me, "identifyVisitor", {"anonymousId": visitors[0]},
          target=encode_global_id("Customer", customer_id))
    behaviour.alias(session, principal=me, anonymous_id=visitors[1], alias_of=visitors[0], now=clock.now)
    audit(session, me, "identifyVisitor", {"anonymousId": visitors[1], "aliasOf": visitors[0]},
          target=encode_global_id("Customer", customer_id))
    sent = sum(1 for e in events if e.anonymous_id in visitors[:2])
    assert result.accepted == len(events)
    return VisitorsDemo(customer_id=customer_id, anonymous_events=sent)


def behaviour_summary(session: Session) -> dict[str, int | str]:
    """The summary rows: behaviour events by source kind and name, identities, the identified visitor's events."""
    platform = BehaviourEvent.source == behaviour.PLATFORM_SOURCE
    rows: dict[str, int | str] = {}
    for name, n in session.execute(select(BehaviourEvent.name, func.count()).where(platform)
                                   .group_by(BehaviourEvent.name).order_by(BehaviourEvent.name)):
        rows[f"platform: {name}"] = int(n)
    rows["sent by frontends"] = int(session.scalar(select(func.count()).select_from(BehaviourEvent)
                                                   .where(~platform)) or 0)
    identities = behaviour.identities_after(session, 0)
    rows["visitors identified"] = len(identities)
    for customer_id in sorted({i.customer_id for i in identities})[:3]:
        mine = behaviour.events_for_customer(session, customer_id)
        anonymous = sum(1 for e in mine if e.anonymous_id is not None and e.source != behaviour.PLATFORM_SOURCE)
        rows[f"customer {customer_id}: events"] = f"{len(mine)} ({anonymous} sent before signing in)"
    return rows
