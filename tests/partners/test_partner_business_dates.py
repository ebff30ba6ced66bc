"""Partner licences are valid by the Beijing date: approval and the expiry sweep."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.db import transaction
from partners import review
from partners import service as registry
from partners.models import PartnerStatus
from tests.partner_factories import CHECKER, make_partner

# 2026-06-01 01:00 in Beijing; the UTC date is still 2026-05-31.
BEIJING_1AM = dt.datetime(2026, 5, 31, 17, 0, tzinfo=dt.UTC)


def test_a_licence_ending_yesterday_in_beijing_expires_the_partner(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        partner = make_partner(s, licence_until=dt.date(2026, 5, 31), now=BEIJING_1AM - dt.timedelta(days=2))
    with transaction(session_factory) as s:
        assert review.expire_due_partners(s, now=BEIJING_1AM - dt.timedelta(hours=1, seconds=1)) == 0  # 23:59:59 May 31
        assert review.expire_due_partners(s, now=BEIJING_1AM) == 1
    with transaction(session_factory) as s:
        assert registry.get_partner(s, principal=CHECKER, partner_id=partner.id).status is PartnerStatus.EXPIRED


def test_a_licence_starting_today_in_beijing_allows_approval(session_factory: Any) -> None:
    starts = registry.LicenceSpec("LIC-BJ-1", "NFRA", dt.date(2026, 6, 1), dt.date(2029, 5, 31))
    with transaction(session_factory) as s:
        partner = make_partner(s, approved=False, licences=[starts], now=BEIJING_1AM)
        review.start_review(s, principal=CHECKER, partner_id=partner.id, now=BEIJING_1AM)
        approved = review.approve(s, principal=CHECKER, partner_id=partner.id, now=BEIJING_1AM)
        assert approved.status is PartnerStatus.APPROVED
