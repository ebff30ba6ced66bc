"""Demo of customer tags, classes, a segment and a finished campaign.

The demo's customers browse (``page.viewed``, ``quote.viewed``) over the last four months, and
some buy (``purchase``) during last Double 11 (November 1 to 11, business dates), all sent
through the ingestion path frontends use. Then operations staff define rule tags over that
behaviour (browser, never bought, repeat buyer, new buyer, lapsed visitor) and a manual ``vip``
tag on a few customers, a ``value_tier`` classification, a segment built from tags, and the
Double 11 campaign on that segment, finished, with its reach, conversions and premium.

Each action leaves the audit entry of the mutation a client would have called.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy.orm import Session

from core.auth import Principal, Role
from opsure.demo.actors import CHECKER, audit
from opsure.demo.clock import DemoClock
from resolvers.operations import behaviour, campaigns, segments
from resolvers.operations.tags import reads
from resolvers.operations.tags import service as tags
from schema.relay import encode_global_id

__all__ = ["load_tags", "tags_summary"]

FRONTEND = Principal(subject="demo:web-frontend", role=Role.AGENT)
AGENT = Principal(subject="demo:agent-zhao", role=Role.AGENT)
MAX_CUSTOMERS = 600
RULE_TAGS = {
    "browser": {"op": "did", "event": "quote.viewed", "atLeast": 3, "withinDays": 30},
    "never-bought": {"op": "never", "event": "purchase"},
    "repeat-buyer": {"op": "did", "event": "purchase", "atLeast": 2, "withinDays": 365},
    "new-buyer": {"op": "firstTime", "event": "purchase", "withinDays": 60},
    "lapsed-visitor": {"op": "stopped", "event": "page.viewed", "withinDays": 45},
}


def _double_11(clock: DemoClock) -> tuple[dt.date, dt.date]:
    """The last Double 11 period (Nov 1-11) that has ended by the demo's today."""
    year = clock.today.year if clock.today > dt.date(clock.today.year, 11, 11) else clock.today.year - 1
    return dt.date(year, 11, 1), dt.date(year, 11, 11)


