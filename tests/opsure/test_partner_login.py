"""Partner client credentials through the real app: Basic login -> scoped bearer token."""

from __future__ import annotations

import base64
import datetime as dt

from core.auth import Role, verify_token
from partners.credentials import create_client
from tests.partner_factories import CHECKER, make_partner


def test_client_credentials_login_through_the_app(http, runtime, session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        partner = make_partner(s)
        client, secret = create_client(s, principal=CHECKER, partner_id=partner.id, label="survey app",
                                       now=dt.datetime.now(dt.UTC))
        s.commit()
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    resp = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                     headers={"authorization": f"Basic {basic}"})
    assert resp.status_code == 200, resp.text
    principal = verify_token(runtime.token_keys, runtime.settings, resp.json()["access_token"])
    assert principal.role is Role.PARTNER and principal.partner_id == partner.id
    wrong = base64.b64encode(f"{client.client_id}:nope".encode()).decode()
    refused = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers={"authorization": f"Basic {wrong}"})
    assert refused.status_code == 401
