"""Every HTTP route is declared in the permission registry; uploads and downloads, role by role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from core.auth import Role, issue_token
from core.clock import business_today
from core.db import transaction
from core.roles import ADJUSTERS, DATA_HOLDERS, DOCUMENT_READERS, DOCUMENT_UPLOADERS, REPORTERS
from ledger.models import LedgerRecord
from opsure.route_guard import UndeclaredRouteError, guard_routes, route_methods
from partners.models import PartnerKind
from resolvers.claims import service
from resolvers.claims.models import ClaimChannel, ClaimDocument
from schema.permissions import ROUTE_ACCESS, route_access
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, PDF, make_claim_policy, report, small_items
from tests.partner_factories import make_partner


def test_every_route_of_the_app_is_declared(app: Any) -> None:
    served = set()
    for route in app.routes:
        for method in route_methods(route):
            assert route_access(method, route.path) is not None, f"{method} {route.path} has no declaration"
            served.add(("GET" if method == "HEAD" else method, route.path))
    assert set(ROUTE_ACCESS) == served, "declarations for routes the app does not serve"
    for (method, path), access in ROUTE_ACCESS.items():
        assert access.roles, (method, path)
        if "*" in access.roles:
            assert access.note, f"public route {method} {path} must say why it is open"


def test_an_undeclared_route_stops_the_app_from_being_built() -> None:
    async def hello(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("hi")

    with pytest.raises(UndeclaredRouteError, match="GET /hello"):
        guard_routes([Route("/hello", hello)])
    with pytest.raises(UndeclaredRouteError, match="DELETE /claims/"):
        guard_routes([Route("/claims/{claim_id}/documents", hello, methods=["POST", "DELETE"])])
    Starlette(routes=guard_routes([Route("/healthz", hello)]))  # declared: fine


def test_document_roles_follow_the_graphql_role_sets() -> None:
    assert DOCUMENT_UPLOADERS == REPORTERS | DATA_HOLDERS
    assert ADJUSTERS | {"customer"} == DOCUMENT_READERS
    assert not DOCUMENT_UPLOADERS & {"qa", "analyst", "auditor"}


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None
    claims: dict[str, Any]
    claim: str  # "customer" or "billed": the claim the caller acts on
    upload: int
    download: int


@pytest.fixture
def world(session_factory: Any) -> dict[str, Any]:
    """A customer's draft claim, a direct-billed claim of a hospital, a stranger and another hospital."""
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        stranger = make_claim_policy(s)
        claim = report(s, policy)
        hospital = make_partner(s, kind=PartnerKind.HOSPITAL)
        other_hospital = make_partner(s, kind=PartnerKind.HOSPITAL)
        billed_policy = make_claim_policy(s)
        billed = service.report_claim(
            s, principal=ADJUSTER, policy_id=billed_policy.id, event_date=claim.event_date,
            admission_date=claim.admission_date, discharge_date=claim.discharge_date, hospital="杭州市第一人民医院",
            diagnosis_code="J18.9", claimed_amount=claim.claimed_amount, channel=ClaimChannel.DIRECT_BILLING,
            items=small_items(), today=business_today(), now=dt.datetime.now(dt.UTC), partner_id=hospital.id)
        return {"customer": encode_global_id("Claim", claim.id), "billed": encode_global_id("Claim", billed.id),
                "customer_id": policy.customer_id, "stranger_id": stranger.customer_id,
                "hospital_id": hospital.id, "other_hospital_id": other_hospital.id}


def _callers(w: dict[str, Any]) -> list[Caller]:
    return [
        Caller("customer, own claim", Role.CUSTOMER, {"customer_id": w["customer_id"]}, "customer", 201, 200),
        Caller("customer, foreign claim", Role.CUSTOMER, {"customer_id": w["stranger_id"]}, "customer", 404, 404),
        Caller("agent", Role.AGENT, {}, "customer", 201, 403),
        Caller("adjuster", Role.ADJUSTER, {}, "customer", 201, 200),
        Caller("qa", Role.QA, {}, "customer", 403, 403),
        Caller("analyst", Role.ANALYST, {}, "customer", 403, 403),
        Caller("manager", Role.MANAGER, {}, "customer", 201, 200),
        Caller("admin", Role.ADMIN, {}, "customer", 201, 200),
        Caller("auditor", Role.AUDITOR, {}, "customer", 403, 403),
        Caller("hospital that billed the claim", Role.PARTNER, {"partner_id": w["hospital_id"]}, "billed", 201, 403),
        Caller("another hospital", Role.PARTNER, {"partner_id": w["other_hospital_id"]}, "billed", 404, 403),
        Caller("anonymous", None, {}, "customer", 401, 401),
    ]