def load_tags(session: Session, rng: random.Random, clock: DemoClock) -> dict[str, int]:
    """Behaviour for the demo's customers, tags, a class scheme, a segment and a finished campaign."""
    ids = [i for batch, _ in reads.customer_ids(session) for i in batch][:MAX_CUSTOMERS]
    start, end = _double_11(clock)
    d11 = [dt.datetime.combine(start + dt.timedelta(days=d), dt.time(4), dt.UTC) for d in range(11)]  # noon in Beijing
    seq = 0
    batch: list[behaviour.EventIn] = []

    def send(customer: int, name: str, at: dt.datetime, **props: object) -> None:
        nonlocal seq, batch
        seq += 1
        batch.append(behaviour.EventIn(event_id=f"demo-bhv-{seq:07d}", name=name, timestamp=min(at, clock.now),
                                       customer_id=customer, properties=dict(props)))
        if len(batch) == behaviour.MAX_BATCH:
            behaviour.ingest(session, principal=FRONTEND, events=batch, source="demo:web", now=clock.now)
            batch = []

    for cid in ids:
        for _ in range(rng.randint(0, 4)):
            send(cid, "page.viewed", clock.now - dt.timedelta(days=rng.uniform(0, 120)), path="/products")
        for _ in range(rng.choice((0, 0, 1, 3, 4))):
            send(cid, "quote.viewed", clock.now - dt.timedelta(days=rng.uniform(0, 28)), productCode="MED-1")
        if rng.random() < 0.5:
            send(cid, "page.viewed", rng.choice(d11), path="/double-11")
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                send(cid, "purchase", rng.choice(d11) + dt.timedelta(hours=1), productCode="MED-1",
                     premium=f"{rng.randint(300, 2400)}.00")
    if batch:
        behaviour.ingest(session, principal=FRONTEND, events=batch, source="demo:web", now=clock.now)

    for key, rule in RULE_TAGS.items():
        tag = tags.define_tag(session, principal=CHECKER, key=key, kind=tags.TagKind.RULE, rule=rule, now=clock.now)
        audit(session, CHECKER, "defineTag", {"key": key}, target=encode_global_id("Tag", tag.id))
    vip = tags.define_tag(session, principal=CHECKER, key="vip", kind=tags.TagKind.MANUAL, now=clock.now,
                          description="Customers the agency looks after in person")
    audit(session, CHECKER, "defineTag", {"key": "vip"}, target=encode_global_id("Tag", vip.id))
    for cid in rng.sample(ids, min(5, len(ids))):
        tags.add_manual_tag(session, principal=AGENT, tag_id=vip.id, customer_id=cid, reason_code="KEY_ACCOUNT",
                            now=clock.now)
        audit(session, AGENT, "addCustomerTag", {"customerId": encode_global_id("Customer", cid),
                                                 "reasonCode": "KEY_ACCOUNT"}, target=encode_global_id("Tag", vip.id))
    scheme = tags.set_class_scheme(session, principal=CHECKER, key="value_tier", classes=[
        ("gold", {"op": "any", "of": [{"op": "tag", "tag": "repeat-buyer"}, {"op": "tag", "tag": "vip"}]}),
        ("silver", {"op": "not", "of": {"op": "tag", "tag": "never-bought"}}),
        ("bronze", {"op": "tag", "tag": "browser"})], description="Value tiers for service levels")
    audit(session, CHECKER, "setClassScheme", {"key": scheme.key}, target=encode_global_id("ClassScheme", scheme.id))
    segment = segments.define_segment(session, principal=CHECKER, key="d11-target", expression={"op": "any", "of": [
        {"op": "tag", "tag": "browser"}, {"op": "tag", "tag": "lapsed-visitor"}, {"op": "tag", "tag": "vip"}]},
        description="Engaged browsers, lapsed visitors and key accounts")
    audit(session, CHECKER, "defineSegment", {"key": segment.key}, target=encode_global_id("Segment", segment.id))
    campaign = campaigns.create_campaign(session, principal=CHECKER, key="double-11", name="Double 11",
                                         segment_id=segment.id, starts_on=start, ends_on=end,
                                         offers=[campaigns.OfferSpec("D11-10OFF", "MED-1", Decimal("0.10"))])
    audit(session, CHECKER, "createCampaign", {"key": campaign.key}, target=encode_global_id("Campaign", campaign.id))
    tags.apply_new_events(session, now=clock.now)  # the consumer's cursors start after what the tags just read
    return {"events": seq, "customers": len(ids)}


def tags_summary(session: Session, *, now: dt.datetime) -> dict[str, int | str]:
    """The summary rows: members per tag, the value tiers, the segment's size, the campaign's figures."""
    rows: dict[str, int | str] = {}
    for tag in session.scalars(tags.tags_query().order_by("key")):
        rows[f"tag {tag.key} ({tag.kind.value})"] = tags.members_count(session, tag_id=tag.id)
    ids = [i for batch, _ in reads.customer_ids(session) for i in batch]
    tiers: dict[str, int] = {}
    for classes in tags.classify(session, customer_ids=ids, now=now).values():
        tier = classes.get("value_tier") or "none"
        tiers[tier] = tiers.get(tier, 0) + 1
    if tiers:
        rows["value tiers"] = ", ".join(f"{k} {tiers[k]}" for k in ("gold", "silver", "bronze", "none") if k in tiers)
    for seg in session.scalars(segments.segments_query().order_by("id")):
        rows[f"segment {seg.key}"] = segments.size(session, segment_id=seg.id, now=now)
    for c in session.scalars(campaigns.campaigns_query().order_by("id")):
        m = campaigns.metrics(session, campaign_id=c.id, now=now)
        rate = f"{m.conversion_rate:.1%}" if m.conversion_rate is not None else "n/a"
        rows[f"campaign {c.key} ({c.starts_on}..{c.ends_on})"] = (
            f"audience {m.audience}, reach {m.reach}, conversions {m.conversions} ({rate}), premium {m.premium}")
    return rows
