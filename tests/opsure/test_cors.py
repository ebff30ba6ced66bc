"""CORS: listed origins read the API, others get no CORS header; preflights answered before auth."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from core.auth import Role, issue_token
from opsure.cors import API_REQUEST_HEADERS, MAX_AGE_SECONDS, CorsMiddleware, api_policies, parse_origins
from opsure.route_guard import route_methods
from opsure.runtime import Runtime
from schema.permissions import route_access

ORIGIN = "https://app.example"
LOCAL = "http://localhost:5173"
STRANGER = "https://evil.example"
DOCUMENTS = "/claims/Q2xhaW06MQ==/documents"
DOCUMENT = "/claims/Q2xhaW06MQ==/documents/Q2xhaW1Eb2N1bWVudDox"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """The app with two origins listed in OPSURE_CORS_ORIGINS."""
    from opsure.app import create_app

    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(cors_origins=(ORIGIN, LOCAL + "/")))
    with TestClient(create_app(rt.settings, rt)) as test_client:
        yield test_client


def preflight(client: httpx.Client, path: str, method: str = "POST", headers: str | None = "authorization, content-type",
              origin: str = ORIGIN) -> httpx.Response:
    """The OPTIONS request a browser sends before a cross-origin call."""
    sent = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        sent["access-control-request-headers"] = headers
    return client.options(path, headers=sent)


def cors_headers(resp: httpx.Response) -> dict[str, str]:
    """The response's Access-Control-* headers."""
    return {k: v for k, v in resp.headers.items() if k.startswith("access-control-")}


def _listed(value: str) -> set[str]:
    return {part.strip() for part in value.split(",")}


def test_a_listed_origin_gets_its_graphql_preflight_answered(client: TestClient) -> None:
    resp = preflight(client, "/graphql", headers="Authorization, Content-Type, Accept, X-Request-ID")
    assert resp.status_code == 204 and resp.content == b""
    headers = cors_headers(resp)
    assert headers["access-control-allow-origin"] == ORIGIN
    assert _listed(headers["access-control-allow-methods"]) == {"GET", "POST"}
    assert _listed(headers["access-control-allow-headers"]) >= {
        "authorization", "content-type", "accept", "x-document-kind", "x-filename", "x-request-id", "range",
        "if-none-match"}
    assert headers["access-control-max-age"] == str(MAX_AGE_SECONDS)
    assert "Origin" in _listed(resp.headers["vary"])
    assert "access-control-allow-credentials" not in headers
    assert preflight(client, "/graphql", origin=LOCAL, method="GET", headers=None).status_code == 204


def test_an_unlisted_origin_gets_a_refusal_and_no_cors_header(client: TestClient) -> None:
    for origin in (STRANGER, "null", "https://app.example.evil.example", "http://app.example", "https://app.example:8443"):
        resp = preflight(client, "/graphql", origin=origin)
        assert resp.status_code == 403, origin
        assert cors_headers(resp) == {}, origin
        error = resp.json()["errors"][0]
        assert error["code"] == "CORS_REFUSED" and "OPSURE_CORS_ORIGINS" in error["message"]


def test_methods_and_headers_outside_the_policy_are_refused(client: TestClient) -> None:
    for path, method, headers, named in [("/graphql", "PUT", None, "PUT"),
                                         ("/graphql", "POST", "authorization, x-evil", "x-evil"),
                                         (DOCUMENTS, "DELETE", None, "DELETE"),
                                         (DOCUMENT, "POST", None, "POST"),
                                         ("/rpc", "POST", "authorization", "authorization")]:
        resp = preflight(client, path, method=method, headers=headers)
        assert resp.status_code == 403 and cors_headers(resp) == {}, (path, method)
        assert named in resp.json()["errors"][0]["message"]


def test_document_routes_take_their_upload_and_download_headers(client: TestClient) -> None:
    upload = preflight(client, DOCUMENTS, headers="authorization, content-type, x-document-kind, x-filename")
    assert upload.status_code == 204 and _listed(upload.headers["access-control-allow-methods"]) == {"POST"}
    for method in ("GET", "HEAD"):
        download = preflight(client, DOCUMENT, method=method, headers="authorization, range, if-none-match, if-range")
        assert download.status_code == 204, method
        assert _listed(download.headers["access-control-allow-methods"]) == {"GET", "HEAD"}


def test_a_listed_origin_reads_the_answer_and_the_headers_it_needs(client: TestClient) -> None:
    resp = client.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": ORIGIN})
    assert resp.status_code == 200 and resp.json() == {"data": {"__typename": "Query"}}
    headers = cors_headers(resp)
    assert headers["access-control-allow-origin"] == ORIGIN
    assert _listed(headers["access-control-expose-headers"]) >= {
        "etag", "content-range", "content-disposition", "x-request-id", "location", "retry-after"}
    assert "access-control-allow-credentials" not in headers
    assert "Origin" in _listed(resp.headers["vary"])


