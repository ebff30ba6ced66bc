"""Query limits (depth, tokens, aliases, cost), introspection and GraphiQL switches."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from core.auth import Role, issue_token
from opsure.graphql_http import GRAPHQL_RESPONSE, JSON
from opsure.runtime import Runtime
from tests.factories import make_customer, make_policy, make_product

TODAY = dt.date(2026, 6, 1)


def _client(runtime: Runtime, **changes: Any) -> TestClient:
    from opsure.app import create_app

    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(**changes))
    return TestClient(create_app(rt.settings, rt))


@pytest.fixture
def admin_headers(runtime: Runtime) -> dict[str, str]:
    token = issue_token(runtime.token_keys, runtime.settings, subject="admin-limits", role=Role.ADMIN)
    return {"accept": GRAPHQL_RESPONSE, "authorization": f"Bearer {token}"}


@pytest.fixture
def sql_count(engine: Engine) -> Iterator[list[str]]:
    """Statements the database ran during the test."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def policies(session_factory: Any) -> None:
    """Three issued policies of one customer."""
    with session_factory() as s:
        customer, product = make_customer(s), make_product(s)
        for _ in range(3):
            make_policy(s, today=TODAY, customer=customer, product=product)
        s.commit()


def _refused(resp: httpx.Response, fragment: str, sql: list[str]) -> None:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert "data" not in body
    assert any(fragment in e["message"] for e in body["errors"]), body
    assert sql == [], "a refused document must not reach the database"


def _nest(depth: int) -> str:
    inner = "id"
    for _ in range(depth):
        inner = f"customer {{ policies {{ edges {{ node {{ {inner} }} }} }} }}"
    return f"{{ policies(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"


def test_depth_limit(http: httpx.Client, admin_headers: dict[str, str], policies: None,
                     sql_count: list[str]) -> None:
    ok = http.post("/graphql", json={"query": _nest(2)}, headers=admin_headers)  # depth 12: the limit
    assert ok.status_code == 200 and "errors" not in ok.json(), ok.text
    sql_count.clear()
    resp = http.post("/graphql", json={"query": _nest(3)}, headers=admin_headers)
    _refused(resp, "exceeds maximum operation depth of 12", sql_count)


def test_depth_limit_sees_through_fragments(http: httpx.Client, admin_headers: dict[str, str],
                                            sql_count: list[str]) -> None:
    query = ("query Deep { policies(first: 1) { edges { node { ...P } } } } "
             "fragment P on Policy { customer { policies { customer { policies { customer { policies {"
             " customer { policies { customer { policies { id } } } } } } } } } } }")
    _refused(http.post("/graphql", json={"query": query}, headers=admin_headers),
             "'Deep' exceeds maximum operation depth", sql_count)


def test_token_limit(http: httpx.Client, admin_headers: dict[str, str], sql_count: list[str]) -> None:
    fields = " ".join(f"a{i}: __typename" for i in range(30))
    small = "{ " + fields + " }"
    assert http.post("/graphql", json={"query": small}, headers=admin_headers).status_code == 200
    huge = "{ policies(first: 1) { totalCount " + " ".join(["totalCount"] * 4100) + " } }"
    _refused(http.post("/graphql", json={"query": huge}, headers=admin_headers),
             "more than 4000 tokens", sql_count)


def test_token_limit_follows_settings(runtime: Runtime, admin_headers: dict[str, str]) -> None:
    with _client(runtime, max_query_tokens=20) as client:
        query = "{ " + " ".join(["__typename"] * 25) + " }"
        resp = client.post("/graphql", json={"query": query}, headers=admin_headers)
        assert resp.status_code == 400 and "more than 20 tokens" in resp.json()["errors"][0]["message"]


def test_alias_limit(http: httpx.Client, admin_headers: dict[str, str], sql_count: list[str]) -> None:
    ok = "{ " + " ".join(f"p{i}: policies(first: 1) {{ totalCount }}" for i in range(30)) + " }"
    assert http.post("/graphql", json={"query": ok}, headers=admin_headers).status_code == 200
    sql_count.clear()
    too_many = "{ " + " ".join(f"p{i}: policies(first: 1) {{ totalCount }}" for i in range(31)) + " }"
    _refused(http.post("/graphql", json={"query": too_many}, headers=admin_headers),
             "31 aliases found. Allowed: 30", sql_count)


PAGE = ("edges { node { id number status premium customer { id name "
        "policies { edges { node { id number status premium } } } } } }")


