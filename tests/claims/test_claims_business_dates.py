"""A claim for "today" is judged on the Beijing date: at 01:00 in Beijing it is already that day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.auth import Role
from core.clock import moved_clock
from core.db import transaction
from schema.relay import encode_global_id
from tests.claim_factories import make_claim_policy

REPORT = """
mutation($input: ReportClaimInput!) { reportClaim(input: $input) {
  claim { id state } errors { field code message } } }"""
# 2026-06-01 01:00 in Beijing; the UTC date is still 2026-05-31.
BEIJING_1AM = dt.datetime(2026, 5, 31, 17, 0, tzinfo=dt.UTC)


def _report(policy_id: int, day: dt.date) -> dict[str, Any]:
    return {"policyId": encode_global_id("Policy", policy_id), "eventDate": day.isoformat(),
            "admissionDate": day.isoformat(), "dischargeDate": day.isoformat(),
            "hospital": "浙江大学医学院附属第一医院", "diagnosisCode": "J18.9", "claimedAmount": "800.00"}


def test_a_claim_for_today_at_one_in_the_morning_in_beijing_is_accepted(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s, today=dt.date(2026, 6, 1))
    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    with moved_clock(BEIJING_1AM):
        today = me(REPORT, {"input": _report(policy.id, dt.date(2026, 6, 1))})["reportClaim"]
        tomorrow = me(REPORT, {"input": _report(policy.id, dt.date(2026, 6, 2))})["reportClaim"]
    assert today["errors"] == [] and today["claim"]["state"] == "DRAFT"
    assert [(e["field"], e["code"]) for e in tomorrow["errors"]] == [
        ("eventDate", "DATE_IN_FUTURE"), ("dischargeDate", "DATE_IN_FUTURE")]  # every refusal at once
