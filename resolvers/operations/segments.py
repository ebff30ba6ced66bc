"""Segments: named boolean expressions over tags and attributes; size, membership, members, export.

An expression is the tag rule language without behaviour atoms (``tags/rules.py``: ``all``,
``any``, ``not``, ``tag``, ``age``, ``city``, ``gender``, ``holdsProduct``): behaviour reaches a
segment through tags. An expression compiles to one SQL condition over the customers known to
tags (``customer_profile``: every customer evaluated once, by the incremental consumer or a
rebuild), so size, membership and keyset pages are single queries.

Experiments may be restricted to a segment (:func:`restrict_experiment`): the experiment layer
then assigns only members (subjects ``customer:<id>``).

Example::

    seg = define_segment(s, principal=p, key="young-browsers", expression={"op": "all", "of": [
        {"op": "tag", "tag": "browser"}, {"op": "age", "min": 18, "max": 35}]})
    size(s, segment_id=seg.id), is_member(s, segment_id=seg.id, customer_id=7)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import business_zone
from core.errors import ConflictError, NotFoundError, ValidationError, collect_errors
from core.event_stream import Actor, Aggregate, append
from resolvers.operations.tags import rules
from resolvers.operations.tags.events import SegmentDefined
from resolvers.operations.tags.models import (
    CustomerProduct,
    CustomerProfile,
    CustomerTag,
    ExperimentSegment,
    Segment,
    Tag,
)
from resolvers.operations.tags.service import KEY, rule_errors

__all__ = ["MEMBER_KEY", "condition", "define_segment", "export_csv", "get_segment", "is_member", "members_query",
           "restrict_experiment", "segment_by_key", "segment_of_experiment", "segments_query", "segments_reading",
           "size", "update_segment"]

EXPORT_BATCH = 5000
#: The key of members' keyset pages (the customer id).
MEMBER_KEY = CustomerProfile.customer_id


def get_segment(session: Session, *, segment_id: int) -> Segment:
    """The segment, or NOT_FOUND."""
    row = session.get(Segment, segment_id)
    if row is None:
        raise NotFoundError("no such segment", field="segmentId")
    return row


def segment_by_key(session: Session, *, key: str) -> Segment | None:
    """The segment of this key, if any."""
    return session.scalar(select(Segment).where(Segment.key == key))


def segments_query() -> Select[Any]:
    """Every segment."""
    return select(Segment)


def _parse(session: Session, expression: Any) -> rules.Cond:
    keys = set(session.scalars(select(Tag.key).where(Tag.active.is_(True))))
    try:
        return rules.parse(expression, tags=keys, behaviour=False, path="expression")
    except rules.RuleProblems as exc:
        with collect_errors() as errors:
            for e in rule_errors(exc.problems):
                errors.add(e)
            errors.raise_if_any()
        raise


def define_segment(session: Session, *, principal: Principal, key: str, expression: Any,
                   description: str = "") -> Segment:
    """A new segment; every input error at once (key, expression)."""
    cond: rules.Cond | None = None
    with collect_errors() as errors:
        if not KEY.match(key):
            errors.add(ValidationError("key is 2-64 of a-z, 0-9, - and _ starting with a letter", field="key",
                                       code="BAD_KEY"))
        elif segment_by_key(session, key=key) is not None:
            errors.add(ConflictError("a segment with this key exists", field="key", code="KEY_TAKEN"))
        if len(description) > 500:
            errors.add(ValidationError("description has at most 500 characters", field="description"))
        with errors.check():
            cond = _parse(session, expression)
        errors.raise_if_any()
    assert cond is not None
    row = Segment(key=key, description=description.strip(), expression=rules.to_json(cond),
                  created_by=principal.subject)
    session.add(row)
    session.flush()
    append(session, SegmentDefined(segment_id=row.id, key=row.key), aggregate=Aggregate("Segment", row.id, row.version),
           actor=Actor.of(principal))
    return row


def update_segment(session: Session, *, principal: Principal, segment_id: int, expression: Any,
                   description: str | None = None) -> Segment:
    """Change a segment's expression (campaigns and experiments on it follow at once)."""
    row = get_segment(session, segment_id=segment_id)
    cond = _parse(session, expression)
    row.expression = rules.to_json(cond)
    if description is not None:
        row.description = description.strip()[:500]
    session.flush()
    append(session, SegmentDefined(segment_id=row.id, key=row.key), aggregate=Aggregate("Segment", row.id, row.version),
           actor=Actor.of(principal))
    return row


def segments_reading(session: Session, *, tag_key: str) -> list[str]:
    """Keys of the segments whose expression reads this tag."""
    keys = set(session.scalars(select(Tag.key)))
    return [s.key for s in session.scalars(select(Segment))
            if tag_key in rules.tag_refs(rules.parse(s.expression, tags=keys, behaviour=False))]


