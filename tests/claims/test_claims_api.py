"""The claims API's conventions: global ids through node(id:), paged relations, every refusal at once.

- ``Claim``, ``ClaimDocument``, ``DocumentRequest`` and ``ClaimPayment`` resolve through
  ``node(id:)`` exactly as visible through ``claim(id:)`` (null for another customer's).
- A claim's documents, timeline, payments and document requests are connections: one
  query per relation for a whole page of claims, pages equal to slicing the whole list
  (property test), forward and backward, with exact page flags and totals.
- reportClaim and setClaimLineItems report every refusal of their input at once.
- The queue refuses risk-based filters and orders to callers who may not read risk fields.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from core.errors import DomainError
from core.pagination import PageRequest, encode_cursor
from partners.models import PartnerKind
from resolvers.claims import documents, payments, service
from resolvers.claims.loaders import pages_by_claim
from resolvers.claims.models import Claim, ClaimDocument, ClaimEvent, ClaimEventKind, DocumentKind
from resolvers.claims.reasons import Reason, ReasonCode
from resolvers.claims.states import record_event
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, add_invoice, make_approved_claim, make_claim_policy, nodes, report
from tests.partner_factories import make_partner
from tests.payment_factories import bank_round

NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Claim { number } ... on ClaimDocument { sha256 } ... on DocumentRequest { kind }
  ... on ClaimPayment { amount status } } }"""


@pytest.fixture
def paid(session_factory: Any) -> dict[str, Any]:
    """An approved, paid claim with a document and a document request; another customer."""
    today = business_today()
    with transaction(session_factory) as s:
        claim = make_approved_claim(s)
        payment = payments.pay_claim(s, principal=ADJUSTER, claim_id=claim.id, idempotency_key="api-test-0001",
                                     now=dt.datetime.now(dt.UTC))
        bank_round(s, at=dt.datetime.now(dt.UTC))  # the bank settles it: the claim is PAID
        other = make_claim_policy(s, code="API-OTHER")
        draft = report(s, other)
        request = documents.request_document(s, principal=ADJUSTER, claim_id=draft.id, kind=DocumentKind.ID_CARD,
                                             due_on=today + dt.timedelta(days=7), note="", today=today)
        doc = s.query(ClaimDocument).filter_by(claim_id=claim.id).one()
        hospital = make_partner(s, kind=PartnerKind.HOSPITAL)
        return {"customer": claim.customer_id, "other": other.customer_id, "hospital": hospital.id,
                "ids": {"Claim": encode_global_id("Claim", claim.id),
                        "ClaimDocument": encode_global_id("ClaimDocument", doc.id),
                        "ClaimPayment": encode_global_id("ClaimPayment", payment.id)},
                "request": encode_global_id("DocumentRequest", request.id)}


def test_node_resolves_every_claims_entity_as_its_claim_is_visible(gql: Any, paid: dict[str, Any]) -> None:
    mine, staff = gql(Role.CUSTOMER, customer_id=paid["customer"]), gql(Role.ADJUSTER)
    other = gql(Role.CUSTOMER, customer_id=paid["other"])
    hospital = gql(Role.PARTNER, partner_id=paid["hospital"])
    for type_name, gid in paid["ids"].items():
        for reader in (mine, staff):
            found = reader(NODE, {"id": gid})["node"]
            assert found["__typename"] == type_name and found["id"] == gid
        assert other(NODE, {"id": gid})["node"] is None  # another customer's: as absent
        assert hospital(NODE, {"id": gid})["node"] is None  # not billed by this hospital
    assert staff(NODE, {"id": paid["ids"]["ClaimPayment"]})["node"]["status"] == "SETTLED"
    assert other(NODE, {"id": paid["request"]})["node"] == {"__typename": "DocumentRequest", "id": paid["request"],
                                                            "kind": "ID_CARD"}
    assert mine(NODE, {"id": paid["request"]})["node"] is None
    assert staff(NODE, {"id": encode_global_id("ClaimPayment", 10**9)})["node"] is None


# --- a claim's relations, page by page ---------------------------------------------------------------


@pytest.fixture
def timelines(session_factory: Any) -> Any:
    """Claims with 0, 1, 2, 5 and 13 timeline events."""
    sizes = [0, 1, 2, 5, 13]
    with transaction(session_factory) as s:
        ids = []
        for i, size in enumerate(sizes):
            claim = report(s, make_claim_policy(s, code=f"TL{i}"), items=[], hospital=f"Hospital {i}")
            s.query(ClaimEvent).filter_by(claim_id=claim.id).delete()
            for _ in range(size):
                record_event(s, claim, actor=ADJUSTER, kind=ClaimEventKind.DOCUMENT,
                             reason=Reason(ReasonCode.DOCUMENT_UPLOADED, {"kind": "invoice"}))
            ids.append(claim.id)
    return session_factory, ids


