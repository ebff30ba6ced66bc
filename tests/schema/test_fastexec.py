"""Compiled plans (schema.fastexec) answer byte for byte what normal execution answers.

The first request of a (document, operation, role) runs normally and compiles a plan; the
next ones run the plan. Every case sends the same request twice and compares the raw HTTP
bodies, then checks which path answered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.auth import Role
from resolvers.policies import service
from schema import fastexec
from schema.relay import encode_global_id
from tests.factories import ADMIN, make_customer, make_policy, make_product

TODAY = dt.date(2026, 6, 1)

PAGE = """
query Page($first: Int!, $after: String) {
  policies(first: $first, after: $after) {
    totalCount
    edges {
      cursor
      node {
        __typename id number status periodStart periodEnd issuedAt premium insuredAge exclusions
        endedOn endReason refund beneficiaryRelationship version inForce
        contactPhone contactEmail beneficiaryName
        customer { id name idNumber phone email city birthYear gender version }
        product { code name annualLimit coverageItems { code name category sublimit } }
        endorsements { edges { node { kind effectiveOn changedFields } } }
      }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

FRAGMENTS = """
query Nested($first: Int, $day: Date) {
  first: customers(first: $first) {
    edges { node { ...Person policies { edges { node { ...PolicyBits onDay: inForce(on: $day) } } } } }
  }
  products { edges { node { ... on Product { code premiumBands { minAge maxAge annualPremium } } deductible } } }
  healthQuestions { code text asksForDiagnoses }
}
fragment Person on Customer { __typename name phone idNumber email }
fragment PolicyBits on Policy {
  number status inForce(on: "2025-01-01")
  product { code copayRate coverageItems { code } }
  customer { name }
}
"""

CUSTOMER_PAGE = """
query Mine($first: Int!) {
  policies(first: $first) { edges { node { number contactPhone customer { name idNumber } } } }
  me { name policies { edges { node { number beneficiaryName } } } }
}
"""


@pytest.fixture
def book(session_factory: Any) -> dict[str, Any]:
    with session_factory() as s:
        products = [make_product(s), make_product(s)]
        customers = [make_customer(s, email=None if i % 3 == 0 else "li.wei@example.cn") for i in range(8)]
        policies = [make_policy(s, today=TODAY, customer=c, product=products[i % 2])
                    for i, c in enumerate(customers)]
        policies.append(make_policy(s, today=TODAY, customer=customers[1], product=products[0]))
        for p in policies[::3]:
            service.endorse_contact(s, principal=ADMIN, policy_id=p.id, expected_version=None,
                                    phone="13912345678", email="a.b@example.cn", today=TODAY)
        service.endorse_beneficiary(s, principal=ADMIN, policy_id=policies[1].id, expected_version=None,
                                    name="王芳", relationship="spouse", today=TODAY)
        service.surrender_policy(s, principal=ADMIN, policy_id=policies[2].id, expected_version=None,
                                 today=TODAY + dt.timedelta(days=40), reason="moving abroad")
        s.commit()
        return {"customer_id": customers[1].id, "policy_id": policies[1].id}


def _stats(http: Any) -> dict[str, int]:
    return fastexec.plan_stats(http.app.state.schema)


def _twice(gql: Any, http: Any, query: str, variables: dict[str, Any] | None, role: Role | None,
           **claims: Any) -> tuple[Any, Any]:
    client = gql(role, **claims)
    first = client.post(query, variables)
    second = client.post(query, variables)
    return first, second


CASES = [
    (PAGE, {"first": 5}, Role.ADMIN),
    (PAGE, {"first": 20}, Role.ANALYST),  # staff that sees personal fields masked
    (PAGE, {"first": 3}, Role.AGENT),
    (FRAGMENTS, {"first": 10, "day": "2026-06-02"}, Role.ADMIN),
    (FRAGMENTS, {"first": 4}, Role.QA),
]


@pytest.mark.parametrize(("query", "variables", "role"), CASES)
def test_plan_answers_exactly_like_normal_execution(gql: Any, http: Any, book: dict[str, Any], query: str,
                                                    variables: dict[str, Any], role: Role) -> None:
    normal, fast = _twice(gql, http, query, variables, role)
    assert normal.status_code == fast.status_code == 200
    assert "errors" not in normal.json()
    assert fast.content == normal.content
    assert _stats(http)["fast"] == 1 and _stats(http)["compiled"] == 1


def test_customer_sees_own_rows_in_full_through_the_plan(gql: Any, http: Any, book: dict[str, Any]) -> None:
    normal, fast = _twice(gql, http, CUSTOMER_PAGE, {"first": 10}, Role.CUSTOMER,
                          customer_id=book["customer_id"])
    assert fast.content == normal.content and _stats(http)["fast"] == 1
    data = fast.json()["data"]
    assert len(data["policies"]["edges"]) == 2
    assert data["me"]["name"] == "李伟" and "*" not in data["policies"]["edges"][0]["node"]["customer"]["idNumber"]


def test_masking_differs_by_role_with_one_document(gql: Any, http: Any, book: dict[str, Any]) -> None:
    for role in (Role.ADMIN, Role.ANALYST, Role.ADMIN, Role.ANALYST):
        gql(role).post(PAGE, {"first": 2})
    admin = gql(Role.ADMIN)(PAGE, {"first": 2})
    analyst = gql(Role.ANALYST)(PAGE, {"first": 2})
    a = admin["policies"]["edges"][0]["node"]["customer"]
    b = analyst["policies"]["edges"][0]["node"]["customer"]
    assert "*" not in a["idNumber"] and "*" in b["idNumber"] and a["name"] != b["name"]
    assert _stats(http)["compiled"] == 2 and _stats(http)["fast"] == 4


def test_plan_of_one_role_never_skips_validation_for_another(gql: Any, http: Any, book: dict[str, Any]) -> None:
    query = "query { products { edges { node { code version } } } }"  # Product.version is for staff only
    normal, fast = _twice(gql, http, query, None, Role.ADMIN)
    assert fast.content == normal.content and _stats(http)["fast"] == 1
    refused = gql(Role.CUSTOMER, customer_id=book["customer_id"]).post(query)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = gql(None).post(query)
    assert anonymous.status_code in (400, 401) and "data" not in anonymous.json()
    assert _stats(http)["fast"] == 1


def test_errors_fall_back_to_normal_execution(gql: Any, http: Any, book: dict[str, Any]) -> None:
    client = gql(Role.ADMIN)
    ok = client.post(PAGE, {"first": 5})
    assert ok.status_code == 200 and "errors" not in ok.json()
    refused = client.post(PAGE, {"first": 500})  # page too large: an error raised by the resolver
    again = client.post(PAGE, {"first": 500})
    assert refused.content == again.content
    body = refused.json()
    assert body["errors"][0]["extensions"]["code"] == "PAGE_SIZE" and body["data"] is None
    bad_cursor = client.post(PAGE, {"first": 5, "after": "%%%"})
    assert bad_cursor.json()["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
    wrong_type = client.post(PAGE, {"first": "five"})  # variable coercion fails before execution
    assert wrong_type.status_code == 400 and "data" not in wrong_type.json()
    stats = _stats(http)
    assert stats["bail"] == 4 and stats["fast"] == 0


def test_documents_a_plan_does_not_handle_run_normally(gql: Any, http: Any, book: dict[str, Any]) -> None:
    client = gql(Role.ADMIN)
    node = "query($id: ID!) { node(id: $id) { id ... on Policy { number } } }"  # abstract type
    include = "query($x: Boolean!) { products { edges { node { code name @include(if: $x) } } } }"  # directives
    typename = "{ __typename products { __typename edges { node { __typename code } } } }"
    pid = encode_global_id("Policy", book["policy_id"])
    for query, variables in ((node, {"id": pid}), (include, {"x": False}), (include, {"x": True})):
        a, b = client.post(query, variables), client.post(query, variables)
        assert a.status_code == 200 and a.content == b.content and "errors" not in a.json()
    assert _stats(http)["fast"] == 0 and _stats(http)["not_compilable"] == 2
    a, b = client.post(typename), client.post(typename)
    assert a.content == b.content and _stats(http)["fast"] == 1


def test_mutations_are_never_compiled(gql: Any, http: Any, book: dict[str, Any]) -> None:
    mutation = """mutation($input: ContactEndorsementInput!) {
      endorseContact(input: $input) { endorsement { kind changedFields } errors { code } } }"""
    pid = encode_global_id("Policy", book["policy_id"])
    client = gql(Role.ADMIN)
    for phone in ("13900000001", "13900000002"):
        body = client(mutation, {"input": {"policyId": pid, "phone": phone}})
        assert body["endorseContact"]["errors"] == []
    stats = _stats(http)
    assert stats["fast"] == 0 and stats["compiled"] == 0
