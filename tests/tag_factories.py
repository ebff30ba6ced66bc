"""Factories of customer tags and segments: principals, behaviour events straight into the table, tag rules."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from resolvers.operations.models import BehaviourEvent
from resolvers.operations.tags import service as tags
from resolvers.operations.tags.models import (
    ClassScheme,
    CustomerProduct,
    CustomerProfile,
    CustomerTag,
    Tag,
    TagCursor,
    TagHistory,
    TagKind,
    TagState,
)

MANAGER = Principal(subject="ops-manager", role=Role.MANAGER)
AGENT = Principal(subject="agent-7", role=Role.AGENT)
T0 = dt.datetime(2026, 11, 11, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing, Double 11
DAY = dt.timedelta(days=1)
_seq = itertools.count(1)


def events(session: Session, customer_id: int, name: str, *at: dt.datetime, **props: Any) -> None:
    """Store behaviour events of a customer as ingestion would (one row each)."""
    session.execute(BehaviourEvent.__table__.insert(), [
        {"event_id": f"evt-{next(_seq):08d}", "name": name, "customer_id": customer_id, "anonymous_id": None,
         "occurred_at": t, "received_at": t, "properties": props or {}, "source": "test"} for t in at])


def rule_tag(session: Session, key: str, rule: dict[str, Any], *, now: dt.datetime = T0) -> Tag:
    """A rule tag (evaluated for every customer at once)."""
    return tags.define_tag(session, principal=MANAGER, key=key, kind=TagKind.RULE, rule=rule, now=now)


def manual_tag(session: Session, key: str, *, now: dt.datetime = T0) -> Tag:
    """A manual tag."""
    return tags.define_tag(session, principal=MANAGER, key=key, kind=TagKind.MANUAL, now=now)


def held(session: Session) -> set[tuple[int, str]]:
    """Every (customer id, tag key) held now."""
    keys = {t.id: t.key for t in session.query(Tag)}
    return {(c, keys[t]) for c, t in tags.membership(session)}


def wipe(session: Session, *, events_too: bool = True) -> None:
    """Forget every tag, state and (unless told) behaviour event: a fresh start within one database."""
    for table in (TagHistory, CustomerTag, TagState, CustomerProfile, CustomerProduct, TagCursor, ClassScheme):
        session.execute(delete(table))
    session.execute(delete(Tag))
    if events_too:
        session.execute(delete(BehaviourEvent))


def keys(rows: Sequence[tuple[Tag, Any]]) -> list[str]:
    """The keys of (tag, since) rows."""
    return [t.key for t, _ in rows]
