"""Tags, classes, segments and campaigns through GraphQL over HTTP: who may do what, payload errors, reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.auth import Role
from core.clock import now
from core.db import transaction
from schema.relay import encode_global_id
from tests.factories import make_customer
from tests.tag_factories import DAY, events

DEFINE = """mutation($i: DefineTagInput!) { defineTag(input: $i) { tag { id key kind rule membersCount }
  errors { field code } } }"""
ADD = """mutation($i: CustomerTagInput!) { addCustomerTag(input: $i) { changed errors { field code } } }"""
TAGGING = """query($c: ID!) { customerTagging(customerId: $c) { tags { tag { key } since } classes { scheme classKey }
  history { totalCount edges { node { gained cause reasonCode } } } } }"""
SEGMENT = """mutation($i: DefineSegmentInput!) { defineSegment(input: $i) { segment { id key size } errors { field code } } }"""
READ_SEGMENT = """query($id: ID!, $c: ID!) { segment(id: $id) { size isMember(customerId: $c)
  members(first: 1) { totalCount edges { node { customerId } } pageInfo { hasNextPage } } } }"""
EXPORT = """query($id: ID!) { segment(id: $id) { exportCsv } }"""
CLASSES = """mutation($i: SetClassSchemeInput!) { setClassScheme(input: $i) { scheme { key classes { classKey } }
  errors { field code } } }"""
CAMPAIGN = """mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id key offers { code discountRate }
  metrics { audience reach conversions premium finished } } errors { field code } } }"""


def test_tags_segments_classes_and_a_campaign_over_graphql(gql: Any, session_factory: Any) -> None:
    at = now()
    with transaction(session_factory) as s:
        a, b = make_customer(s, city="杭州"), make_customer(s, city="上海")
        events(s, a.id, "quote.viewed", at - DAY, at - 2 * DAY, productCode="MED-1")
        events(s, b.id, "quote.viewed", at - DAY, productCode="MED-1")
    manager, agent, analyst = gql(Role.MANAGER), gql(Role.AGENT), gql(Role.ANALYST)
    bad = manager(DEFINE, {"i": {"key": "loop", "kind": "RULE", "rule": {"op": "tag", "tag": "loop"}}})["defineTag"]
    assert bad == {"tag": None, "errors": [{"field": "rule", "code": "SELF_REFERENCE"}]}
    bad = manager(DEFINE, {"i": {"key": "x1", "kind": "RULE", "rule": {"op": "did", "event": "nope", "atLeast": 1,
                                                                        "withinDays": 0}}})["defineTag"]
    assert {(e["field"], e["code"]) for e in bad["errors"]} == {("rule.event", "UNKNOWN_EVENT"),
                                                                ("rule.withinDays", "BAD_WINDOW")}
    browser = manager(DEFINE, {"i": {"key": "browser", "kind": "RULE", "rule": {
        "op": "did", "event": "quote.viewed", "atLeast": 2, "withinDays": 30}}})["defineTag"]
    assert browser["errors"] == [] and browser["tag"]["membersCount"] == 1
    vip = manager(DEFINE, {"i": {"key": "vip", "kind": "MANUAL"}})["defineTag"]["tag"]
    cust_b = encode_global_id("Customer", b.id)
    added = agent(ADD, {"i": {"tagId": vip["id"], "customerId": cust_b, "reasonCode": "BIG_CLIENT"}})
    assert added["addCustomerTag"] == {"changed": True, "errors": []}
    refused = agent(ADD, {"i": {"tagId": browser["tag"]["id"], "customerId": cust_b, "reasonCode": "X_Y"}})
    assert refused["addCustomerTag"]["errors"] == [{"field": "tagId", "code": "NOT_MANUAL"}]
    scheme = manager(CLASSES, {"i": {"key": "value_tier", "classes": [
        {"classKey": "gold", "when": {"op": "tag", "tag": "vip"}},
        {"classKey": "silver", "when": {"op": "tag", "tag": "browser"}}]}})["setClassScheme"]
    assert scheme["errors"] == [] and [c["classKey"] for c in scheme["scheme"]["classes"]] == ["gold", "silver"]
    seen = analyst(TAGGING, {"c": cust_b})["customerTagging"]
    assert [t["tag"]["key"] for t in seen["tags"]] == ["vip"]
    assert seen["classes"] == [{"scheme": "value_tier", "classKey": "gold"}]
    assert seen["history"]["edges"][0]["node"] == {"gained": True, "cause": "MANUAL", "reasonCode": "BIG_CLIENT"}
    seg = manager(SEGMENT, {"i": {"key": "targets", "expression": {"op": "any", "of": [
        {"op": "tag", "tag": "browser"}, {"op": "tag", "tag": "vip"}]}}})["defineSegment"]
    assert seg["errors"] == [] and seg["segment"]["size"] == 2
    read = analyst(READ_SEGMENT, {"id": seg["segment"]["id"], "c": cust_b})["segment"]
    assert read["isMember"] and read["members"]["totalCount"] == 2 and read["members"]["pageInfo"]["hasNextPage"]
    csv = analyst(EXPORT, {"id": seg["segment"]["id"]})["segment"]["exportCsv"]
    assert csv.splitlines() == ["customerId", encode_global_id("Customer", a.id), cust_b]
    forbidden = agent.post(EXPORT, {"id": seg["segment"]["id"]})  # agents read segments, exports are analysts'
    assert forbidden.status_code == 400 and forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    customer = gql(Role.CUSTOMER, customer_id=b.id).post(TAGGING, {"c": cust_b})
    assert customer.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    today = at.date()
    campaign = manager(CAMPAIGN, {"i": {"key": "new-year", "name": "New Year opening", "segmentId": seg["segment"]["id"],
                                        "startsOn": (today - dt.timedelta(days=3)).isoformat(),
                                        "endsOn": today.isoformat(),
                                        "offers": [{"code": "NY-5OFF", "discountRate": "0.05"}]}})["createCampaign"]
    assert campaign["errors"] == []
    assert campaign["campaign"]["offers"] == [{"code": "NY-5OFF", "discountRate": "0.0500"}]
    assert campaign["campaign"]["metrics"] == {"audience": 2, "reach": 2, "conversions": 0, "premium": "0.00",
                                               "finished": False}
    node = analyst("""query($id: ID!) { node(id: $id) { ... on Campaign { key } } }""",
                   {"id": campaign["campaign"]["id"]})
    assert node["node"] == {"key": "new-year"}