def _headers(runtime: Any, caller: Caller) -> dict[str, str]:
    if caller.role is None:
        return {}
    token = issue_token(runtime.token_keys, runtime.settings, subject=f"{caller.name}-t", role=caller.role,
                        **caller.claims)
    return {"authorization": f"Bearer {token}"}


def _counts(session_factory: Any) -> tuple[int, int]:
    with session_factory() as s:
        return (s.scalar(select(func.count()).select_from(ClaimDocument)) or 0,
                s.scalar(select(func.count()).select_from(LedgerRecord)) or 0)


def _stored_files(runtime: Any) -> list[Any]:
    return [p for p in (runtime.settings.data_dir / "documents").rglob("*") if p.is_file()]


def test_upload_role_by_role(http: Any, runtime: Any, session_factory: Any, world: dict[str, Any]) -> None:
    for caller in _callers(world):
        docs, records = _counts(session_factory)
        files = len(_stored_files(runtime))
        resp = http.post(f"/claims/{world[caller.claim]}/documents", content=PDF,
                         headers={**_headers(runtime, caller), "content-type": "application/pdf",
                                  "x-document-kind": "invoice", "x-filename": "invoice.pdf"})
        assert resp.status_code == caller.upload, (caller.name, resp.status_code, resp.text)
        if caller.upload == 201:
            assert resp.json()["anchoredRecord"] is True, caller.name  # the MEDICAL ledger record
            assert _counts(session_factory) == (docs + 1, records + 1), caller.name
            assert len(_stored_files(runtime)) == files + 1, caller.name
        else:
            assert resp.json()["errors"][0]["code"] in {"FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED"}, caller.name
            assert _counts(session_factory) == (docs, records), f"{caller.name} wrote something"
            assert len(_stored_files(runtime)) == files, f"{caller.name} stored a file"
    assert resp.headers.get("www-authenticate") == "Bearer"  # the anonymous caller, last


def test_download_role_by_role(http: Any, runtime: Any, world: dict[str, Any]) -> None:
    admin = _headers(runtime, Caller("admin", Role.ADMIN, {}, "customer", 0, 0))
    urls = {}
    for name in ("customer", "billed"):
        resp = http.post(f"/claims/{world[name]}/documents", content=PDF,
                         headers={**admin, "x-document-kind": "prescription", "x-filename": "rx.pdf"})
        assert resp.status_code == 201, resp.text
        urls[name] = resp.headers["location"]
    for caller in _callers(world):
        resp = http.get(urls[caller.claim], headers=_headers(runtime, caller))
        assert resp.status_code == caller.download, (caller.name, resp.status_code, resp.text)
        if caller.download == 200:
            assert resp.content == PDF, caller.name
        else:
            assert PDF not in resp.content, caller.name


def test_a_document_is_found_only_through_its_own_claim(http: Any, runtime: Any, world: dict[str, Any]) -> None:
    admin = _headers(runtime, Caller("admin", Role.ADMIN, {}, "customer", 0, 0))
    resp = http.post(f"/claims/{world['billed']}/documents", content=PDF,
                     headers={**admin, "x-document-kind": "invoice"})
    doc = resp.json()["id"]
    own = _headers(runtime, Caller("customer", Role.CUSTOMER, {"customer_id": world["customer_id"]}, "customer", 0, 0))
    # the customer's own claim id with another claim's document: 404, like a document that does not exist
    foreign = http.get(f"/claims/{world['customer']}/documents/{doc}", headers=own)
    missing = http.get(f"/claims/{world['customer']}/documents/{encode_global_id('ClaimDocument', 10**9)}",
                       headers=own)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert http.get(f"/claims/{world['billed']}/documents/{doc}", headers=admin).status_code == 200
