"""The short fuzz run of ``make test``: schemathesis cases for every root field, every role.

Derandomized (the same cases every run); ``make fuzz`` runs the long, randomly seeded one.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from opsure.runtime import Runtime
from tests.fuzz.graphql_fuzz import (
    GRAPHQL_RESPONSE,
    JSON,
    PRINCIPALS,
    fuzz,
    load_schema,
    principal_tokens,
    render_findings,
    response_problems,
    seed,
)

#: Three cases per root field and mode: a few hundred in all, a few seconds.
SHORT_RUN_CASES = 400


def test_every_role_gets_well_formed_answers_to_generated_documents(runtime: Runtime, http: httpx.Client) -> None:
    tokens = principal_tokens(runtime, seed(runtime.session_factory))
    report = fuzz(http, tokens, load_schema(runtime), cases=SHORT_RUN_CASES)
    print(report.summary())
    assert not report.findings, "\n\n" + render_findings(report.findings)
    assert report.cases >= SHORT_RUN_CASES
    assert set(report.per_principal) == set(PRINCIPALS)
    assert report.operations >= 70  # every query and mutation of the schema


def _answer(status: int, body: Any, media: str = JSON) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"content-type": media})


def _problems(response: httpx.Response, *, media: str = JSON, method: str = "POST", is_mutation: bool = False,
              anonymous: bool = False) -> list[str]:
    return response_problems(response, media=media, method=method, is_mutation=is_mutation, anonymous=anonymous)


FIELD_ERROR = {"message": "not found", "locations": [{"line": 1, "column": 3}], "path": ["policy"],
               "extensions": {"code": "NOT_FOUND"}}


@pytest.mark.parametrize(("response", "kw"), [
    (_answer(200, {"data": {"me": None}}), {}),
    (_answer(200, {"data": {"policy": None}, "errors": [FIELD_ERROR]}), {}),
    (_answer(200, {"errors": [{"message": "Cannot query field 'x'", "locations": [{"line": 1, "column": 3}]}]}), {}),
    (_answer(400, {"errors": [{"message": "Syntax Error"}]}, GRAPHQL_RESPONSE), {"media": GRAPHQL_RESPONSE}),
    (_answer(401, {"errors": [{"message": "log in", "extensions": {"code": "UNAUTHENTICATED"}}]}, GRAPHQL_RESPONSE),
     {"media": GRAPHQL_RESPONSE, "anonymous": True}),
    (_answer(405, {"errors": [{"message": "use POST", "extensions": {"code": "METHOD_NOT_ALLOWED"}}]}),
     {"method": "GET", "is_mutation": True}),
    (_answer(200, {"errors": [{"message": "Syntax Error"}]}), {"method": "GET", "is_mutation": True}),
], ids=["data", "field-error", "validation-error-json", "validation-error-graphql-response", "anonymous-401",
        "get-mutation-405", "get-unparsable-mutation"])
def test_well_formed_answers_pass_the_checks(response: httpx.Response, kw: dict[str, Any]) -> None:
    assert _problems(response, **kw) == []


@pytest.mark.parametrize(("response", "kw", "expected"), [
    (_answer(500, {"errors": [{"message": "Internal error"}]}), {}, "HTTP 500"),
    (_answer(502, b"Bad Gateway", "text/plain"), {}, "HTTP 502"),
    (_answer(200, {"data": {}}, "text/html"), {}, "content type 'text/html'"),
    (_answer(200, {"data": {}}), {"media": GRAPHQL_RESPONSE}, "content type 'application/json'"),
    (_answer(200, b"{'data': 1"), {}, "not JSON"),
    (_answer(200, [{"data": {}}]), {}, "not a non-empty JSON object"),
    (_answer(200, {"result": {}}), {}, "top-level keys"),
    (_answer(200, {"data": []}), {}, "neither an object nor null"),
    (_answer(200, {"errors": []}), {}, "not a non-empty list"),
    (_answer(200, {"errors": [{"msg": "x"}]}), {}, "has no message"),
    (_answer(200, {"errors": ["boom"]}), {}, "not an object"),
    (_answer(200, {"data": {"x": None}, "errors": [{"message": "Internal error", "path": ["x"]}]}), {},
     "internal error"),
    (_answer(200, {"data": None, "errors": [{"message": "Cannot return null for non-nullable field Q.x."}]}), {},
     "internal error"),
    (_answer(200, {"errors": [{"message": "m", "locations": [{"line": 0, "column": 1}]}]}), {}, "locations"),
    (_answer(200, {"errors": [{"message": "m", "path": [{"a": 1}]}]}), {}, "malformed path"),
    (_answer(400, {"data": {"x": 1}}, GRAPHQL_RESPONSE), {"media": GRAPHQL_RESPONSE}, "'data' present with HTTP 400"),
    (_answer(200, {"errors": [{"message": "bad"}]}, GRAPHQL_RESPONSE), {"media": GRAPHQL_RESPONSE},
     "expected 400"),
    (_answer(401, {"errors": [{"message": "log in", "extensions": {"code": "UNAUTHENTICATED"}}]}), {},
     "HTTP 401 for a token holder"),
    (_answer(200, {"data": {"issuePolicy": {}}}), {"method": "GET", "is_mutation": True}, "mutation ran over GET"),
])
def test_malformed_answers_fail_the_checks(response: httpx.Response, kw: dict[str, Any], expected: str) -> None:
    problems = _problems(response, **kw)
    assert any(expected in p for p in problems), problems
