"""Domain events of tags, segments, classes and campaigns, and the consumer that keeps tags current.

* ``operations.tag_defined`` — a tag was created, its rule changed, or it was retired (aggregate ``Tag``).
* ``operations.tag_members_changed`` — customers gained or lost a tag (ids in chunks of at most
  1000 per event), with the cause (rule, manual, rebuild, redefined).
* ``operations.segment_defined`` (``Segment``), ``operations.class_scheme_set`` (``ClassScheme``),
  ``operations.campaign_created`` (``Campaign``).

Every one is visible to ``TAG_READERS``. The consumer ``operations.tags`` hears the policies
domain's policy events (a product held or no longer held changes a customer's attributes) and
re-evaluates that customer's tags at once.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import clock
from core.event_stream import (
    Actor,
    Aggregate,
    Consumer,
    EventPayload,
    StoredEvent,
    append,
    register_consumer,
    register_event_type,
)
from core.roles import TAG_READERS
from resolvers.operations.tags.models import TagChange

__all__ = [
    "TAG_CONSUMER",
    "CampaignCreated",
    "ClassSchemeSet",
    "SegmentDefined",
    "TagDefined",
    "TagMembersChanged",
    "publish_members",
]

CHUNK = 1000


class TagDefined(EventPayload):
    """A tag was created, changed (its rule or description) or retired (``active`` false)."""

    tag_id: int
    key: str
    active: bool


class TagMembersChanged(EventPayload):
    """Customers gained and lost one tag, and why."""

    tag_id: int
    cause: TagChange
    gained: list[int]
    lost: list[int]
    reason_code: str | None = None


class SegmentDefined(EventPayload):
    """A segment was created or its expression changed."""

    segment_id: int
    key: str


class ClassSchemeSet(EventPayload):
    """A classification scheme was set (its ordered rules replaced)."""

    scheme_id: int
    key: str
    classes: list[str]


class CampaignCreated(EventPayload):
    """A campaign was created on a segment."""

    campaign_id: int
    key: str
    segment_id: int


for _name, _payload, _aggregate in (("operations.tag_defined", TagDefined, "Tag"),
                                    ("operations.tag_members_changed", TagMembersChanged, "Tag"),
                                    ("operations.segment_defined", SegmentDefined, "Segment"),
                                    ("operations.class_scheme_set", ClassSchemeSet, "ClassScheme"),
                                    ("operations.campaign_created", CampaignCreated, "Campaign")):
    register_event_type(_name, 1, _payload, aggregate=_aggregate, readers=TAG_READERS)


def publish_members(session: Session, *, tag_id: int, cause: TagChange, gained: list[int], lost: list[int],
                    actor: Actor, reason_code: str | None = None) -> None:
    """Append the gains and losses of one tag, in chunks of at most 1000 ids."""
    gained, lost = sorted(gained), sorted(lost)
    while gained or lost:
        g, gained = gained[:CHUNK], gained[CHUNK:]
        room = CHUNK - len(g)
        lo, lost = lost[:room], lost[room:]
        append(session, TagMembersChanged(tag_id=tag_id, cause=cause, gained=g, lost=lo, reason_code=reason_code),
               aggregate=Aggregate("Tag", tag_id), actor=actor)


_POLICY_TYPES = frozenset({"policy.issued", "policy.cancelled", "policy.surrendered", "policy.lapsed",
                           "policy.expired", "policy.renewed"})


def _policy_changed(session: Session, event: StoredEvent) -> None:
    from resolvers.operations.tags import service  # the service imports this module's payloads

    customer_id = getattr(event.payload, "customer_id", None)
    if customer_id is not None:
        service.evaluate_customers(session, [int(customer_id)], now=clock.now(), cause=TagChange.RULE,
                                   actor=Actor.system("operations.tags"))


TAG_CONSUMER = register_consumer(Consumer("operations.tags", _policy_changed, types=_POLICY_TYPES))
