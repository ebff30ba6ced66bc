"""Campaigns (Double 11, New Year opening): a target segment, a period of business dates, offers, metrics.

A campaign runs from ``starts_on`` to ``ends_on`` inclusive, business dates in the business time
zone (Asia/Shanghai): its window is [starts_on 00:00, the day after ends_on 00:00) there. Its
**audience** is the target segment's members (as the segment reads now); its metrics come from
behaviour events (identity-resolved, through the behaviour read service):

* **reach** — audience members who did anything (any behaviour event) in the window: exposed;
* **conversions** — audience members with a ``purchase`` in the window (of an offered product
  when the offers name products), and **premium** — the sum of those purchases' premiums;
* **conversion rate** — conversions / reach (None without reach).

:func:`metrics` is what analytics reads (``campaign_metrics`` for every campaign of a period).

Example::

    c = create_campaign(s, principal=p, key="double-11", name="Double 11", segment_id=seg.id,
                        starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 11),
                        offers=[OfferSpec("D11-10OFF", "MED-1", Decimal("0.10"))])
    metrics(s, campaign_id=c.id, now=now).conversions
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import business_zone
from core.errors import ConflictError, NotFoundError, ValidationError, collect_errors
from core.event_stream import Actor, Aggregate, append
from resolvers.operations import behaviour, segments
from resolvers.operations.tags.events import CampaignCreated
from resolvers.operations.tags.models import Campaign
from resolvers.operations.tags.service import KEY

__all__ = ["CampaignMetrics", "OfferSpec", "campaign_metrics", "campaigns_query", "create_campaign", "get_campaign",
           "metrics", "window"]

OFFER_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
MAX_DAYS = 366
MAX_OFFERS = 20


@dataclass(frozen=True)
class OfferSpec:
    """One offer: its code, the product it applies to (None: any), its discount rate (0 to 1)."""

    code: str
    product_code: str | None
    discount_rate: Decimal


@dataclass(frozen=True)
class CampaignMetrics:
    """A campaign's figures (see module docstring)."""

    campaign_id: int
    audience: int
    reach: int
    conversions: int
    premium: Decimal
    conversion_rate: float | None
    finished: bool


def get_campaign(session: Session, *, campaign_id: int) -> Campaign:
    """The campaign, or NOT_FOUND."""
    row = session.get(Campaign, campaign_id)
    if row is None:
        raise NotFoundError("no such campaign", field="campaignId")
    return row


def campaigns_query(*, active_on: dt.date | None = None) -> Select[Any]:
    """Campaigns, those running on ``active_on`` only when given."""
    stmt = select(Campaign)
    if active_on is not None:
        stmt = stmt.where(Campaign.starts_on <= active_on, Campaign.ends_on >= active_on)
    return stmt


def create_campaign(session: Session, *, principal: Principal, key: str, name: str, segment_id: int,
                    starts_on: dt.date, ends_on: dt.date, offers: Sequence[OfferSpec]) -> Campaign:
    """A campaign on a segment; every input error at once."""
    with collect_errors() as errors:
        if not KEY.match(key):
            errors.add(ValidationError("key is 2-64 of a-z, 0-9, - and _ starting with a letter", field="key",
                                       code="BAD_KEY"))
        elif session.scalar(select(Campaign.id).where(Campaign.key == key)) is not None:
            errors.add(ConflictError("a campaign with this key exists", field="key", code="KEY_TAKEN"))
        if not 0 < len(name.strip()) <= 200:
            errors.add(ValidationError("name has 1 to 200 characters", field="name", code="INVALID"))
        if ends_on < starts_on or (ends_on - starts_on).days >= MAX_DAYS:
            errors.add(ValidationError(f"endsOn is on or after startsOn, at most {MAX_DAYS} days", field="endsOn",
                                       code="BAD_PERIOD"))
        if len(offers) > MAX_OFFERS:
            errors.add(ValidationError(f"at most {MAX_OFFERS} offers", field="offers", code="BAD_OFFER"))
        codes = [o.code for o in offers]
        for i, o in enumerate(offers):
            if not OFFER_CODE.match(o.code) or not Decimal(0) <= o.discount_rate <= Decimal(1) or (
                    o.product_code is not None and not 0 < len(o.product_code) <= 40):
                errors.add(ValidationError("an offer has a code (2-40 of A-Z, 0-9, _ and -), a discount rate from 0 "
                                           "to 1 and maybe a product code", field=f"offers[{i}]", code="BAD_OFFER"))
        if len(set(codes)) != len(codes):
            errors.add(ValidationError("an offer code appears twice", field="offers", code="BAD_OFFER"))
        with errors.check():
            segments.get_segment(session, segment_id=segment_id)
        errors.raise_if_any()
    row = Campaign(key=key, name=name.strip(), segment_id=segment_id, starts_on=starts_on, ends_on=ends_on,
                   offers=[{"code": o.code, "productCode": o.product_code, "discountRate": str(o.discount_rate)}
                           for o in offers], created_by=principal.subject)
    session.add(row)
    session.flush()
    append(session, CampaignCreated(campaign_id=row.id, key=row.key, segment_id=segment_id),
           aggregate=Aggregate("Campaign", row.id, row.version), actor=Actor.of(principal))
    return row


def window(campaign: Campaign) -> tuple[dt.datetime, dt.datetime]:
    """The campaign's instants: [starts_on 00:00, the day after ends_on 00:00) in the business time zone, in UTC."""
    zone = business_zone()
    start = dt.datetime.combine(campaign.starts_on, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(campaign.ends_on + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return start, end


def metrics(session: Session, *, campaign_id: int, now: dt.datetime) -> CampaignMetrics:
    """Audience, reach, conversions, premium and conversion rate of a campaign (up to ``now`` if it still runs)."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    start, end = window(campaign)
    until = min(end, now)
    audience = {c for batch in segments.member_ids(session, segment_id=campaign.segment_id, now=now) for c in batch}
    reached: set[int] = set()
    if audience and start < until:
        for name in sorted(behaviour.EVENT_SCHEMAS):
            stats = behaviour.event_stats(session, name, since=start, until=until, customer_ids=sorted(audience))
            reached.update(stats)
    products = {o["productCode"] for o in campaign.offers if o.get("productCode")}
    converted: set[int] = set()
    premium = Decimal("0.00")
    if reached:
        for cid in sorted(reached):
            for e in behaviour.events_for_customer(session, cid, names=["purchase"], since=start, until=until):
                if products and e.properties.get("productCode") not in products:
                    continue
                converted.add(cid)
                premium += Decimal(str(e.properties.get("premium", "0")))
    return CampaignMetrics(campaign_id=campaign.id, audience=len(audience), reach=len(reached),
                           conversions=len(converted), premium=premium.quantize(Decimal("0.01")),
                           conversion_rate=len(converted) / len(reached) if reached else None, finished=now >= end)


def campaign_metrics(session: Session, *, since: dt.date, until: dt.date, now: dt.datetime) -> list[CampaignMetrics]:
    """Analytics' read: the metrics of every campaign overlapping the business dates [since, until]."""
    stmt = select(Campaign.id).where(Campaign.starts_on <= until, Campaign.ends_on >= since).order_by(Campaign.id)
    return [metrics(session, campaign_id=i, now=now) for i in session.scalars(stmt)]
