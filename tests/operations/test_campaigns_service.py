"""Campaigns: a segment built from tags targets a campaign whose reach, conversions and premium come from events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from core.db import transaction
from core.errors import DomainError, DomainErrors
from resolvers.operations import campaigns, segments
from tests.factories import make_customer
from tests.tag_factories import MANAGER, events, rule_tag

D11 = (dt.date(2026, 11, 1), dt.date(2026, 11, 11))
BJ = dt.timezone(dt.timedelta(hours=8))


def _at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=BJ).astimezone(dt.UTC)


def test_a_tag_segment_targets_a_campaign_whose_conversions_are_measured(session_factory: Any) -> None:
    end = dt.datetime(2026, 11, 12, tzinfo=BJ).astimezone(dt.UTC)
    with transaction(session_factory) as s:
        a, b, c, outsider = (make_customer(s) for _ in range(4))
        for who in (a, b, c, outsider):
            events(s, who.id, "quote.viewed", _at(1, 9), _at(2, 9), productCode="MED-1")  # tagged 'browser' on Nov 3
        events(s, outsider.id, "claim.reported", _at(2, 12))
        rule_tag(s, "browser", {"op": "did", "event": "quote.viewed", "atLeast": 2, "withinDays": 30}, now=_at(3))
        rule_tag(s, "claimant", {"op": "did", "event": "claim.reported", "atLeast": 1, "withinDays": 365}, now=_at(3))
        seg = segments.define_segment(s, principal=MANAGER, key="browsers-no-claims", expression={"op": "all", "of": [
            {"op": "tag", "tag": "browser"}, {"op": "not", "of": {"op": "tag", "tag": "claimant"}}]})
        d11 = campaigns.create_campaign(s, principal=MANAGER, key="double-11", name="Double 11", segment_id=seg.id,
                                        starts_on=D11[0], ends_on=D11[1],
                                        offers=[campaigns.OfferSpec("D11-10OFF", "MED-1", Decimal("0.10"))])
        events(s, a.id, "purchase", _at(11, 23), productCode="MED-1", premium="1200.00")  # 23:00 Beijing: in
        events(s, b.id, "purchase", _at(12, 0), productCode="MED-1", premium="900.00")  # Nov 12: after the period
        events(s, c.id, "purchase", _at(5), productCode="DENTAL-2", premium="80.00")  # not an offered product
        events(s, outsider.id, "purchase", _at(5), productCode="MED-1", premium="500.00")  # not in the segment
        m = campaigns.metrics(s, campaign_id=d11.id, now=end + dt.timedelta(days=1))
        assert (m.audience, m.reach, m.conversions, m.premium, m.finished) == (3, 3, 1, Decimal("1200.00"), True)
        assert m.conversion_rate == pytest.approx(1 / 3)
        assert [x.campaign_id for x in campaigns.campaign_metrics(s, since=dt.date(2026, 11, 10),
                                                                  until=dt.date(2026, 11, 30), now=end)] == [d11.id]
        running = campaigns.metrics(s, campaign_id=d11.id, now=_at(6))
        assert (running.conversions, running.finished) == (0, False)


def test_a_bad_campaign_is_refused_with_every_problem(session_factory: Any) -> None:
    with transaction(session_factory) as s, pytest.raises(DomainErrors) as caught:
        campaigns.create_campaign(s, principal=MANAGER, key="X", name="", segment_id=999, starts_on=D11[1],
                                  ends_on=D11[0], offers=[campaigns.OfferSpec("ok-1", None, Decimal("1.5"))])
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("key", "BAD_KEY"), ("name", "INVALID"), ("endsOn", "BAD_PERIOD"), ("offers[0]", "BAD_OFFER"),
        ("segmentId", "NOT_FOUND")}
    assert isinstance(caught.value, DomainError)
