"""The demo's tags, classes, segment and finished Double 11 campaign."""

from __future__ import annotations

import random
from typing import Any

from core.db import transaction
from opsure.demo.clock import DemoClock
from opsure.demo.tags import load_tags, tags_summary
from resolvers.operations import campaigns
from resolvers.operations.tags import service as tags
from tests.factories import make_customer
from tests.tag_factories import T0


def test_demo_tags_a_segment_and_a_finished_campaign_with_conversions(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        for _ in range(60):
            make_customer(s)
        made = load_tags(s, random.Random(5), DemoClock(T0 + 30 * tags.rules.DAY))
        assert made["customers"] == 60 and made["events"] > 100
        rows = tags_summary(s, now=T0 + 30 * tags.rules.DAY)
        assert rows["tag vip (manual)"] == 5 and rows["tag browser (rule)"] > 0 and rows["segment d11-target"] > 0
        assert "gold" in str(rows["value tiers"])
        campaign = next(iter(s.scalars(campaigns.campaigns_query())))
        m = campaigns.metrics(s, campaign_id=campaign.id, now=T0 + 30 * tags.rules.DAY)
        assert m.finished and 0 < m.conversions <= m.reach <= m.audience and m.premium > 0
        before = tags.membership(s)
        assert tags.rebuild(s, now=T0 + 30 * tags.rules.DAY) == 0 and tags.membership(s) == before