def test_normal_page_passes_the_cost_limit(http: httpx.Client, admin_headers: dict[str, str],
                                           policies: None) -> None:
    resp = http.post("/graphql", json={"query": f"{{ policies(first: 20) {{ {PAGE} }} }}"}, headers=admin_headers)
    assert resp.status_code == 200 and "errors" not in resp.json(), resp.text
    assert len(resp.json()["data"]["policies"]["edges"]) == 3
    resp = http.post("/graphql", json={"query": f"{{ policies(first: 100) {{ {PAGE} }} }}"}, headers=admin_headers)
    assert resp.status_code == 200 and "errors" not in resp.json(), resp.text


def test_cost_limit_with_page_size_multipliers(http: httpx.Client, admin_headers: dict[str, str],
                                               policies: None, sql_count: list[str]) -> None:
    # Each full page costs 1 + 100 x (its selection, with 20 x for each nested list of policies).
    pages = " ".join(f"p{i}: policies(first: 100) {{ {PAGE} }}" for i in range(8))
    resp = http.post("/graphql", json={"query": f"{{ {pages} }}"}, headers=admin_headers)
    _refused(resp, "exceeds the limit of 50000", sql_count)
    error = resp.json()["errors"][0]
    assert error["extensions"]["code"] == "COST_LIMIT"
    assert error["extensions"]["cost"] > error["extensions"]["limit"] == 50000

    nested = ("{ customers(first: 100) { edges { node { policies { edges { node { id number customer { "
              "policies { edges { node { id number status } } } } } } } } } } }")
    _refused(http.post("/graphql", json={"query": nested}, headers=admin_headers), "Query cost", sql_count)


def test_cost_counts_a_variable_page_size_as_the_maximum(http: httpx.Client, admin_headers: dict[str, str],
                                                         sql_count: list[str]) -> None:
    pages = " ".join(f"p{i}: policies(first: $n) {{ {PAGE} }}" for i in range(8))
    query = f"query Q($n: Int) {{ {pages} }}"
    _refused(http.post("/graphql", json={"query": query, "variables": {"n": 1}}, headers=admin_headers),
             "Query cost", sql_count)


def test_cost_limit_follows_settings(runtime: Runtime, admin_headers: dict[str, str]) -> None:
    with _client(runtime, max_query_cost=100) as client:
        resp = client.post("/graphql", json={"query": "{ policies(first: 50) { edges { node { id number } } } }"},
                           headers=admin_headers)
        assert resp.status_code == 400 and resp.json()["errors"][0]["extensions"]["code"] == "COST_LIMIT"
        resp = client.post("/graphql", json={"query": "{ policies(first: 5) { edges { node { id number } } } }"},
                           headers=admin_headers)
        assert resp.status_code == 200


def test_page_size_above_maximum_is_a_typed_error(http: httpx.Client, admin_headers: dict[str, str]) -> None:
    resp = http.post("/graphql", json={"query": "{ policies(first: 101) { totalCount } }"}, headers=admin_headers)
    body = resp.json()
    assert body["errors"][0]["extensions"]["code"] == "PAGE_SIZE"


INTROSPECTION = "{ __schema { queryType { name } types { name } } }"


def test_introspection_enabled_by_default(http: httpx.Client, admin_headers: dict[str, str]) -> None:
    for headers in (admin_headers, {"accept": GRAPHQL_RESPONSE}):
        resp = http.post("/graphql", json={"query": INTROSPECTION}, headers=headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_introspection_can_be_disabled(runtime: Runtime, admin_headers: dict[str, str]) -> None:
    with _client(runtime, introspection=False) as client:
        resp = client.post("/graphql", json={"query": INTROSPECTION}, headers=admin_headers)
        assert resp.status_code == 400 and "data" not in resp.json()
        assert "introspection has been disabled" in resp.json()["errors"][0]["message"]
        resp = client.post("/graphql", json={"query": '{ __type(name: "Query") { name } }'}, headers=admin_headers)
        assert resp.status_code == 400
        # __typename is not introspection: clients (and the graphql-http audit) rely on it.
        assert client.post("/graphql", json={"query": "{ __typename }"}, headers=admin_headers).status_code == 200


def test_graphiql_served_when_enabled(http: httpx.Client) -> None:
    resp = http.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert "graphiql" in resp.text.lower()
    # A GET with a query is a GraphQL request even from a browser.
    resp = http.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": "text/html,*/*;q=0.8"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith(JSON)


def test_graphiql_not_served_when_disabled(runtime: Runtime) -> None:
    with _client(runtime, graphiql=False) as client:
        resp = client.get("/graphql", headers={"accept": "text/html"})
        assert resp.status_code == 406
        assert not resp.headers["content-type"].startswith("text/html")
        resp = client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert resp.status_code == 400 and resp.headers["content-type"].startswith(JSON)
