"""schemathesis against the GraphQL schema: every root field, every role, every answer checked.

One fuzz case is a document schemathesis generates for one root field (a query or a
mutation; valid documents and, in negative mode, invalid ones), sent by one principal
(anonymous or a token of any role) over ``POST`` or ``GET``, asking for either GraphQL
response media type. Every answer must be a well-formed GraphQL-over-HTTP response:
never a 5xx, the negotiated content type, a JSON object with ``data`` and/or ``errors``,
errors that carry messages, a status that matches the body, and no masked internal error.
schemathesis' own response check (``response_schema_conformance``) runs as well.

Mutations really run and commit: the database must be a throwaway one.
"""

from __future__ import annotations

import base64
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import graphql
import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.graphql import nodes
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session, sessionmaker

from core.auth import Role, issue_token
from core.db import transaction
from opsure.runtime import Runtime
from partners.models import AssignmentKind, PartnerKind
from schema import build_schema
from schema.relay import encode_global_id
from tests.claim_factories import make_claim_policy, report
from tests.partner_factories import make_assignment, make_partner

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MEDIA_TYPES = (GRAPHQL_RESPONSE, JSON)
METHODS = ("POST", "GET")
#: A mutation over GET is refused (405) before anything runs: try it, but mostly POST mutations.
MUTATION_METHODS = ("POST", "POST", "POST", "GET")
#: Every caller the API knows: anonymous, then one token per role.
PRINCIPALS: tuple[str, ...] = ("anonymous", *(role.value for role in Role))
#: Masked messages of an unexpected exception (schema.OpsureSchema, opsure.graphql_http).
INTERNAL_MESSAGES = frozenset({"Internal error"})
NON_NULL_VIOLATION = "Cannot return null for non-nullable field"
_TOP_LEVEL_KEYS = frozenset({"data", "errors", "extensions"})


# --------------------------------------------------------------------------- scalars


def _json_values() -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )


def _json_node(value: Any) -> Any:
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_json_node(v) for v in value])
    return nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_json_node(v))
                         for k, v in value.items() if k.isidentifier()])


def _decimals() -> st.SearchStrategy[str]:
    plain = st.decimals(allow_nan=False, allow_infinity=False, places=2,
                        min_value=Decimal("-1e12"), max_value=Decimal("1e12")).map(str)
    odd = st.sampled_from(["0", "-0.00", "1e400", "NaN", "Infinity", "1" * 80, "0.0000000001", "abc", ""])
    return plain | odd


#: Types whose global ids the API decodes; ids of rows 1-3 of each reach past "not found".
GLOBAL_ID_TYPES = ("Assignment", "Claim", "ClaimDocument", "Customer", "Partner", "Policy", "Product", "Quote",
                   "RiskFlag", "SignedRecord", "SignerKey", "WebhookEndpoint")


def _global_ids() -> st.SearchStrategy[str]:
    real = st.sampled_from([encode_global_id(t, pk) for t in GLOBAL_ID_TYPES for pk in (1, 2, 3)])
    odd = st.sampled_from(["", "Policy:1", base64.b64encode(b"Policy:-1").decode(),
                           base64.b64encode(b"Claim:" + b"9" * 40).decode(), base64.b64encode(b":").decode(),
                           base64.b64encode(b"Nope:1").decode(), "%%%", "\u0000"])
    return st.one_of(real, odd, st.text(max_size=24))


def register_scalars() -> None:
    """Teach schemathesis Opsure's custom scalars (Date, DateTime are built in) and seeded global ids."""
    schemathesis.graphql.scalar("Decimal", _decimals().map(nodes.String))
    schemathesis.graphql.scalar("Money", _decimals().map(nodes.String))  # more than 2 decimals: refused, never a 500
    schemathesis.graphql.scalar("Rate", _decimals().map(nodes.String))
    schemathesis.graphql.scalar("JSON", _json_values().map(_json_node))
    schemathesis.graphql.scalar("ID", _global_ids().map(nodes.String))


# --------------------------------------------------------------------------- target


@dataclass(frozen=True)
class Seeded:
    """Rows the principals' tokens are scoped to."""

    customer_id: int
    partner_id: int


def seed(session_factory: sessionmaker[Session]) -> Seeded:
    """A customer with a policy and a reported claim, and an approved hospital with an assignment."""
    with transaction(session_factory) as session:
        policy = make_claim_policy(session)
        claim = report(session, policy)
        hospital = make_partner(session, kind=PartnerKind.HOSPITAL)
        make_assignment(session, hospital, kind=AssignmentKind.HOSPITAL_BILL, case_reference=claim.number)
        return Seeded(customer_id=policy.customer_id, partner_id=hospital.id)


