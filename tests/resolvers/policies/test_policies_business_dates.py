"""Policy dates are Beijing dates: a policy's start, its cooling-off and its expiry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.auth import Role
from core.clock import moved_clock
from core.db import transaction
from opsure.worker import run_jobs_once
from resolvers.policies.models import Policy, PolicyStatus
from schema.relay import encode_global_id
from tests.factories import make_customer, make_policy, make_product

QUOTE = """mutation($input: RequestQuoteInput!) { requestQuote(input: $input) { quote { id } errors { code } } }"""
ANSWERS = [{"question": q, "answer": False, "diagnoses": []}
           for q in ("cancer", "chronic", "hospitalized_2y", "pending_investigation", "smoker")]
ISSUE = """mutation($q: ID!) { issuePolicy(quoteId: $q) {
  policy { id periodStart periodEnd version } errors { code } } }"""
CANCEL = """mutation($input: PolicyChangeInput!) {
  cancelPolicyInCoolingOff(input: $input) { policy { status } errors { code message } } }"""


def _at(day: int, hour: int, month: int = 6) -> dt.datetime:
    """A Beijing wall-clock time in 2026 as an aware instant (UTC+8, no daylight saving)."""
    return dt.datetime(2026, month, day, hour, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _issue(gql: Any, session_factory: Any, *, quoted_at: dt.datetime, start: dt.date, issued_at: dt.datetime) -> dict[str, Any]:
    with transaction(session_factory) as s:
        customer, product = make_customer(s), make_product(s)
    me = gql(Role.CUSTOMER, customer_id=customer.id)
    with moved_clock(quoted_at):
        quote = me(QUOTE, {"input": {"customerId": encode_global_id("Customer", customer.id),
                                     "productId": encode_global_id("Product", product.id),
                                     "startDate": start.isoformat(), "answers": ANSWERS}})["requestQuote"]
    assert quote["errors"] == [], quote
    with moved_clock(issued_at):
        issued = me(ISSUE, {"q": quote["quote"]["id"]})["issuePolicy"]
    assert issued["errors"] == [], issued
    return {"me": me, **issued["policy"]}


def test_a_policy_issued_at_one_in_the_morning_starts_on_that_beijing_day(gql: Any, session_factory: Any) -> None:
    # quoted on 30 May for cover from 30 May, issued at 01:00 on 1 June in Beijing (31 May in UTC):
    # cover, and so the waiting period, start on 1 June, not a day earlier
    policy = _issue(gql, session_factory, quoted_at=_at(30, 10, 5), start=dt.date(2026, 5, 30), issued_at=_at(1, 1))
    assert (policy["periodStart"], policy["periodEnd"]) == ("2026-06-01", "2027-05-31")


def test_cooling_off_ends_on_the_beijing_date(gql: Any, session_factory: Any) -> None:
    # issued 04:00 on 1 June in Beijing (20:00 on 31 May in UTC); 15 days' cooling-off: last day 16 June
    early = dict(quoted_at=_at(1, 3), start=dt.date(2026, 6, 1), issued_at=_at(1, 4))
    last_day, too_late = _issue(gql, session_factory, **early), _issue(gql, session_factory, **early)
    with moved_clock(_at(16, 23)):
        ok = last_day["me"](CANCEL, {"input": {"policyId": last_day["id"]}})["cancelPolicyInCoolingOff"]
    with moved_clock(_at(17, 0) + dt.timedelta(minutes=30)):
        late = too_late["me"](CANCEL, {"input": {"policyId": too_late["id"]}})["cancelPolicyInCoolingOff"]
    assert ok["errors"] == [] and ok["policy"]["status"] == "CANCELLED"
    assert [e["code"] for e in late["errors"]] == ["COOLING_OFF_OVER"] and "2026-06-16" in late["errors"][0]["message"]


def test_the_worker_expires_policies_on_the_beijing_date(runtime: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        pid = make_policy(s, today=dt.date(2025, 6, 1)).id  # covers up to 31 May 2026
    with moved_clock(_at(31, 23, 5)):
        assert run_jobs_once(runtime)["policies_expired"] == 0
    with moved_clock(_at(1, 1)):  # 17:00 on 31 May in UTC
        assert run_jobs_once(runtime)["policies_expired"] == 1
    with session_factory() as s:
        assert s.get(Policy, pid).status is PolicyStatus.EXPIRED
