"""Tables of customer tags, classes, segments and campaigns (operations domain).

* ``tag`` — a named tag: a RULE tag (computed from a rule over attributes, behaviour in time
  windows and other tags) or a MANUAL tag (staff add and remove it, with a reason code).
* ``customer_tag`` — who holds which tag now (one row per customer and tag).
* ``tag_history`` — every gain and loss: when, why (rule, manual with its reason code, rebuild).
* ``tag_state`` — per customer: when its rule tags must be looked at again without any new
  event (a window closing, an age changing): the expiry job reads it.
* ``customer_profile`` / ``customer_product`` — the attributes rules and segments read (age
  from birth year, city, gender; codes of products held in force), copied from the policies
  domain's service and loaders when a customer is evaluated; never typed in here.
* ``tag_cursor`` — how far the incremental consumer read (behaviour events, customers).
* ``class_scheme`` — a classification scheme (e.g. ``value_tier``): ordered rules, first match.
* ``segment`` — a named boolean expression over tags and attributes.
* ``campaign`` — a campaign on a segment over business dates, with offers.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, IdPk, Timestamped, UTCDateTime, Versioned, value_enum

__all__ = [
    "Campaign",
    "ClassScheme",
    "CustomerProduct",
    "CustomerProfile",
    "CustomerTag",
    "ExperimentSegment",
    "Segment",
    "Tag",
    "TagChange",
    "TagCursor",
    "TagHistory",
    "TagKind",
    "TagState",
]


class TagKind(enum.StrEnum):
    """How a tag is held: computed by its rule, or set by staff."""

    RULE = "rule"
    MANUAL = "manual"


class TagChange(enum.StrEnum):
    """Why a customer gained or lost a tag."""

    RULE = "rule"  # the rule's result changed (new events, attributes, time passing)
    MANUAL = "manual"  # staff added or removed it (with a reason code)
    REBUILD = "rebuild"  # a full rebuild found it differently (an event the consumer missed)
    REDEFINED = "redefined"  # the tag's rule changed or the tag was retired


class Tag(IdPk, Timestamped, Versioned, Base):
    """A tag definition (see module docstring)."""

    __tablename__ = "tag"

    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[TagKind] = mapped_column(value_enum(TagKind, "tag_kind"), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # RULE tags only: the rule language's JSON
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class CustomerTag(IdPk, Base):
    """``customer_id`` holds ``tag_id`` since ``since``."""

    __tablename__ = "customer_tag"
    __table_args__ = (UniqueConstraint("customer_id", "tag_id"), Index("ix_customer_tag_tag_customer", "tag_id",
                                                                       "customer_id"))

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False)
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tag.id"), nullable=False)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)


class TagHistory(IdPk, Base):
    """One gain (``gained``) or loss of a tag by a customer, with its cause."""

    __tablename__ = "tag_history"
    __table_args__ = (Index("ix_tag_history_customer", "customer_id", "id"),)

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False)
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tag.id"), nullable=False, index=True)
    gained: Mapped[bool] = mapped_column(nullable=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    cause: Mapped[TagChange] = mapped_column(value_enum(TagChange, "tag_change"), nullable=False)
    reason_code: Mapped[str | None] = mapped_column(String(40))  # MANUAL: staff's reason code
    actor: Mapped[str] = mapped_column(String(200), nullable=False)


class TagState(Base):
    """When a customer's rule tags must be evaluated again with no new event (None: never)."""

    __tablename__ = "tag_state"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    recheck_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)


class CustomerProfile(Base):
    """The attributes of a customer that rules and segments read (copied from policies)."""

    __tablename__ = "customer_profile"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    city: Mapped[str | None] = mapped_column(String(64))
    gender: Mapped[str | None] = mapped_column(String(16))


class CustomerProduct(IdPk, Base):
    """A product code the customer holds a policy of, in force."""

    __tablename__ = "customer_product"
    __table_args__ = (UniqueConstraint("customer_id", "product_code"),)

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False)
    product_code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)


class TagCursor(Base):
    """A named position of the incremental consumer (last behaviour event id read, customers seen)."""

    __tablename__ = "tag_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigId, nullable=False, default=0)


class ClassScheme(IdPk, Timestamped, Versioned, Base):
    """A classification scheme (e.g. ``value_tier``): ordered rules, the first whose condition holds names the class."""

    __tablename__ = "class_scheme"

    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    # [{"class": "gold", "when": {...condition...}}, ...] in order
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    set_by: Mapped[str] = mapped_column(String(200), nullable=False)


class Segment(IdPk, Timestamped, Versioned, Base):
    """A named boolean expression over tags and attributes."""

    __tablename__ = "segment"

    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    expression: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class Campaign(IdPk, Timestamped, Versioned, Base):
    """A campaign (Double 11, New Year opening): a target segment, business dates, offers."""

    __tablename__ = "campaign"

    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    segment_id: Mapped[int] = mapped_column(BigId, ForeignKey("segment.id"), nullable=False, index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[dt.date] = mapped_column(Date, nullable=False)  # inclusive
    # [{"code": "D11-10OFF", "productCode": "MED-1", "discountRate": "0.10"}]
    offers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class ExperimentSegment(Base):
    """An experiment restricted to a segment: only its members (subjects ``customer:<id>``) are assigned."""

    __tablename__ = "experiment_segment"

    experiment_id: Mapped[int] = mapped_column(BigId, ForeignKey("experiment.id"), primary_key=True,
                                               autoincrement=False)
    segment_id: Mapped[int] = mapped_column(BigId, ForeignKey("segment.id"), nullable=False)