def principal_tokens(runtime: Runtime, seeded: Seeded) -> dict[str, str | None]:
    """A bearer token per principal (None for anonymous); customer and partner scoped to the seeded rows."""
    tokens: dict[str, str | None] = {"anonymous": None}
    for role in Role:
        tokens[role.value] = issue_token(
            runtime.token_keys, runtime.settings, subject=f"fuzz-{role.value}", role=role,
            customer_id=seeded.customer_id if role is Role.CUSTOMER else None,
            partner_id=seeded.partner_id if role is Role.PARTNER else None,
        )
    return tokens


def load_schema(runtime: Runtime) -> Any:
    """The live schema (introspected in process, whatever the introspection setting) for schemathesis."""
    register_scalars()
    live = build_schema(runtime.settings)
    introspection = graphql.introspection_from_schema(live._schema)
    return schemathesis.graphql.from_dict(dict(introspection))


# --------------------------------------------------------------------------- checks


def _error_problems(errors: Any) -> list[str]:
    if not isinstance(errors, list) or not errors:
        return [f"'errors' is not a non-empty list: {errors!r}"]
    problems = []
    for error in errors:
        if not isinstance(error, dict):
            problems.append(f"an error is not an object: {error!r}")
            continue
        message = error.get("message")
        if not isinstance(message, str) or not message:
            problems.append(f"an error has no message: {error!r}")
        elif message in INTERNAL_MESSAGES or message.startswith(NON_NULL_VIOLATION):
            problems.append(f"internal error (a bug of ours): {error!r}")
        locations = error.get("locations", [])
        if not isinstance(locations, list) or not all(
            isinstance(loc, dict) and isinstance(loc.get("line"), int) and isinstance(loc.get("column"), int)
            and loc["line"] >= 1 and loc["column"] >= 1 for loc in locations
        ):
            problems.append(f"malformed locations: {error!r}")
        path = error.get("path", [])
        if not isinstance(path, list) or not all(isinstance(p, str | int) for p in path):
            problems.append(f"malformed path: {error!r}")
        if not isinstance(error.get("extensions", {}), dict):
            problems.append(f"extensions is not an object: {error!r}")
    return problems


def response_problems(response: httpx.Response, *, media: str, method: str, is_mutation: bool,
                      anonymous: bool) -> list[str]:
    """Everything wrong with one answer of /graphql (empty when it is a well-formed GraphQL response)."""
    status = response.status_code
    if status >= 500:
        return [f"HTTP {status}: {response.text[:500]}"]
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    if content_type != media:
        return [f"content type {content_type!r}, asked for {media!r} (HTTP {status})"]
    try:
        body = json.loads(response.content)
    except ValueError:
        return [f"body is not JSON (HTTP {status}): {response.text[:500]!r}"]
    if not isinstance(body, dict) or not body:
        return [f"body is not a non-empty JSON object (HTTP {status}): {body!r}"]
    problems = []
    if not body.keys() <= _TOP_LEVEL_KEYS or not ({"data", "errors"} & body.keys()):
        problems.append(f"top-level keys {sorted(body)} (HTTP {status})")
    if "errors" in body:
        problems += _error_problems(body["errors"])
    if "data" in body and not isinstance(body["data"], dict | None):
        problems.append(f"'data' is neither an object nor null: {body['data']!r}")
    problems += _status_problems(status, body, media=media, method=method, is_mutation=is_mutation,
                                 anonymous=anonymous)
    return problems


def _status_problems(status: int, body: dict[str, Any], *, media: str, method: str, is_mutation: bool,
                     anonymous: bool) -> list[str]:
    """The status must say what the body says (GraphQL over HTTP, as opsure/graphql_http.py documents)."""
    codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or [] if isinstance(e, dict)}
    if method == "GET" and is_mutation:
        if "data" in body:
            return [f"a mutation ran over GET (HTTP {status})"]
        if status == 405:
            return []  # else the document did not parse or validate: the rules below
    if "data" in body:
        return [] if status == 200 else [f"'data' present with HTTP {status}"]
    if status == 401:
        return [] if anonymous and codes == {"UNAUTHENTICATED"} else [f"HTTP 401 for a token holder: {codes}"]
    expected = 400 if media == GRAPHQL_RESPONSE else 200
    return [] if status == expected else [f"no 'data' with HTTP {status} (expected {expected})"]


