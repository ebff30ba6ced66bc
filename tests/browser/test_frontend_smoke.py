"""A frontend on another origin reads a claim with its documents and timeline, in a real browser.

Opsure and a static page are served by uvicorn on two ports (two origins); headless
Chromium loads the page, whose plain ``fetch`` client uploads a document, reads the claim,
downloads each document and checks its bytes, and reports back (``frontend/smoke.js``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from core.auth import Role, issue_token
from core.db import transaction
from opsure.runtime import Runtime
from resolvers.claims.models import ClaimDocument
from schema.relay import encode_global_id
from tests.browser.browser import run_page
from tests.browser.servers import free_socket, serve
from tests.claim_factories import PDF, make_claim_policy, report

pytestmark = pytest.mark.npm

FRONTEND = Path(__file__).with_name("frontend")


@dataclasses.dataclass(frozen=True)
class Stage:
    """Opsure and the frontend, each on its own origin, and a customer's claim."""

    api: str
    frontend: str
    token: str
    claim_id: str

    def page(self, origin: str | None = None) -> str:
        """The smoke page's URL (on ``origin``, default the listed frontend origin)."""
        query = urlencode({"api": self.api, "token": self.token, "claim": self.claim_id})
        return f"{origin or self.frontend}/index.html?{query}"


@pytest.fixture
def stage(runtime: Runtime) -> Iterator[Stage]:
    """Both servers up, the frontend's origin listed in OPSURE_CORS_ORIGINS, a claim with a document."""
    from opsure.app import create_app

    with transaction(runtime.session_factory) as session:
        policy = make_claim_policy(session)
        claim = report(session, policy)
        claim_id, customer_id = encode_global_id("Claim", claim.id), policy.customer_id
    token = issue_token(runtime.token_keys, runtime.settings, subject="smoke", role=Role.CUSTOMER,
                        customer_id=customer_id)
    page_socket = free_socket()
    frontend = f"http://127.0.0.1:{page_socket.getsockname()[1]}"
    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(cors_origins=(frontend,)))
    with serve(create_app(rt.settings, rt)) as api, serve(_static_site(), page_socket):
        uploaded = httpx.post(f"{api}/claims/{claim_id}/documents", content=PDF,
                              headers={"authorization": f"Bearer {token}", "x-document-kind": "invoice",
                                       "x-filename": "invoice.pdf"})
        assert uploaded.status_code == 201, uploaded.text
        yield Stage(api, frontend, token, claim_id)


def _static_site() -> Starlette:
    app = Starlette()
    app.mount("/", StaticFiles(directory=FRONTEND))
    return app


def _foreign(requests: list[dict[str, str]], *origins: str) -> list[str]:
    return [r["url"] for r in requests if not r["url"].startswith(origins) and not r["url"].startswith("data:")]


def test_a_page_of_a_listed_origin_reads_the_claim_documents_and_timeline(stage: Stage, tmp_path: Path) -> None:
    seen = run_page(stage.page(), "smoke", tmp_path / "profile")
    result: dict[str, Any] = seen["result"]
    assert result.get("ok"), result
    claim = result["claim"]
    assert claim["id"] == stage.claim_id and claim["timeline"][0]["kind"] == "REPORTED"
    assert [d["filename"] for d in claim["documents"]] == ["invoice.pdf", "发票 smoke.pdf"]
    first = result["downloads"][0]
    assert first["sha256"] == hashlib.sha256(PDF).hexdigest() and first["size"] == len(PDF)
    assert result["uploaded"]["location"].startswith(f"/claims/{stage.claim_id}/documents/")
    assert result["loginBlocked"] is True
    assert not seen["pageErrors"] and not _foreign(seen["requests"], stage.api, stage.frontend)


def test_a_page_of_an_unlisted_origin_is_blocked_by_the_browser(stage: Stage, tmp_path: Path,
                                                                runtime: Runtime) -> None:
    unlisted = stage.frontend.replace("127.0.0.1", "localhost")  # same server, another origin
    seen = run_page(stage.page(unlisted), "smoke", tmp_path / "profile")
    assert seen["result"] == {"ok": False, "error": "TypeError: Failed to fetch"}
    assert any("CORS policy" in message for message in seen["consoleErrors"]), seen["consoleErrors"]
    with runtime.session_factory() as session:  # the refused preflight kept the upload from being sent
        assert session.scalar(select(func.count()).select_from(ClaimDocument)) == 1
