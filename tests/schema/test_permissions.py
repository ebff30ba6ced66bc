"""Declared permissions: every field says who may use it; scoping and masking through HTTP."""

from __future__ import annotations

import datetime as dt

from graphql import GraphQLObjectType

from core.auth import Role
from core.settings import Settings
from schema import build_schema
from schema.permissions import declared_roles
from schema.relay import encode_global_id
from tests.factories import make_customer, make_policy

TODAY = dt.date(2026, 6, 1)
POLICY_Q = "query($id: ID!) { policy(id: $id) { number customer { name idNumber phone } } }"


def test_every_field_of_every_object_type_declares_its_roles() -> None:
    gql_schema = build_schema(Settings())._schema
    undeclared = [
        f"{t.name}.{name}"
        for t in gql_schema.type_map.values()
        if isinstance(t, GraphQLObjectType) and not t.name.startswith("__")
        for name in t.fields
        if declared_roles(t, name) is None
    ]
    assert undeclared == []


def _two_customers_with_policies(session_factory):  # type: ignore[no-untyped-def]
    with session_factory() as s:
        mine = make_policy(s, today=TODAY, customer=make_customer(s, name="张三"))
        theirs = make_policy(s, today=TODAY, customer=make_customer(s, name="李四"))
        s.commit()
        return mine, theirs


def test_customer_cannot_read_another_customers_policy(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = _two_customers_with_policies(session_factory)
    me = gql(Role.CUSTOMER, customer_id=mine.customer_id)
    own = me(POLICY_Q, {"id": encode_global_id("Policy", mine.id)})["policy"]
    assert own["number"] == mine.number and own["customer"]["name"] == "张三"
    assert me(POLICY_Q, {"id": encode_global_id("Policy", theirs.id)})["policy"] is None
    listed = me("{ policies { totalCount edges { node { number } } } }")["policies"]
    assert listed["totalCount"] == 1 and [e["node"]["number"] for e in listed["edges"]] == [mine.number]
    node = me("query($id: ID!) { node(id: $id) { id } }", {"id": encode_global_id("Policy", theirs.id)})
    assert node["node"] is None
    other_customer = me(
        "query($id: ID!) { customer(id: $id) { name } }",
        {"id": encode_global_id("Customer", theirs.customer_id)},
    )
    assert other_customer["customer"] is None


def test_personal_fields_are_masked_for_analysts(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    mine, _ = _two_customers_with_policies(session_factory)
    seen = gql(Role.ANALYST)(POLICY_Q, {"id": encode_global_id("Policy", mine.id)})["policy"]["customer"]
    assert seen["name"] == "张*" and "*" in seen["idNumber"] and "****" in seen["phone"]
    full = gql(Role.ADJUSTER)(POLICY_Q, {"id": encode_global_id("Policy", mine.id)})["policy"]["customer"]
    assert "*" not in full["idNumber"]


def test_unauthenticated_and_forbidden_get_errors_not_data(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    _two_customers_with_policies(session_factory)
    anon = gql().post("{ policies { edges { node { number } } } }")
    assert anon.status_code == 401 and "data" not in anon.json()
    assert anon.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    partner = gql(Role.PARTNER, partner_id=1).post("{ policies { edges { node { number } } } }")
    body = partner.json()
    assert partner.status_code == 400 and "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    audit = gql(Role.CUSTOMER, customer_id=1).post("{ auditEntries { edges { node { seq } } } }")
    assert audit.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_products_are_public(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_product

    with session_factory() as s:
        make_product(s, code="PUBLIC-1")
        s.commit()
    data = gql()("{ products { totalCount edges { node { code coverageItems { code } "
                 "premiumBands { minAge annualPremium } } } } }")
    assert [e["node"]["code"] for e in data["products"]["edges"]] == ["PUBLIC-1"]
    assert data["products"]["totalCount"] == 1
