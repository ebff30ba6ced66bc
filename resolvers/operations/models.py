"""Tables of the operations domain: experiments on process flows, their exposures and outcomes.

* ``experiment`` — one A/B test on a named flow (claim, consultation, health questionnaire,
  callback): its variants and weights, coverage, namespace range, hash seed, schedule and
  status (draft, running, stopped, killed).
* ``experiment_exposure`` — a subject's first assignment in an experiment: the sticky variant
  (kept when weights change later) and when it was first asked; one row per subject and
  experiment, so exposure logging is idempotent.
* ``experiment_forced_variant`` — QA overrides: this subject always gets this variant.
* ``behaviour_event`` — what frontends report customers (or anonymous visitors) did: a client
  event id (idempotency), a registered name, a timestamp, properties checked by the name's schema.
* ``behaviour_identity`` — who an anonymous visitor turned out to be: an anonymous id bound to a
  customer (by identify, or by an alias to an anonymous id bound already), once; events keep
  their rows and reads resolve them through this table.
* ``experiment_outcome`` — a subject's conversion in an experiment (once) and its time to
  settle in seconds, fed by the flow's outcome events (claims: ``claim.paid``).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, IdPk, Timestamped, UTCDateTime, Versioned, value_enum

__all__ = ["BehaviourEvent", "BehaviourIdentity", "Experiment", "ExperimentExposure", "ExperimentForcedVariant", "ExperimentOutcome", "ExperimentStatus",
           "Flow", "FlowVariant"]


class Flow(enum.StrEnum):
    """A process flow that asks the experiment layer which variant a subject gets."""

    CLAIM = "claim"  # fast claim vs the standard (human) review
    CONSULTATION = "consultation"  # chat vs video consultation
    HEALTH_QUESTIONNAIRE = "health_questionnaire"  # full vs short (smart) declaration
    CALLBACK = "callback"  # immediate vs scheduled callback


class FlowVariant(enum.StrEnum):
    """Every variant any flow knows (``experiments.FLOW_VARIANTS`` says which flow has which)."""

    FAST = "fast"
    STANDARD = "standard"
    CHAT = "chat"
    VIDEO = "video"
    FULL = "full"
    SHORT = "short"
    IMMEDIATE = "immediate"
    SCHEDULED = "scheduled"


class ExperimentStatus(enum.StrEnum):
    """Where an experiment stands; only ``running`` assigns variants (within its schedule)."""

    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"  # ended normally: results stay, no new assignments
    KILLED = "killed"  # kill switch: everyone gets the flow's default at once


class Experiment(IdPk, Timestamped, Versioned, Base):
    """An experiment on one flow (see module docstring)."""

    __tablename__ = "experiment"

    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    flow: Mapped[Flow] = mapped_column(value_enum(Flow, "experiment_flow"), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    status: Mapped[ExperimentStatus] = mapped_column(value_enum(ExperimentStatus, "experiment_status"),
                                                     nullable=False, default=ExperimentStatus.DRAFT)
    # [{"key": "fast", "weight": 0.5}, ...]; index 0 is the control
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    coverage: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    namespace: Mapped[str] = mapped_column(String(64), nullable=False)
    namespace_start: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    namespace_end: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    hash_version: Mapped[int] = mapped_column(Integer, nullable=False, default=2)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    status_changed_by: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ExperimentExposure(IdPk, Base):
    """A subject's sticky variant in an experiment and when it was first exposed."""

    __tablename__ = "experiment_exposure"
    __table_args__ = (UniqueConstraint("experiment_id", "subject"),)

    experiment_id: Mapped[int] = mapped_column(BigId, ForeignKey("experiment.id"), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(120), nullable=False)
    variant: Mapped[int] = mapped_column(Integer, nullable=False)
    forced: Mapped[bool] = mapped_column(nullable=False, default=False)
    exposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)


class ExperimentForcedVariant(IdPk, Base):
    """A QA override: ``subject`` always gets ``variant`` of the experiment."""

    __tablename__ = "experiment_forced_variant"
    __table_args__ = (UniqueConstraint("experiment_id", "subject"),)

    experiment_id: Mapped[int] = mapped_column(BigId, ForeignKey("experiment.id"), nullable=False)
    subject: Mapped[str] = mapped_column(String(120), nullable=False)
    variant: Mapped[int] = mapped_column(Integer, nullable=False)
    set_by: Mapped[str] = mapped_column(String(200), nullable=False)
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)


class ExperimentOutcome(IdPk, Base):
    """A subject's conversion in an experiment (once), with its time to settle."""

    __tablename__ = "experiment_outcome"
    __table_args__ = (UniqueConstraint("experiment_id", "subject"),)

    experiment_id: Mapped[int] = mapped_column(BigId, ForeignKey("experiment.id"), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(120), nullable=False)
    variant: Mapped[int] = mapped_column(Integer, nullable=False)
    converted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    seconds_to_settle: Mapped[float] = mapped_column(Float, nullable=False)
    source_event_id: Mapped[int | None] = mapped_column(BigId)


class BehaviourEvent(IdPk, Base):
    """One behaviour event (see module docstring); ``event_id`` is the sender's, unique."""

    __tablename__ = "behaviour_event"
    # By name alone: an index on (name, occurred_at) took random pages at every insert (half the ingest rate).
    __table_args__ = (Index("ix_behaviour_event_name", "name"),)

    event_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    anonymous_id: Mapped[str | None] = mapped_column(String(64), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)



class BehaviourIdentity(IdPk, Base):
    """An anonymous id bound to the customer it turned out to be (``via``: identify or alias), once."""

    __tablename__ = "behaviour_identity"

    anonymous_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    via: Mapped[str] = mapped_column(String(16), nullable=False)  # "identify" | "alias"
    alias_of: Mapped[str | None] = mapped_column(String(64))  # the anonymous id an alias followed
    identified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    identified_by: Mapped[str] = mapped_column(String(200), nullable=False)