def _reference(items: list[int], request: PageRequest) -> tuple[list[int], bool, bool]:
    """The page of sorted ids as slicing the whole list gives it (the Relay rules of core.pagination)."""
    lo = sum(1 for i in items if request.after and i <= _id(request.after))
    hi = sum(1 for i in items if not request.before or i < _id(request.before))
    window = items[lo:hi] if lo < hi else []
    if request.last is not None:
        return window[max(len(window) - request.last, 0):], hi < len(items), len(window) > request.last or lo > 0
    size = request.first if request.first is not None else 20
    return window[:size], len(window) > size or hi < len(items), lo > 0


def _id(cursor: str) -> int:
    import base64
    import json

    return int(json.loads(base64.urlsafe_b64decode(cursor))[0])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(backward=st.booleans(), size=st.integers(0, 15), after=st.none() | st.integers(0, 80),
       before=st.none() | st.integers(0, 80))
def test_a_page_per_claim_equals_slicing_its_whole_list(timelines: Any, backward: bool, size: int,
                                                        after: int | None, before: int | None) -> None:
    factory, ids = timelines
    request = PageRequest(first=None if backward else size, last=size if backward else None,
                          after=None if after is None else encode_cursor(after),
                          before=None if before is None else encode_cursor(before))
    with factory() as s:
        pages = pages_by_claim(s, ClaimEvent, ids, request)
        whole = {i: [e.id for e in s.query(ClaimEvent).filter_by(claim_id=i).order_by(ClaimEvent.id)] for i in ids}
    for claim_id in ids:
        got = pages[claim_id]
        expected, has_next, has_previous = _reference(whole[claim_id], request)
        assert [r.id for r in got.page.items] == expected
        assert got.page.cursors == [encode_cursor(i) for i in expected]
        assert (got.page.has_next, got.page.has_previous, got.total) == (has_next, has_previous,
                                                                         len(whole[claim_id]))


