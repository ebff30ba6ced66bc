"""GraphQL over HTTP: request validation, status codes, auth refusals; never a 500."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from core.auth import Role, TokenKeys, issue_token
from opsure.graphql_http import GRAPHQL_RESPONSE, JSON, negotiate
from opsure.runtime import Runtime

GR = {"accept": GRAPHQL_RESPONSE}
PROTECTED = "{ policies(first: 1) { totalCount } }"


def _token(runtime: Runtime, role: Role = Role.ADMIN, **claims: Any) -> str:
    return issue_token(runtime.token_keys, runtime.settings, subject=f"{role.value}-http", role=role, **claims)


def _errors(resp: httpx.Response) -> list[dict[str, Any]]:
    body = resp.json()
    assert "errors" in body, body
    return body["errors"]  # type: ignore[no-any-return]


def _code(resp: httpx.Response) -> str | None:
    code: str | None = _errors(resp)[0].get("extensions", {}).get("code")
    return code


@pytest.fixture
def small_http(runtime: Runtime) -> Iterator[TestClient]:
    """A client of an app whose body limit is 2 KB."""
    from opsure.app import create_app

    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(max_body_bytes=2048))
    with TestClient(create_app(rt.settings, rt)) as client:
        yield client


# --- content negotiation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (JSON, JSON),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON};q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"*/*, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};charset=utf-8", GRAPHQL_RESPONSE),
        ("text/html", None),
        (f"text/plain, {JSON};q=0", None),
        ("application/xml;q=abc", None),
    ],
)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_unsupported_accept_is_406(http: httpx.Client) -> None:
    resp = http.post("/graphql", json={"query": "{ __typename }"}, headers={"accept": "text/plain"})
    assert resp.status_code == 406
    assert resp.headers["content-type"].startswith(JSON)
    assert _code(resp) == "NOT_ACCEPTABLE"


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, "*/*"])
def test_typename_is_public(http: httpx.Client, accept: str) -> None:
    resp = http.post("/graphql", json={"query": "{ __typename }"}, headers={"accept": accept})
    assert resp.status_code == 200
    assert resp.json() == {"data": {"__typename": "Query"}}
    assert resp.headers["content-type"].startswith(GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else JSON)


def test_get_query(http: httpx.Client) -> None:
    resp = http.get("/graphql", params={"query": "query Q($x: Boolean!) { __typename @include(if: $x) }",
                                        "variables": '{"x": true}', "operationName": "Q"}, headers=GR)
    assert resp.status_code == 200 and resp.json() == {"data": {"__typename": "Query"}}


# --- malformed requests ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"query": NaN}', "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'["{ __typename }"]', "JSON object"),
        (b'"{ __typename }"', "JSON object"),
        (b"null", "JSON object"),
        (b"{}", "'query'"),
        (b'{"query": ""}', "'query'"),
        (b'{"query": "   "}', "'query'"),
        (b'{"query": null}', "'query'"),
        (b'{"query": 42}', "'query'"),
        (b'{"query": "{ __typename }", "variables": "x"}', "'variables'"),
        (b'{"query": "{ __typename }", "variables": [1]}', "'variables'"),
        (b'{"query": "{ __typename }", "operationName": 1}', "'operationName'"),
        (b'{"query": "{ __typename }", "extensions": 1}', "'extensions'"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
def test_bad_body_is_400(http: httpx.Client, body: bytes, fragment: str, accept: str) -> None:
    resp = http.post("/graphql", content=body, headers={"content-type": JSON, "accept": accept})
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"].startswith(accept)
    assert fragment in _errors(resp)[0]["message"]
    assert "data" not in resp.json()


def test_bad_get_params_are_400(http: httpx.Client) -> None:
    assert http.get("/graphql", headers=GR).status_code == 400
    resp = http.get("/graphql", params={"query": "{ __typename }", "variables": "{oops"}, headers=GR)
    assert resp.status_code == 400 and "'variables'" in _errors(resp)[0]["message"]
    resp = http.get("/graphql", params={"query": "{ __typename }", "variables": "[1]"}, headers=GR)
    assert resp.status_code == 400


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/graphql", "application/x-www-form-urlencoded", "multipart/form-data",
              "", "application/json; charset=latin-1"],
)
def test_wrong_content_type_is_415(http: httpx.Client, ctype: str) -> None:
    resp = http.post("/graphql", content=b'{"query": "{ __typename }"}', headers={"content-type": ctype, **GR})
    assert resp.status_code == 415
    assert _code(resp) == "UNSUPPORTED_MEDIA_TYPE"


def test_json_with_charset_is_accepted(http: httpx.Client) -> None:
    resp = http.post("/graphql", content=b'{"query": "{ __typename }"}',
                     headers={"content-type": "application/json; charset=UTF-8", **GR})
    assert resp.status_code == 200


def test_declared_oversized_body_is_413(small_http: TestClient) -> None:
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 4000}})
    resp = small_http.post("/graphql", content=body, headers={"content-type": JSON, **GR})
    assert resp.status_code == 413
    assert _code(resp) == "PAYLOAD_TOO_LARGE"


def test_streamed_oversized_body_is_413(small_http: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}}'

    # A generator body goes out chunked: no Content-Length to refuse it early.
    resp = small_http.post("/graphql", content=chunks(), headers={"content-type": JSON, **GR})
    assert resp.status_code == 413
    assert _code(resp) == "PAYLOAD_TOO_LARGE"


def test_body_under_limit_passes(small_http: TestClient) -> None:
    resp = small_http.post("/graphql", json={"query": "{ __typename }", "variables": {"pad": "x" * 1000}},
                           headers=GR)
    assert resp.status_code == 200


# --- methods ----------------------------------------------------------------------------------


def test_get_mutation_is_405(http: httpx.Client, runtime: Runtime) -> None:
    resp = http.get("/graphql", params={"query": 'mutation { issuePolicy(quoteId: "eA==") { errors { code } } }'},
                    headers={**GR, "authorization": f"Bearer {_token(runtime)}"})
    assert resp.status_code == 405
    assert resp.headers["allow"] == "POST"
    assert "mutations" in _errors(resp)[0]["message"].lower()


def test_get_mutation_by_operation_name_is_405(http: httpx.Client) -> None:
    doc = "query Q { __typename } mutation M { __typename }"
    assert http.get("/graphql", params={"query": doc, "operationName": "Q"}, headers=GR).status_code == 200
    resp = http.get("/graphql", params={"query": doc, "operationName": "M"}, headers=GR)
    assert resp.status_code == 405 and resp.headers["allow"] == "POST"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(http: httpx.Client, method: str) -> None:
    resp = http.request(method, "/graphql", json={"query": "{ __typename }"}, headers=GR)
    assert resp.status_code == 405
    assert resp.headers["allow"] == "GET, POST"
    assert _code(resp) == "METHOD_NOT_ALLOWED"


def test_subscription_over_http_is_400(http: httpx.Client, runtime: Runtime) -> None:
    resp = http.post("/graphql", json={"query": "subscription { policyEvents { kind } }"},
                     headers={**GR, "authorization": f"Bearer {_token(runtime)}"})
    assert resp.status_code == 400
    assert "websocket" in _errors(resp)[0]["message"]


def test_unknown_operation_name_is_400(http: httpx.Client) -> None:
    resp = http.post("/graphql", json={"query": "query A { __typename }", "operationName": "Nope"}, headers=GR)
    assert resp.status_code == 400 and "data" not in resp.json()


def test_unnamed_choice_runs_the_first_operation_also_for_get(http: httpx.Client) -> None:
    # Without operationName strawberry picks the first operation, for the GET check as for execution.
    assert http.get("/graphql", params={"query": "query A { __typename } mutation B { __typename }"},
                    headers=GR).status_code == 200
    assert http.get("/graphql", params={"query": "mutation B { __typename } query A { __typename }"},
                    headers=GR).status_code == 405


# --- GraphQL errors: 400 with graphql-response+json, 200 with application/json -------------------


@pytest.mark.parametrize("query", ["{ noSuchField }", "{ __typename", "query { products { nope } }",
                                   "{ ...Missing }", "fragment F on Query { __typename }"])
def test_invalid_document(http: httpx.Client, query: str) -> None:
    resp = http.post("/graphql", json={"query": query}, headers=GR)
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in resp.json() and _errors(resp)

    legacy = http.post("/graphql", json={"query": query}, headers={"accept": JSON})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith(JSON)
    assert "data" not in legacy.json() and _errors(legacy)


@pytest.mark.parametrize(
    "variables",
    [{"first": "ten"}, {"first": 1.5}, {"first": 10**20}, {"first": [1]}, {"status": "NOT_A_STATUS"},
     {"status": {"x": 1}}],
)
def test_variables_of_wrong_type_are_400(http: httpx.Client, runtime: Runtime, variables: dict[str, Any]) -> None:
    query = "query Q($first: Int, $status: PolicyStatus) { policies(first: $first, status: $status) { totalCount } }"
    headers = {**GR, "authorization": f"Bearer {_token(runtime)}"}
    resp = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert resp.status_code == 400, resp.text
    assert "data" not in resp.json()


def test_missing_required_variable_is_400(http: httpx.Client) -> None:
    resp = http.post("/graphql", json={"query": "query Q($x: Boolean!) { __typename @include(if: $x) }"},
                     headers=GR)
    assert resp.status_code == 400 and "$x" in _errors(resp)[0]["message"]


@pytest.mark.parametrize(
    "query",
    ["{" * 300 + "}" * 300, "{ a" * 1300 + " }" * 1300, "{ a(b: " + "[" * 1990 + "]" * 1990 + ") }",
     "query($a: " + "[" * 1000 + "Int" + "]" * 1000 + ") { __typename }"],
)
def test_deeply_nested_document_is_400(http: httpx.Client, query: str) -> None:
    resp = http.post("/graphql", json={"query": query}, headers=GR)
    assert resp.status_code == 400 and "data" not in resp.json()


def test_deeply_nested_variables_are_400(http: httpx.Client, runtime: Runtime) -> None:
    value: Any = 1
    for _ in range(400):
        value = [value]
    resp = http.post("/graphql", json={"query": "query Q($v: [[Int]]) { __typename }", "variables": {"v": value}},
                     headers=GR)
    assert resp.status_code == 400


def test_long_fragment_chain_is_not_a_500(http: httpx.Client) -> None:
    n = 500
    frags = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(n))
    query = f"{{ ...F0 }} {frags} fragment F{n} on Query {{ __typename }}"
    resp = http.post("/graphql", json={"query": query}, headers=GR)
    assert resp.status_code < 500, resp.text


# --- authentication and authorization -------------------------------------------------------------


def test_expired_token_is_401(http: httpx.Client, runtime: Runtime) -> None:
    token = issue_token(runtime.token_keys, runtime.settings, subject="old", role=Role.ADMIN, ttl_seconds=-60)
    resp = http.post("/graphql", json={"query": "{ __typename }"},
                     headers={**GR, "authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]
    assert _code(resp) == "TOKEN_EXPIRED" and "expired" in _errors(resp)[0]["message"]


def test_forged_token_is_401(http: httpx.Client, runtime: Runtime) -> None:
    forged = issue_token(TokenKeys.generate(), runtime.settings, subject="mallory", role=Role.ADMIN)
    resp = http.post("/graphql", json={"query": "{ __typename }"},
                     headers={**GR, "authorization": f"Bearer {forged}"})
    assert resp.status_code == 401
    assert "www-authenticate" in resp.headers
    assert _code(resp) == "TOKEN_INVALID" and "signature" in _errors(resp)[0]["message"]


@pytest.mark.parametrize("header", ["Bearer not.a.jwt", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "token",
                                    "Bearer a.b.c.d"])
def test_malformed_authorization_is_401(http: httpx.Client, header: str) -> None:
    resp = http.post("/graphql", json={"query": "{ __typename }"}, headers={**GR, "authorization": header})
    assert resp.status_code == 401
    assert "www-authenticate" in resp.headers
    assert _code(resp) == "TOKEN_INVALID"
    assert _errors(resp)[0]["message"]


def test_bad_token_with_legacy_accept_is_401_json(http: httpx.Client) -> None:
    resp = http.post("/graphql", json={"query": "{ __typename }"},
                     headers={"accept": JSON, "authorization": "Bearer nope"})
    assert resp.status_code == 401 and resp.headers["content-type"].startswith(JSON)


def test_anonymous_protected_field(http: httpx.Client) -> None:
    resp = http.post("/graphql", json={"query": PROTECTED}, headers=GR)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert _code(resp) == "UNAUTHENTICATED" and "data" not in resp.json()

    legacy = http.post("/graphql", json={"query": PROTECTED}, headers={"accept": JSON})
    assert legacy.status_code == 200
    assert _code(legacy) == "UNAUTHENTICATED" and "data" not in legacy.json()


def test_role_selecting_forbidden_field(http: httpx.Client, runtime: Runtime) -> None:
    token = _token(runtime, Role.CUSTOMER, customer_id=1)
    resp = http.post("/graphql", json={"query": "{ products { edges { node { name version } } } }"},
                     headers={**GR, "authorization": f"Bearer {token}"})
    assert resp.status_code == 400
    assert _code(resp) == "FORBIDDEN" and "data" not in resp.json()
    assert "Product.version" in _errors(resp)[0]["message"]

    partner = _token(runtime, Role.PARTNER, partner_id=1)
    resp = http.post("/graphql", json={"query": PROTECTED}, headers={**GR, "authorization": f"Bearer {partner}"})
    assert resp.status_code == 400 and _code(resp) == "FORBIDDEN" and "data" not in resp.json()


def test_allowed_role_executes(http: httpx.Client, runtime: Runtime) -> None:
    resp = http.post("/graphql", json={"query": PROTECTED}, headers={**GR, "authorization": f"Bearer {_token(runtime)}"})
    assert resp.status_code == 200
    assert resp.json() == {"data": {"policies": {"totalCount": 0}}}


# --- no input is a 500 ------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_TOKENS = ["{", "}", "(", ")", "[", "]", "...", ":", "=", "!", "$v", "$first", "@include(if: true)", "@skip",
           "query", "mutation", "subscription", "fragment", "on", "Query", "Policy", "F", "__typename",
           "__schema", "__type", "policies", "products", "edges", "node", "id", "name", "first:", "1", "100",
           "-1", "1.5", '"s"', '"""b"""', "true", "null", "Int", "String", "ACTIVE", "node(id: \"eA==\")",
           "issuePolicy(quoteId: 1)", "me", "customer", "totalCount", "#", "\n", ",", "a:", "\\u0000",
           "{ ...F }", "{ __typename }", "{ policies { totalCount } }", "... on Query { __typename }",
           "fragment F on Query { __typename }", "query Q($v: Int)", "{ products { name } }"]
_queries = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_TOKENS), max_size=60).map(" ".join),
)
_bodies = st.one_of(
    _json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "query": st.one_of(_queries, _json_values),
            "variables": st.one_of(st.dictionaries(st.text(max_size=8), _json_values, max_size=4), _json_values),
            "operationName": st.one_of(st.none(), st.text(max_size=8), _json_values),
            "extensions": st.one_of(st.none(), st.dictionaries(st.text(max_size=8), _json_values, max_size=3),
                                    _json_values),
            "documentId": st.one_of(st.none(), st.text(max_size=80), _json_values),
        },
    ),
)
_ACCEPTS = st.sampled_from([GRAPHQL_RESPONSE, JSON, "*/*", "text/html", "", f"{JSON};q=0"])
# OPSURE_FUZZ_EXAMPLES=5000 for a longer hunt.
_FUZZ = settings(max_examples=int(os.environ.get("OPSURE_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _auth_headers(runtime: Runtime, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    role = Role(who)
    claims = {"customer_id": 1} if role is Role.CUSTOMER else {}
    return {"authorization": f"Bearer {_token(runtime, role, **claims)}"}


@_FUZZ
@given(body=_bodies, accept=_ACCEPTS, who=st.sampled_from(["anonymous", "admin", "customer"]))
def test_random_json_bodies_never_500(http: httpx.Client, runtime: Runtime, body: Any, accept: str,
                                      who: str) -> None:
    resp = http.post("/graphql", content=json.dumps(body), headers={"content-type": JSON, "accept": accept,
                                                                     **_auth_headers(runtime, who)})
    assert resp.status_code < 500, (body, resp.text)
    assert resp.headers["content-type"]


@_FUZZ
@given(raw=st.binary(max_size=300), ctype=st.sampled_from([JSON, "text/plain", "application/json; charset=x"]))
def test_random_bytes_never_500(http: httpx.Client, raw: bytes, ctype: str) -> None:
    resp = http.post("/graphql", content=raw, headers={"content-type": ctype, **GR})
    assert 400 <= resp.status_code < 500, (raw, resp.text)


@_FUZZ
@given(query=_queries, method=st.sampled_from(["GET", "POST"]), who=st.sampled_from(["anonymous", "admin"]))
def test_random_queries_never_500(http: httpx.Client, runtime: Runtime, query: str, method: str, who: str) -> None:
    headers = {**GR, **_auth_headers(runtime, who)}
    if method == "GET":
        resp = http.get("/graphql", params={"query": query}, headers=headers)
    else:
        resp = http.post("/graphql", json={"query": query}, headers=headers)
    assert resp.status_code < 500, (query, resp.text)


_VAR_QUERY = (
    "query Q($first: Int, $after: String, $status: PolicyStatus, $id: ID!, $on: Date) {"
    " policies(first: $first, after: $after, status: $status) { totalCount edges { cursor node { id inForce(on: $on) } } }"
    " node(id: $id) { id } policy(id: $id) { id } customer(id: $id) { id } }"
)


@_FUZZ
@given(variables=st.dictionaries(st.sampled_from(["first", "after", "status", "id", "on", "other"]),
                                 _json_values, max_size=6))
def test_random_variables_never_500(http: httpx.Client, runtime: Runtime, variables: dict[str, Any]) -> None:
    resp = http.post("/graphql", json={"query": _VAR_QUERY, "variables": variables},
                     headers={**GR, **_auth_headers(runtime, "admin")})
    assert resp.status_code < 500, (variables, resp.text)
    if resp.status_code == 200:
        assert "data" in resp.json()


def test_nesting_is_refused_even_with_a_raised_recursion_limit(http: httpx.Client) -> None:
    """web3/py-evm raise the recursion limit; deep input must never reach a recursive parser."""
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        deep_json = b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 200_000 + b"]" * 200_000 + b"}}"
        resp = http.post("/graphql", content=deep_json, headers={**GR, "content-type": "application/json"})
        assert resp.status_code in (400, 413)
        deep_doc = "{ a(b: " + "[" * 20_000 + "]" * 20_000 + ") }"
        resp = http.post("/graphql", json={"query": deep_doc}, headers=GR)
        assert resp.status_code == 400 and "nested" in resp.json()["errors"][0]["message"]
    finally:
        sys.setrecursionlimit(old)


def test_nesting_depth_ignores_brackets_inside_strings() -> None:
    from opsure.graphql_http import MAX_NESTING, nesting_depth

    assert nesting_depth('{ a(b: "' + "[" * 500 + '") }') == 1 or nesting_depth('{ a(b: "' + "[" * 500 + '") }') <= 2
    assert nesting_depth("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)) > MAX_NESTING


# --- response encoding ------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values)
def test_responses_encode_the_same_json_as_the_stdlib(value: Any) -> None:
    """orjson, or json.dumps where orjson refuses (integers beyond 64 bits, lone surrogates)."""
    from opsure.graphql_http import encode_json

    assert json.loads(encode_json({"data": value})) == json.loads(json.dumps({"data": value}, default=str))


def test_unusual_values_encode_as_before() -> None:
    import datetime as dt
    from decimal import Decimal

    from opsure.graphql_http import encode_json

    values = {"big": 10**24, "when": dt.datetime(2026, 6, 1, 8, 30, tzinfo=dt.UTC), "day": dt.date(2026, 6, 1),
              "amount": Decimal("12.50"), "name": "张三", "lone": "\ud800"}
    assert json.loads(encode_json(values)) == json.loads(json.dumps(values, default=str))
    assert "张三".encode() in encode_json({"name": "张三"})  # UTF-8, not \\u escapes


def test_a_non_ascii_response_is_utf8_json(http: httpx.Client, runtime: Runtime) -> None:
    resp = http.post("/graphql", json={"query": '{ __type(name: "Policy") { name } }'},
                     headers={**GR, **_auth_headers(runtime, "admin")})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert resp.json() == json.loads(resp.content.decode("utf-8"))
