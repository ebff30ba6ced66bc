"""Factories of the operations domain: experiments on flows, manager principals, exposures in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from core.auth import Principal, Role
from resolvers.operations import experiments
from resolvers.operations.experiments import ExperimentSpec
from resolvers.operations.models import Experiment, ExperimentStatus, Flow

MANAGER = Principal(subject="ops-manager", role=Role.MANAGER)
QA = Principal(subject="qa-tester", role=Role.QA)
T0 = dt.datetime(2026, 11, 11, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing, Double 11


def spec(key: str = "claim-fast", *, flow: Flow = Flow.CLAIM, variants: Sequence[tuple[str, float]] | None = None,
         **fields: Any) -> ExperimentSpec:
    """An experiment spec; by default 50/50 over the flow's two variants."""
    names = experiments.FLOW_VARIANTS[flow]
    return ExperimentSpec(key=key, flow=flow, variants=list(variants or [(names[0], 0.5), (names[1], 0.5)]), **fields)


def make_experiment(session: Session, key: str = "claim-fast", *, start: bool = True, now: dt.datetime = T0,
                    **fields: Any) -> Experiment:
    """An experiment (running unless ``start=False``)."""
    row = experiments.create_experiment(session, principal=MANAGER, spec=spec(key, **fields), now=now)
    if start:
        experiments.set_status(session, principal=MANAGER, experiment_id=row.id, action="start",
                               expected_version=None, now=now)
    assert row.status is (ExperimentStatus.RUNNING if start else ExperimentStatus.DRAFT)
    return row


def subjects(n: int, prefix: str = "customer:") -> list[str]:
    """``n`` subject ids."""
    return [f"{prefix}{i}" for i in range(1, n + 1)]