def test_the_newest_events_page_backwards_through_the_api(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        claim = make_approved_claim(s)
        claim_gid = encode_global_id("Claim", claim.id)
    staff = gql(Role.ADJUSTER)
    query = """query($id: ID!, $before: String) { claim(id: $id) { timeline(last: 2, before: $before) {
      totalCount edges { cursor node { kind toState } } pageInfo { hasPreviousPage hasNextPage startCursor } } } }"""
    seen: list[Any] = []
    before = None
    while True:
        page = staff(query, {"id": claim_gid, "before": before})["claim"]["timeline"]
        seen = nodes(page) + seen
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    everything = staff("query($id: ID!) { claim(id: $id) { timeline(first: 100) { edges { node { kind toState } } } } }",
                       {"id": claim_gid})["claim"]["timeline"]
    assert seen == nodes(everything) and len(seen) == page["totalCount"] > 2
    assert seen[-1] == {"kind": "TRANSITION", "toState": "APPROVED"}


def test_page_sizes_beyond_the_cap_are_refused(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        claim_gid = encode_global_id("Claim", make_approved_claim(s).id)
    resp = gql(Role.ADJUSTER).post("query($id: ID!) { claim(id: $id) { documents(first: 101) { totalCount } } }",
                                   {"id": claim_gid})
    assert resp.json()["errors"][0]["extensions"]["code"] == "PAGE_SIZE"


# --- every refusal at once -----------------------------------------------------------------------------

REPORT = """mutation($input: ReportClaimInput!) { reportClaim(input: $input) { claim { id } errors { field code } } }"""
ITEMS = """mutation($input: SetLineItemsInput!) { setClaimLineItems(input: $input) {
  claim { lineItems { itemCode amount } } errors { field code } } }"""


def test_report_claim_answers_every_fault_of_its_input(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
    today = business_today()
    bad = {"policyId": encode_global_id("Policy", policy.id), "eventDate": (today + dt.timedelta(days=2)).isoformat(),
           "admissionDate": today.isoformat(), "dischargeDate": (today - dt.timedelta(days=1)).isoformat(),
           "hospital": "X", "diagnosisCode": "NOPE", "claimedAmount": "800.00",
           "items": [{"itemCode": "bad code!", "category": "inpatient", "amount": "0.00"},
                     {"itemCode": "LAB-07", "category": "outpatient", "amount": "700.00", "quantity": 0}]}
    out = gql(Role.CUSTOMER, customer_id=policy.customer_id)(REPORT, {"input": bad})["reportClaim"]
    assert out["claim"] is None
    assert [(e["field"], e["code"]) for e in out["errors"]] == [
        ("eventDate", "DATE_IN_FUTURE"), ("admissionDate", "INVALID"), ("eventDate", "INVALID"),
        ("hospital", "INVALID"), ("diagnosisCode", "BAD_ICD10"), ("items.0.itemCode", "INVALID"),
        ("items.0.amount", "INVALID"), ("items.1.quantity", "INVALID")]
    # staff never type invoice lines: refused with what else is wrong with them
    by_phone = {**bad, "eventDate": today.isoformat(), "dischargeDate": today.isoformat(), "hospital": "浙江医院",
                "diagnosisCode": "J18.9", "channel": "PHONE",
                "items": [{"itemCode": "BED-01", "category": "inpatient", "amount": "600.00"}]}
    agent = gql(Role.AGENT)(REPORT, {"input": by_phone})["reportClaim"]
    assert [(e["field"], e["code"]) for e in agent["errors"]] == [
        ("items", "AMOUNTS_DO_NOT_ADD_UP"), ("items", "NOT_A_DATA_HOLDER")]


def test_set_line_items_answers_every_fault_of_every_line(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        claim_gid = encode_global_id("Claim", report(s, policy, items=[]).id)
    me = gql(Role.CUSTOMER, customer_id=policy.customer_id)
    lines = [{"itemCode": "BED-01", "category": "in patient", "amount": "600.00"},
             {"itemCode": "", "category": "outpatient", "amount": "100.00", "quantity": 20000}]
    out = me(ITEMS, {"input": {"claimId": claim_gid, "items": lines, "expectedVersion": 7}})["setClaimLineItems"]
    assert [(e["field"], e["code"]) for e in out["errors"]] == [
        ("expectedVersion", "STALE_VERSION"), ("items.0.category", "INVALID"), ("items.1.itemCode", "INVALID"),
        ("items.1.quantity", "INVALID")]
    short = [{"itemCode": "BED-01", "category": "inpatient", "amount": "600.00"}]
    out = me(ITEMS, {"input": {"claimId": claim_gid, "items": short}})["setClaimLineItems"]
    assert out["errors"] == [{"field": "items", "code": "AMOUNTS_DO_NOT_ADD_UP"}]
    whole = [*short, {"itemCode": "LAB-07", "category": "outpatient", "amount": "200.00"}]
    done = me(ITEMS, {"input": {"claimId": claim_gid, "items": whole}})["setClaimLineItems"]
    assert done["errors"] == [] and [i["amount"] for i in done["claim"]["lineItems"]] == ["600.00", "200.00"]


def test_a_refusal_writes_nothing(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
    with session_factory() as s, pytest.raises(DomainError):
        report(s, policy, days_ago=-3, amount=Decimal("1.00"))
    with session_factory() as s:
        assert s.query(Claim).count() == 0


# --- the queue -----------------------------------------------------------------------------------------

QUEUE = """query($filter: ClaimQueueFilter, $sort: ClaimQueueSort!) { claims(first: 10, filter: $filter, sort: $sort) {
  totalCount } }"""


@pytest.mark.parametrize(("variables", "field"), [
    ({"filter": {"riskLevels": ["HIGH"]}, "sort": "OLDEST"}, "filter.riskLevels"),
    ({"filter": {"slaBreached": True}, "sort": "OLDEST"}, "filter.slaBreached"),
    ({"filter": None, "sort": "RISK_DESC"}, "sort"),
    ({"filter": None, "sort": "SLA_DUE"}, "sort"),
])
def test_the_queue_reveals_no_risk_field_to_customers_through_filters_or_order(
        gql: Any, session_factory: Any, variables: dict[str, Any], field: str) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        claim = report(s, policy)
        add_invoice(s, claim)
        service.submit_claim(s, principal=ADJUSTER, claim_id=claim.id, expected_version=None, today=business_today(),
                             now=dt.datetime.now(dt.UTC))
    refused = gql(Role.CUSTOMER, customer_id=policy.customer_id).post(QUEUE, variables).json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert field in refused["errors"][0]["message"] or refused["errors"][0]["extensions"].get("field") == field
    assert gql(Role.ADJUSTER)(QUEUE, variables)["claims"]["totalCount"] in (0, 1)


def test_the_queue_pages_forward_then_backward_in_every_sort(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        for i in range(7):
            report(s, make_claim_policy(s, code=f"QB{i}"), amount=Decimal(800 + 100 * (i % 3)),
                   items=[], hospital=f"Hospital {i}")
    staff = gql(Role.ADJUSTER)
    page = """query($sort: ClaimQueueSort!, $after: String, $before: String, $first: Int, $last: Int) {
      claims(sort: $sort, first: $first, after: $after, last: $last, before: $before) {
        edges { node { number } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    for sort in ("OLDEST", "NEWEST", "AMOUNT_DESC", "RISK_DESC", "SLA_DUE"):
        forward: list[str] = []
        after = None
        while True:
            got = staff(page, {"sort": sort, "first": 3, "after": after})["claims"]
            forward += [n["number"] for n in nodes(got)]
            if not got["pageInfo"]["hasNextPage"]:
                break
            after = got["pageInfo"]["endCursor"]
        backward: list[str] = []
        before = None
        while True:
            got = staff(page, {"sort": sort, "last": 2, "before": before})["claims"]
            backward = [n["number"] for n in nodes(got)] + backward
            if not got["pageInfo"]["hasPreviousPage"]:
                break
            before = got["pageInfo"]["startCursor"]
        assert forward == backward and len(set(forward)) == 7, sort