def test_an_unlisted_origin_is_served_but_its_page_cannot_read_the_answer(client: TestClient) -> None:
    resp = client.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": STRANGER})
    assert resp.status_code == 200 and cors_headers(resp) == {}
    assert "Origin" in _listed(resp.headers["vary"])  # a shared cache keeps the answers apart
    same_site = client.post("/graphql", json={"query": "{ __typename }"})
    assert cors_headers(same_site) == {} and "Origin" in _listed(same_site.headers["vary"])


def test_refusals_are_readable_by_a_listed_origin(client: TestClient, runtime: Runtime) -> None:
    forged = client.post("/graphql", json={"query": "{ __typename }"},
                         headers={"origin": ORIGIN, "authorization": "Bearer not-a-token"})
    assert forged.status_code == 401 and forged.headers["access-control-allow-origin"] == ORIGIN
    anonymous = client.get(DOCUMENT, headers={"origin": ORIGIN})
    assert anonymous.status_code == 401 and anonymous.headers["access-control-allow-origin"] == ORIGIN
    token = issue_token(runtime.token_keys, runtime.settings, subject="qa", role=Role.QA)
    forbidden = client.get(DOCUMENT, headers={"origin": ORIGIN, "authorization": f"Bearer {token}"})
    assert forbidden.status_code == 403 and forbidden.headers["access-control-allow-origin"] == ORIGIN
    not_preflight = client.options("/graphql", headers={"origin": ORIGIN})  # no Access-Control-Request-Method
    assert not_preflight.status_code == 405 and not_preflight.headers["access-control-allow-origin"] == ORIGIN


def test_rpc_is_open_to_every_origin_without_credentials(client: TestClient) -> None:
    resp = preflight(client, "/rpc", headers="content-type", origin=STRANGER)
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in resp.headers
    answer = client.get("/rpc", headers={"origin": STRANGER})
    assert answer.headers["access-control-allow-origin"] == "*"


def test_login_health_and_metrics_are_not_for_browsers(client: TestClient) -> None:
    for path in ("/oauth/token", "/healthz", "/metrics"):
        resp = preflight(client, path, method="POST" if path == "/oauth/token" else "GET", headers="content-type")
        assert resp.status_code == 405 and cors_headers(resp) == {}, path
    assert cors_headers(client.get("/healthz", headers={"origin": ORIGIN})) == {}


def test_without_listed_origins_the_api_refuses_every_preflight(http: httpx.Client) -> None:
    resp = preflight(http, "/graphql")
    assert resp.status_code == 403 and cors_headers(resp) == {}
    assert "OPSURE_CORS_ORIGINS" in resp.json()["errors"][0]["message"]
    assert cors_headers(http.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": ORIGIN})) == {}


def test_origins_are_exact_and_normalised() -> None:
    assert parse_origins(["HTTPS://App.Example:443/", " http://localhost:5173 ", "http://[::1]:8080",
                          "http://127.0.0.1:80"]) == {
        "https://app.example", "http://localhost:5173", "http://[::1]:8080", "http://127.0.0.1"}
    for bad in ("*", "null", "https://*.example", "https://app.example/path", "app.example", "ftp://app.example",
                "https://user@app.example", "https://app.example:99999", "https://app.example?x=1", "https://"):
        with pytest.raises(ValueError, match="OPSURE_CORS_ORIGINS"):
            parse_origins([bad])


def test_a_bad_origin_stops_the_app_from_being_built(runtime: Runtime) -> None:
    from opsure.app import create_app

    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(cors_origins=("*",)))
    with pytest.raises(ValueError, match="no wildcard"):
        create_app(rt.settings, rt)


def test_every_cors_route_is_a_declared_route_of_the_app(app: Any) -> None:
    served = {(method, route.path) for route in app.routes for method in route_methods(route)}
    for policy in api_policies([ORIGIN]):
        for method in policy.methods:
            assert (method, policy.path) in served, (method, policy.path)
            assert route_access(method, policy.path) is not None, (method, policy.path)


_ORIGINS = st.builds(lambda scheme, host, port: f"{scheme}://{host}" + (f":{port}" if port else ""),
                     st.sampled_from(["http", "https"]), st.sampled_from(["app.example", "localhost", "a.b.example"]),
                     st.sampled_from([None, 3000, 5173, 8443]))


@given(listed=st.lists(_ORIGINS, max_size=3), origin=st.one_of(_ORIGINS, st.text(max_size=40)),
       headers=st.sets(st.sampled_from(sorted(API_REQUEST_HEADERS | {"cookie", "x-evil"})), max_size=4))
def test_a_preflight_is_answered_exactly_when_origin_method_and_headers_are_allowed(
        listed: list[str], origin: str, headers: set[str]) -> None:
    policy = api_policies(listed)[0]
    resp = CorsMiddleware.preflight(policy, origin, "POST", ", ".join(headers))
    allowed = origin in listed and headers <= API_REQUEST_HEADERS
    assert resp.status_code == (204 if allowed else 403)
    assert resp.headers.get("access-control-allow-origin") == (origin if allowed else None)