# --------------------------------------------------------------------------- the run


@dataclass
class Finding:
    """One failing case, minimised by hypothesis."""

    operation: str
    principal: str
    method: str
    media: str
    query: str
    problems: list[str]

    def render(self) -> str:
        """A reproducer: who sent what, and what was wrong with the answer."""
        lines = [f"{self.operation} as {self.principal} ({self.method}, Accept: {self.media})",
                 *(f"  - {p}" for p in self.problems), "  query:", *(f"    {q}" for q in self.query.splitlines())]
        return "\n".join(lines)


class _Failed(AssertionError):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.render())
        self.finding = finding


@dataclass
class FuzzReport:
    """What one run sent and found."""

    cases: int = 0
    per_principal: Counter[str] = field(default_factory=Counter)
    per_status: Counter[int] = field(default_factory=Counter)
    operations: int = 0
    findings: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        """Counts of the run, one line each."""
        return "\n".join([
            f"fuzz cases: {self.cases} over {self.operations} root fields",
            "per principal: " + ", ".join(f"{k} {v}" for k, v in sorted(self.per_principal.items())),
            "per HTTP status: " + ", ".join(f"{k} {v}" for k, v in sorted(self.per_status.items())),
            f"failures: {len(self.findings)}",
        ])


def _send(client: httpx.Client, query: str, *, method: str, media: str, token: str | None) -> httpx.Response:
    headers = {"accept": media}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if method == "GET":
        return client.get("/graphql", params={"query": query}, headers=headers)
    return client.post("/graphql", json={"query": query}, headers=headers)


def fuzz(
    client: httpx.Client,
    tokens: dict[str, str | None],
    schema: Any,
    *,
    cases: int,
    seed: int | None = None,
    principals: Sequence[str] = PRINCIPALS,
    on_progress: Callable[[FuzzReport], None] | None = None,
) -> FuzzReport:
    """Send about ``cases`` generated cases (split over every root field and both modes); report them."""
    run = FuzzReport()
    operations = [result.ok() for result in schema.get_all_operations()]
    run.operations = len(operations)
    per_strategy = max(1, math.ceil(cases / (2 * len(operations))))
    hypothesis_settings = settings(
        max_examples=per_strategy, deadline=None, database=None, derandomize=seed is None,
        suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink], print_blob=False,
    )
    for index, operation in enumerate(operations):
        methods = MUTATION_METHODS if operation.definition.is_mutation else METHODS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # hypothesis favours the first element of a choice: rotate it from one strategy to the next
            strategy = st.tuples(operation.as_strategy(generation_mode=mode),
                                 st.sampled_from(_rotated(principals, index)),
                                 st.sampled_from(_rotated(methods, index // len(MEDIA_TYPES))),
                                 st.sampled_from(_rotated(MEDIA_TYPES, index)))
            one_case = hypothesis_settings(given(strategy)(_case_runner(client, tokens, run)))
            if seed is not None:
                one_case = hypothesis_seed(seed)(one_case)
            try:
                one_case()
            except _Failed as failed:
                run.findings.append(failed.finding)
            if on_progress is not None:
                on_progress(run)
    return run


def _rotated(items: Sequence[str], by: int) -> list[str]:
    by %= len(items)
    return [*items[by:], *items[:by]]


def _case_runner(
    client: httpx.Client, tokens: dict[str, str | None], run: FuzzReport
) -> Callable[[tuple[Any, str, str, str]], None]:
    """The body of one hypothesis example: send the case, count it, raise on any problem."""

    def one_case(drawn: tuple[Any, str, str, str]) -> None:
        case, principal, method, media = drawn
        response = _send(client, case.body, method=method, media=media, token=tokens[principal])
        run.cases += 1
        run.per_principal[principal] += 1
        run.per_status[response.status_code] += 1
        problems = response_problems(response, media=media, method=method,
                                     is_mutation=case.operation.definition.is_mutation,
                                     anonymous=tokens[principal] is None)
        if not problems and response.status_code == 200:
            try:  # schemathesis' own check: a JSON object, no non-null violation
                case.validate_response(response, checks=[response_schema_conformance])
            except FailureGroup as exc:
                problems = [f"{failure.title}: {failure.message}" for failure in exc.exceptions]
        if problems:
            raise _Failed(Finding(case.operation.label, principal, method, media, case.body, problems))

    return one_case


def render_findings(findings: Iterable[Finding]) -> str:
    """Every finding as a reproducer, separated by blank lines."""
    return "\n\n".join(f.render() for f in findings)

