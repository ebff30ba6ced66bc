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


def test_repeated_wrong_secrets_are_throttled(http, session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        partner = make_partner(s)
        client, secret = create_client(s, principal=CHECKER, partner_id=partner.id, label="app",
                                       now=dt.datetime.now(dt.UTC))
        s.commit()
    form = {"grant_type": "client_credentials", "client_id": client.client_id}
    codes = [http.post("/oauth/token", data={**form, "client_secret": f"guess-{i}"}).status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    right = http.post("/oauth/token", data={**form, "client_secret": secret})
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1


def test_throttle_forgets_after_the_window() -> None:
    from core.throttle import FailureThrottle

    t = FailureThrottle(max_failures=2, window_seconds=0.05)
    t.failure("k")
    t.failure("k")
    assert t.blocked_for("k") > 0
    import time

    time.sleep(0.06)
    assert t.blocked_for("k") == 0
