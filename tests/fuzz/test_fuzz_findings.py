"""Reproducers of what the long fuzz run found: each once answered a masked "Internal error"."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from core.auth import Role


def _gid(type_name: str, raw: str) -> str:
    return base64.b64encode(f"{type_name}:{raw}".encode()).decode()


HUGE = "9" * 40


@pytest.mark.parametrize("query", [
    f'{{ claim(id: "{_gid("Claim", HUGE)}") {{ version }} }}',
    f'{{ policy(id: "{_gid("Policy", HUGE)}") {{ number }} }}',
    f'{{ node(id: "{_gid("Policy", HUGE)}") {{ id }} }}',
    f'{{ policy(id: "{_gid("Policy", "-1")}") {{ number }} }}',
])
def test_global_ids_beyond_bigint_are_bad_ids(gql: Any, query: str) -> None:
    body = gql(Role.ADMIN).post(query).json()
    messages = [e["message"] for e in body.get("errors", [])]
    assert "Internal error" not in messages
    assert body.get("errors") is None or any(e["extensions"].get("code") == "BAD_ID" for e in body["errors"]), body


def test_mutation_with_huge_global_id_answers_a_typed_error(gql: Any) -> None:
    body = gql(Role.ADMIN).post(
        f'mutation {{ submitClaim(input: {{claimId: "{_gid("Claim", HUGE)}"}}) {{ errors {{ code }} }} }}').json()
    assert body["data"]["submitClaim"]["errors"] == [{"code": "BAD_ID"}], body


def test_ledger_records_status_is_an_enum(gql: Any) -> None:
    body = gql(Role.ADMIN).post('{ ledgerRecords(status: "") { totalCount } }').json()
    assert "errors" in body and all(e["message"] != "Internal error" for e in body["errors"]), body
    ok = gql(Role.ADMIN).post("{ ledgerRecords(status: ERASED) { edges { node { id status } } } }").json()
    assert ok == {"data": {"ledgerRecords": {"edges": []}}}


def test_json_inputs_with_integers_beyond_json_precision_are_audited(gql: Any) -> None:
    body = gql(Role.PARTNER, partner_id=1).post(
        'mutation { submitSignedRecord(input: {signature: "", typedData: [9007199254740992]}) '
        "{ errors { code } } }").json()
    assert "data" in body and body["data"]["submitSignedRecord"]["errors"], body
