"""Partner client credentials: the OAuth2 token endpoint and the scoped tokens it issues."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from core.audit import AuditEntry
from core.auth import Role, verify_token
from core.db import transaction
from opsure.partner_auth import token_endpoint
from opsure.runtime import Runtime
from partners import credentials, review
from tests.partner_factories import CHECKER, NOW, make_assignment, make_partner


@pytest.fixture
def oauth(runtime: Runtime) -> Iterator[TestClient]:
    app = Starlette(routes=[Route("/oauth/token", token_endpoint(runtime), methods=["POST"])])
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client_creds(session_factory: Any) -> dict[str, Any]:
    with transaction(session_factory) as s:
        firm = make_partner(s)
        other = make_partner(s)
        make_assignment(s, firm, case_reference="MINE-1")
        make_assignment(s, other, case_reference="THEIRS-1")
        client, secret = credentials.create_client(s, principal=CHECKER, partner_id=firm.id, label="claims", now=NOW)
        return {"firm": firm, "client_id": client.client_id, "secret": secret}


FORM = {"content-type": "application/x-www-form-urlencoded"}


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_client_credentials_grant_issues_a_partner_scoped_token(
    oauth: TestClient, client_creds: dict[str, Any], runtime: Runtime, http: httpx.Client, session_factory: Any
) -> None:
    resp = oauth.post("/oauth/token", content="grant_type=client_credentials",
                      headers={**FORM, "authorization": _basic(client_creds["client_id"], client_creds["secret"])})
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == runtime.settings.token_ttl_seconds
    principal = verify_token(runtime.token_keys, runtime.settings, body["access_token"])
    assert principal.role is Role.PARTNER and principal.partner_id == client_creds["firm"].id
    assert principal.subject == f"partner-client:{client_creds['client_id']}"
    # the token works on /graphql and sees only the partner's own cases
    answer = http.post("/graphql", json={"query": "{ assignments { edges { node { caseReference } } } }"},
                       headers={"authorization": f"Bearer {body['access_token']}"})
    assert [e["node"]["caseReference"] for e in answer.json()["data"]["assignments"]["edges"]] == ["MINE-1"]
    # form-field credentials work too; the issue is audited
    resp2 = oauth.post("/oauth/token", headers=FORM, content=(
        f"grant_type=client_credentials&client_id={client_creds['client_id']}&client_secret={client_creds['secret']}"))
    assert resp2.status_code == 200
    with session_factory() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "partnerToken")).all()) == 2


def test_refusals_follow_rfc_6749(oauth: TestClient, client_creds: dict[str, Any], session_factory: Any) -> None:
    cid, secret = client_creds["client_id"], client_creds["secret"]

    def post(body: str, **headers: str) -> Any:
        return oauth.post("/oauth/token", content=body, headers={**FORM, **headers})

    r = post("grant_type=client_credentials", authorization=_basic(cid, secret + "x"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client" and "www-authenticate" in r.headers
    assert post("grant_type=client_credentials", authorization=_basic("pc_nobody", secret)).json()["error"] \
        == "invalid_client"
    assert post("grant_type=password", authorization=_basic(cid, secret)).json()["error"] == "unsupported_grant_type"
    assert post("grant_type=client_credentials").status_code == 401
    assert post(f"grant_type=client_credentials&client_id={cid}&client_secret={secret}",
                authorization=_basic(cid, secret)).json()["error"] == "invalid_request"
    assert post("grant_type=client_credentials&grant_type=client_credentials").json()["error"] == "invalid_request"
    assert oauth.post("/oauth/token", json={"grant_type": "client_credentials"}).json()["error"] == "invalid_request"
    assert post("grant_type=client_credentials", authorization="Bearer abc").status_code == 401
    too_large = post("x=" + "a" * 5000)
    assert too_large.status_code == 413 and too_large.json()["error"] == "invalid_request"
    with transaction(session_factory) as s:
        review.suspend(s, principal=CHECKER, partner_id=client_creds["firm"].id, reason="audit", now=NOW)
    assert post("grant_type=client_credentials", authorization=_basic(cid, secret)).json()["error"] \
        == "unauthorized_client"
    with transaction(session_factory) as s:
        credentials.revoke_client(s, principal=CHECKER, client_id=cid, now=NOW)
    assert post("grant_type=client_credentials", authorization=_basic(cid, secret)).json()["error"] == "invalid_client"


def test_secrets_are_stored_as_scrypt_hashes(client_creds: dict[str, Any], session_factory: Any) -> None:
    from partners.models import PartnerClient

    with session_factory() as s:
        row = s.scalar(select(PartnerClient).where(PartnerClient.client_id == client_creds["client_id"]))
        assert row is not None and row.secret_hash.startswith("scrypt$16384$8$1$")
        assert client_creds["secret"] not in row.secret_hash
    assert credentials.check_secret(client_creds["secret"], row.secret_hash)
    assert not credentials.check_secret("wrong", row.secret_hash)
    assert not credentials.check_secret("x", "garbage")