def condition(session: Session, cond: rules.Cond, *, now: dt.datetime) -> ColumnElement[bool]:
    """The SQL condition on ``customer_profile`` of an expression (ages at ``now``'s business year)."""
    tag_ids = {k: i for k, i in session.execute(select(Tag.key, Tag.id))}
    year = now.astimezone(business_zone()).year
    p = CustomerProfile

    def sql(c: rules.Cond) -> ColumnElement[bool]:
        match c:
            case rules.All(of):
                return and_(true(), *[sql(x) for x in of])
            case rules.Any_(of):
                return or_(false(), *[sql(x) for x in of])
            case rules.Not(of):
                return not_(sql(of))
            case rules.HasTag(tag):
                return exists().where(CustomerTag.customer_id == p.customer_id, CustomerTag.tag_id == tag_ids[tag])
            case rules.Age(lo, hi):
                return and_(p.birth_year.is_not(None), p.birth_year >= year - hi, p.birth_year <= year - lo)
            case rules.InSet("city", values):
                return and_(p.city.is_not(None), p.city.in_(sorted(values)))
            case rules.InSet(_, values):
                return and_(p.gender.is_not(None), p.gender.in_(sorted(values)))
            case rules.HoldsProduct(codes):
                return exists().where(CustomerProduct.customer_id == p.customer_id,
                                      CustomerProduct.product_code.in_(sorted(codes)))
        raise AssertionError(c)

    return sql(cond)


def _cond(session: Session, segment: Segment) -> rules.Cond:
    keys = set(session.scalars(select(Tag.key)))
    return rules.parse(segment.expression, tags=keys, behaviour=False)


def members_query(session: Session, *, segment_id: int, now: dt.datetime) -> Select[Any]:
    """The member profiles of a segment (``customer_id`` is the customer), for keyset paging by customer id."""
    seg = get_segment(session, segment_id=segment_id)
    return select(CustomerProfile).where(condition(session, _cond(session, seg), now=now))


def size(session: Session, *, segment_id: int, now: dt.datetime) -> int:
    """How many customers are in the segment now (one COUNT)."""
    seg = get_segment(session, segment_id=segment_id)
    stmt = select(func.count()).select_from(CustomerProfile).where(condition(session, _cond(session, seg), now=now))
    return int(session.scalar(stmt) or 0)


def is_member(session: Session, *, segment_id: int, customer_id: int, now: dt.datetime) -> bool:
    """Whether the customer is in the segment now."""
    seg = get_segment(session, segment_id=segment_id)
    stmt = select(CustomerProfile.customer_id).where(CustomerProfile.customer_id == customer_id,
                                                     condition(session, _cond(session, seg), now=now))
    return session.scalar(stmt) is not None


def member_ids(session: Session, *, segment_id: int, now: dt.datetime) -> Iterator[list[int]]:
    """The members' customer ids in id order, a batch of at most 5,000 at a time."""
    seg = get_segment(session, segment_id=segment_id)
    where = condition(session, _cond(session, seg), now=now)
    last = 0
    while True:
        batch = list(session.scalars(select(CustomerProfile.customer_id).where(where, CustomerProfile.customer_id > last)
                                     .order_by(CustomerProfile.customer_id).limit(EXPORT_BATCH)))
        if not batch:
            return
        yield batch
        last = batch[-1]


def export_csv(session: Session, *, segment_id: int, now: dt.datetime, encode_id: Any) -> Iterator[str]:
    """The segment's members as CSV text chunks: header ``customerId`` then one global id per line."""
    buf = io.StringIO()
    csv.writer(buf).writerow(["customerId"])
    yield buf.getvalue()
    for batch in member_ids(session, segment_id=segment_id, now=now):
        buf = io.StringIO()
        writer = csv.writer(buf)
        for cid in batch:
            writer.writerow([encode_id(cid)])
        yield buf.getvalue()


# --- experiments on a segment --------------------------------------------------------------------

def restrict_experiment(session: Session, *, experiment_id: int, segment_id: int | None) -> None:
    """Restrict an experiment to a segment's members (None lifts the restriction)."""
    row = session.get(ExperimentSegment, experiment_id)
    if segment_id is None:
        if row is not None:
            session.delete(row)
    else:
        get_segment(session, segment_id=segment_id)
        if row is None:
            session.add(ExperimentSegment(experiment_id=experiment_id, segment_id=segment_id))
        else:
            row.segment_id = segment_id
    session.flush()


def segment_of_experiment(session: Session, *, experiment_id: int) -> int | None:
    """The segment an experiment is restricted to, if any."""
    return session.scalar(select(ExperimentSegment.segment_id).where(ExperimentSegment.experiment_id == experiment_id))


def subject_in_segment(session: Session, *, segment_id: int, subject: str, now: dt.datetime) -> bool:
    """Whether a flow's subject (``customer:<id>``) is a member of the segment; other subjects never are."""
    prefix, _, rest = subject.partition(":")
    if prefix != "customer" or not rest.isdigit():
        return False
    return is_member(session, segment_id=segment_id, customer_id=int(rest), now=now)
