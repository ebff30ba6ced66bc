"""Outcomes of exposed subjects: a conversion once per subject and experiment, with its time to settle.

A flow's outcome event names its subject; every experiment of that flow that exposed the
subject before the event counts it once (later events of the same subject change nothing).

Example::

    record_conversions(session, flow=Flow.CLAIM, subject="customer:42", at=paid_at, event_id=981)
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from resolvers.operations.models import Experiment, ExperimentExposure, ExperimentOutcome, Flow

__all__ = ["claim_subject", "record_conversions"]


def claim_subject(customer_id: int) -> str:
    """The subject the claim flow assigns by: the insured customer (sticky across their claims)."""
    return f"customer:{customer_id}"


def record_conversions(session: Session, *, flow: Flow, subject: str, at: dt.datetime,
                       event_id: int | None = None) -> int:
    """Count ``subject`` converted at ``at`` in each experiment of ``flow`` that exposed it before; how many new."""
    exposed = session.execute(
        select(ExperimentExposure.experiment_id, ExperimentExposure.variant, ExperimentExposure.exposed_at)
        .join(Experiment, Experiment.id == ExperimentExposure.experiment_id)
        .where(Experiment.flow == flow, ExperimentExposure.subject == subject, ExperimentExposure.forced.is_(False),
               ExperimentExposure.exposed_at <= at)).tuples().all()
    if not exposed:
        return 0
    rows = [{"experiment_id": exp_id, "subject": subject, "variant": variant, "converted_at": at,
             "seconds_to_settle": (at - exposed_at).total_seconds(), "source_event_id": event_id}
            for exp_id, variant, exposed_at in exposed]
    ins = postgresql.insert(ExperimentOutcome) if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert(ExperimentOutcome)
    result = session.execute(ins.on_conflict_do_nothing(index_elements=["experiment_id", "subject"]), rows)
    return int(getattr(result, "rowcount", 0) or 0)
