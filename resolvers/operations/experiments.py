"""Experiments on process flows: which variant a subject gets (``variant``), and their lifecycle.

Every flow (claim: fast vs standard; consultation; health questionnaire; callback) asks
:func:`variant` once per decision. Assignment is GrowthBook's (``assignment.py``): the
subject's hash under the experiment's seed picks a variant by weight, within coverage and
the experiment's namespace range. On top of it:

* **sticky**: a subject's first assignment is stored (``experiment_exposure``, one row per
  subject and experiment, inserted once even under concurrency) and kept when weights or
  coverage change later; that row is also the exposure log;
* **forced variants** for QA (draft or running experiments), never logged as exposures;
* **kill switch** (status ``killed``) and **schedule** (``starts_at``/``ends_at``, instants;
  "now" is the process clock): outside them everyone gets the flow's default variant;
* two live experiments on one flow must split one namespace (disjoint ranges), so a subject
  is in at most one of them: ``FLOW_OVERLAP``/``NAMESPACE_OVERLAP`` otherwise;
* **segment targets**: an experiment restricted to a segment (``segments.py``) assigns only the
  segment's members (subjects ``customer:<id>``); others get the default (a sticky member who
  left the segment keeps their variant).

Example::

    a = variant(session, flow=Flow.CLAIM, subject="customer:42", now=now)
    if a.variant == "standard": ...   # a.experiment_key says which experiment decided, if any
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, delete, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import (
    ConflictError,
    ErrorCollector,
    InvalidTransitionError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from resolvers.operations.assignment import bucket_ranges, choose, gbhash, in_namespace
from resolvers.operations.models import (
    Experiment,
    ExperimentExposure,
    ExperimentForcedVariant,
    ExperimentStatus,
    Flow,
)
from resolvers.operations.tags.models import ExperimentSegment

__all__ = ["FLOW_VARIANTS", "Assignment", "ExperimentSpec", "StatusAction", "create_experiment",
           "delete_experiment", "experiments_query", "force_variant", "get_experiment", "set_status",
           "update_experiment", "variant"]

#: The variants each flow knows, its default (what everyone gets outside an experiment) first.
FLOW_VARIANTS: dict[Flow, tuple[str, ...]] = {
    Flow.CLAIM: ("fast", "standard"),
    Flow.CONSULTATION: ("chat", "video"),
    Flow.HEALTH_QUESTIONNAIRE: ("full", "short"),
    Flow.CALLBACK: ("immediate", "scheduled"),
}
_KEY = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
_WEIGHT_TOLERANCE = 1e-6
_LIVE = (ExperimentStatus.DRAFT, ExperimentStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class Assignment:
    """What a flow asked and got: the variant, and the experiment that decided it (None: the default)."""

    flow: Flow
    subject: str
    variant: str
    experiment_id: int | None = None
    experiment_key: str | None = None
    variant_index: int = 0
    forced: bool = False

    @property
    def in_experiment(self) -> bool:
        """Whether an experiment (not the flow's default) decided the variant."""
        return self.experiment_id is not None


@dataclass(frozen=True)
class ExperimentSpec:
    """An experiment as its manager writes it (create and update)."""

    key: str
    flow: Flow
    variants: Sequence[tuple[str, float]]
    coverage: float = 1.0
    namespace: str | None = None  # None: the flow's name
    namespace_start: float = 0.0
    namespace_end: float = 1.0
    seed: str | None = None  # None: the key
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    description: str = ""
    segment_id: int | None = None  # only this segment's members are assigned


class StatusAction:
    """What set_status may do (names of the moves)."""

    START = "start"
    STOP = "stop"
    KILL = "kill"


_MOVES: dict[str, tuple[frozenset[ExperimentStatus], ExperimentStatus]] = {
    StatusAction.START: (frozenset({ExperimentStatus.DRAFT}), ExperimentStatus.RUNNING),
    StatusAction.STOP: (frozenset({ExperimentStatus.RUNNING}), ExperimentStatus.STOPPED),
    StatusAction.KILL: (frozenset({ExperimentStatus.DRAFT, ExperimentStatus.RUNNING}), ExperimentStatus.KILLED),
}


# --- the one function every flow asks -----------------------------------------------------------

def variant(session: Session, *, flow: Flow, subject: str, now: dt.datetime) -> Assignment:
    """The variant of ``flow`` for ``subject`` now; logs the exposure once per subject and experiment."""
    default = Assignment(flow=flow, subject=subject, variant=FLOW_VARIANTS[flow][0])
    if not subject:
        return default
    conn = session.connection()  # Core statements on the session's connection: no ORM layer on the hot path
    live = conn.execute(_LIVE_OF_FLOW, {"flow": flow.value}).all()
    if not live:
        return default
    ids = [e.id for e in live]
    forced: dict[int, int] = {}
    sticky: dict[int, int] = {}
    for exp_id, index, is_forced in conn.execute(_OVERRIDES_AND_STICKY, {"ids": ids, "subject": subject}):
        (forced if is_forced else sticky)[exp_id] = index
    for exp in live:
        if exp.id in forced:
            return _assigned(default, exp, forced[exp.id], forced=True)
    for exp in live:
        if exp.status != ExperimentStatus.RUNNING.value or not _scheduled(exp, now):
            continue
        if exp.id in sticky:
            return _assigned(default, exp, sticky[exp.id])
        if exp.segment_id is not None and not _in_segment(session, exp.segment_id, subject, now):
            continue
        index = _bucket(exp, subject)
        if index < 0:
            continue
        inserted = conn.execute(_INSERTS[conn.dialect.name], {
            "experiment_id": exp.id, "subject": subject, "variant": index, "forced": False, "exposed_at": now})
        if not getattr(inserted, "rowcount", 1):  # a racing writer's row came first: it wins
            index = conn.execute(_STICKY_ONE, {"id": exp.id, "subject": subject}).scalar_one()
        return _assigned(default, exp, index)
    return default


# Built once: building a statement costs more than running it on these small indexed tables.
_LIVE_OF_FLOW = (select(Experiment.id, Experiment.key, Experiment.status, Experiment.variants, Experiment.coverage,
                        Experiment.namespace, Experiment.namespace_start, Experiment.namespace_end, Experiment.seed,
                        Experiment.hash_version, Experiment.starts_at, Experiment.ends_at, ExperimentSegment.segment_id)
                 .outerjoin(ExperimentSegment, ExperimentSegment.experiment_id == Experiment.id)
                 .where(Experiment.flow == bindparam("flow"), Experiment.status.in_([s.value for s in _LIVE]))
                 .order_by(Experiment.id))
_OVERRIDES_AND_STICKY = union_all(
    select(ExperimentForcedVariant.experiment_id, ExperimentForcedVariant.variant, literal(True).label("forced"))
    .where(ExperimentForcedVariant.experiment_id.in_(bindparam("ids", expanding=True)),
           ExperimentForcedVariant.subject == bindparam("subject")),
    select(ExperimentExposure.experiment_id, ExperimentExposure.variant, literal(False).label("forced"))
    .where(ExperimentExposure.experiment_id.in_(bindparam("ids", expanding=True)),
           ExperimentExposure.subject == bindparam("subject")))
_STICKY_ONE = select(ExperimentExposure.variant).where(ExperimentExposure.experiment_id == bindparam("id"),
                                                       ExperimentExposure.subject == bindparam("subject"))
_INSERTS = {name: dialect.insert(ExperimentExposure).on_conflict_do_nothing(index_elements=["experiment_id", "subject"])
            for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def _bucket(exp: Any, subject: str) -> int:
    """The variant index GrowthBook gives ``subject`` in ``exp`` (a row or an Experiment), -1 when not in it."""
    if not in_namespace(subject, exp.namespace, exp.namespace_start, exp.namespace_end):
        return -1
    n = gbhash(exp.seed, subject, exp.hash_version)
    return choose(n, bucket_ranges([float(v["weight"]) for v in exp.variants], exp.coverage))


def _in_segment(session: Session, segment_id: int, subject: str, now: dt.datetime) -> bool:
    from resolvers.operations import segments  # segments read tags and customers: loaded when first needed

    return segments.subject_in_segment(session, segment_id=segment_id, subject=subject, now=now)


def _scheduled(exp: Any, now: dt.datetime) -> bool:
    starts, ends = _aware(exp.starts_at), _aware(exp.ends_at)
    return (starts is None or starts <= now) and (ends is None or now < ends)


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    return at.replace(tzinfo=dt.UTC) if at is not None and at.tzinfo is None else at


def _assigned(default: Assignment, exp: Any, index: int, *, forced: bool = False) -> Assignment:
    return Assignment(flow=default.flow, subject=default.subject, variant=str(exp.variants[index]["key"]),
                      experiment_id=exp.id, experiment_key=exp.key, variant_index=index, forced=forced)


# --- lifecycle ----------------------------------------------------------------------------------

def get_experiment(session: Session, *, experiment_id: int, lock: bool = False) -> Experiment:
    """The experiment, or NOT_FOUND."""
    stmt = select(Experiment).where(Experiment.id == experiment_id)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFoundError("no such experiment", field="experimentId")
    return row


def experiments_query(*, flows: Sequence[Flow] = (), statuses: Sequence[ExperimentStatus] = ()) -> Select[Experiment]:
    """Experiments filtered by flow and status (every one when both are empty)."""
    stmt = select(Experiment)
    if flows:
        stmt = stmt.where(Experiment.flow.in_(flows))
    if statuses:
        stmt = stmt.where(Experiment.status.in_(statuses))
    return stmt


def create_experiment(session: Session, *, principal: Principal, spec: ExperimentSpec, now: dt.datetime) -> Experiment:
    """A draft experiment; every input error at once (weights, coverage, namespace, schedule, overlaps)."""
    _validate(session, spec, exclude_id=None)
    row = Experiment(key=spec.key, flow=spec.flow, description=spec.description.strip(), status=ExperimentStatus.DRAFT,
                     variants=[{"key": k, "weight": w} for k, w in spec.variants], coverage=spec.coverage,
                     namespace=spec.namespace or spec.flow.value, namespace_start=spec.namespace_start,
                     namespace_end=spec.namespace_end, seed=spec.seed or spec.key, hash_version=2,
                     starts_at=spec.starts_at, ends_at=spec.ends_at, created_by=principal.subject,
                     status_changed_at=now, status_changed_by=principal.subject)
    session.add(row)
    session.flush()
    _target(session, row.id, spec.segment_id)
    return row


def _target(session: Session, experiment_id: int, segment_id: int | None) -> None:
    from resolvers.operations import segments

    segments.restrict_experiment(session, experiment_id=experiment_id, segment_id=segment_id)


def update_experiment(session: Session, *, principal: Principal, experiment_id: int, spec: ExperimentSpec,
                      expected_version: int | None, now: dt.datetime) -> Experiment:
    """Change a draft or running experiment; exposed subjects keep their variant (sticky). Key and flow stay."""
    row = get_experiment(session, experiment_id=experiment_id, lock=True)
    _check_version(row, expected_version)
    if row.status not in _LIVE:
        raise InvalidTransitionError(f"a {row.status.value} experiment cannot change", field="experimentId")
    with collect_errors() as errors:
        if spec.key != row.key:
            errors.add(ValidationError("an experiment's key never changes", field="key", code="KEY_FIXED"))
        if spec.flow is not row.flow:
            errors.add(ValidationError("an experiment's flow never changes", field="flow", code="FLOW_FIXED"))
        if row.status is ExperimentStatus.RUNNING and [k for k, _ in spec.variants] != [v["key"] for v in row.variants]:
            errors.add(ValidationError("a running experiment keeps its variants (change weights only)",
                                       field="variants", code="VARIANTS_FIXED"))
        with errors.check():
            _validate(session, spec, exclude_id=row.id)
        errors.raise_if_any()
    row.variants = [{"key": k, "weight": w} for k, w in spec.variants]
    row.coverage = spec.coverage
    row.namespace = spec.namespace or spec.flow.value
    row.namespace_start, row.namespace_end = spec.namespace_start, spec.namespace_end
    row.starts_at, row.ends_at = spec.starts_at, spec.ends_at
    row.description = spec.description.strip()
    if row.status is ExperimentStatus.DRAFT:
        row.seed = spec.seed or spec.key
    session.flush()
    _target(session, row.id, spec.segment_id)
    return row


def set_status(session: Session, *, principal: Principal, experiment_id: int, action: str,
               expected_version: int | None, now: dt.datetime) -> Experiment:
    """Start a draft, stop a running experiment, or kill either (everyone gets the default at once)."""
    row = get_experiment(session, experiment_id=experiment_id, lock=True)
    _check_version(row, expected_version)
    sources, target = _MOVES[action]
    if row.status not in sources:
        raise InvalidTransitionError(f"cannot {action} a {row.status.value} experiment", field="experimentId")
    row.status = target
    row.status_changed_at, row.status_changed_by = now, principal.subject
    session.flush()
    return row


def delete_experiment(session: Session, *, principal: Principal, experiment_id: int) -> int:
    """Delete a draft (with its QA overrides); anything that ran keeps its record. Returns the id."""
    row = get_experiment(session, experiment_id=experiment_id, lock=True)
    if row.status is not ExperimentStatus.DRAFT:
        raise InvalidTransitionError("only a draft may be deleted (stop or kill a running one)", field="experimentId")
    session.execute(delete(ExperimentForcedVariant).where(ExperimentForcedVariant.experiment_id == row.id))
    session.execute(delete(ExperimentExposure).where(ExperimentExposure.experiment_id == row.id))
    session.execute(delete(ExperimentSegment).where(ExperimentSegment.experiment_id == row.id))
    session.delete(row)
    session.flush()
    return experiment_id


def force_variant(session: Session, *, principal: Principal, experiment_id: int, subject: str,
                  variant_key: str | None, now: dt.datetime) -> Experiment:
    """QA: make ``subject`` always get ``variant_key`` (None removes the override)."""
    row = get_experiment(session, experiment_id=experiment_id)
    keys = [str(v["key"]) for v in row.variants]
    with collect_errors() as errors:
        if not subject or len(subject) > 120:
            errors.add(ValidationError("subject has 1 to 120 characters", field="subject", code="BAD_SUBJECT"))
        if variant_key is not None and variant_key not in keys:
            errors.add(ValidationError(f"the experiment's variants are {keys}", field="variant", code="UNKNOWN_VARIANT"))
        if row.status not in _LIVE:
            errors.add(InvalidTransitionError(f"a {row.status.value} experiment takes no overrides",
                                              field="experimentId"))
        errors.raise_if_any()
    existing = session.scalar(select(ExperimentForcedVariant).where(
        ExperimentForcedVariant.experiment_id == row.id, ExperimentForcedVariant.subject == subject))
    if variant_key is None:
        if existing is not None:
            session.delete(existing)
    elif existing is None:
        session.add(ExperimentForcedVariant(experiment_id=row.id, subject=subject, variant=keys.index(variant_key),
                                            set_by=principal.subject, set_at=now))
    else:
        existing.variant, existing.set_by, existing.set_at = keys.index(variant_key), principal.subject, now
    session.flush()
    return row


def _check_version(row: Experiment, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise StaleVersionError(f"the experiment is at version {row.version}", field="expectedVersion")


def _validate(session: Session, spec: ExperimentSpec, *, exclude_id: int | None) -> None:
    known = FLOW_VARIANTS[spec.flow]
    keys = [k for k, _ in spec.variants]
    weights = [w for _, w in spec.variants]
    with collect_errors() as errors:
        if not _KEY.match(spec.key):
            errors.add(ValidationError("key is 2-64 of a-z, 0-9, - and _, starting with a letter", field="key",
                                       code="BAD_KEY"))
        if len(keys) < 2:
            errors.add(ValidationError("an experiment has at least two variants", field="variants",
                                       code="TOO_FEW_VARIANTS"))
        if len(set(keys)) != len(keys):
            errors.add(ValidationError("a variant appears twice", field="variants", code="DUPLICATE_VARIANT"))
        unknown = [k for k in keys if k not in known]
        if unknown:
            errors.add(ValidationError(f"the {spec.flow.value} flow has variants {list(known)}, not {unknown}",
                                       field="variants", code="UNKNOWN_VARIANT"))
        if any(not math.isfinite(w) or w < 0 for w in weights) or abs(sum(weights) - 1.0) > _WEIGHT_TOLERANCE:
            errors.add(ValidationError(f"weights are non-negative and add up to 1 (got {sum(weights):g})",
                                       field="variants", code="UNBALANCED_WEIGHTS"))
        if not 0.0 < spec.coverage <= 1.0:
            errors.add(ValidationError("coverage is in (0, 1]", field="coverage", code="BAD_COVERAGE"))
        if not 0.0 <= spec.namespace_start < spec.namespace_end <= 1.0:
            errors.add(ValidationError("the namespace range is 0 <= start < end <= 1", field="namespaceStart",
                                       code="BAD_NAMESPACE_RANGE"))
        if spec.starts_at and spec.ends_at and spec.ends_at <= spec.starts_at:
            errors.add(ValidationError("endsAt comes after startsAt", field="endsAt", code="BAD_SCHEDULE"))
        if exclude_id is None and session.scalar(select(Experiment.id).where(Experiment.key == spec.key)) is not None:
            errors.add(ConflictError(f"an experiment {spec.key!r} exists", field="key", code="KEY_TAKEN"))
        _overlaps(session, spec, exclude_id, errors)
        errors.raise_if_any()


def _overlaps(session: Session, spec: ExperimentSpec, exclude_id: int | None, errors: ErrorCollector) -> None:
    namespace = spec.namespace or spec.flow.value
    stmt = select(Experiment).where(Experiment.status.in_(_LIVE))
    if exclude_id is not None:
        stmt = stmt.where(Experiment.id != exclude_id)
    for other in session.scalars(stmt):
        same_ns = other.namespace == namespace
        disjoint = spec.namespace_end <= other.namespace_start or other.namespace_end <= spec.namespace_start
        if same_ns and not disjoint:
            errors.add(ValidationError(
                f"namespace {namespace!r} range overlaps experiment {other.key!r} "
                f"[{other.namespace_start:g}, {other.namespace_end:g})", field="namespaceStart",
                code="NAMESPACE_OVERLAP"))
        elif other.flow is spec.flow and not same_ns:
            errors.add(ValidationError(
                f"experiment {other.key!r} runs on the {spec.flow.value} flow in namespace {other.namespace!r}: "
                "experiments on one flow split one namespace", field="namespace", code="FLOW_OVERLAP"))
