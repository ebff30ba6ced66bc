"""Claims-I leftovers: RISK_DESC by level then score, queue filters by age, customer and assignee,
per-adjuster assignment, the postal tracking number readable, reminders of documents past due."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from resolvers.claims import documents
from resolvers.claims.models import (
    Claim,
    ClaimDocument,
    ClaimEvent,
    ClaimState,
    DocumentKind,
    DocumentRequest,
)
from resolvers.claims.models import RiskLevel as Level
from resolvers.claims.reminders import REMIND_EVERY_DAYS, remind_overdue
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, add_invoice, make_claim_policy, nodes, report

QUEUE = """query($f: ClaimQueueFilter, $s: ClaimQueueSort!, $first: Int, $after: String, $last: Int,
  $before: String) { claims(filter: $f, sort: $s, first: $first, after: $after, last: $last, before: $before) {
  totalCount edges { node { number riskLevel riskScore assignee } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
ASSIGN = """mutation($i: AssignClaimInput!) { assignClaim(input: $i) { claim { number assignee } errors { field code } } }"""
RECORD = """mutation($i: OriginalReceivedInput!) { recordOriginalDocument(input: $i) {
  document { originalReceivedOn originalTracking } errors { code } } }"""


def _claims(session_factory: Any, ratings: list[tuple[Level | None, float | None]]) -> list[str]:
    with transaction(session_factory) as s:
        out = []
        for i, (level, score) in enumerate(ratings):
            claim = report(s, make_claim_policy(s, code=f"RD{i}"), amount=Decimal("800.00"))
            claim.state = ClaimState.UNDER_REVIEW
            claim.risk_level, claim.risk_score = level, score
            out.append(claim.number)
        return out


def _walk(adjuster: Any, sort: str, size: int, *, backward: bool = False, f: Any = None) -> list[str]:
    got: list[str] = []
    cursor = None
    while True:
        args = {"f": f, "s": sort, **({"last": size, "before": cursor} if backward else {"first": size,
                                                                                       "after": cursor})}
        page = adjuster(QUEUE, args)["claims"]
        numbers = [n["number"] for n in nodes(page)]
        got = numbers + got if backward else got + numbers
        info = page["pageInfo"]
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return got
        cursor = info["startCursor"] if backward else info["endCursor"]


def test_risk_desc_orders_by_level_then_score_both_ways(gql: Any, session_factory: Any) -> None:
    numbers = _claims(session_factory, [(Level.LOW, 0.9), (Level.HIGH, 0.1), (None, None), (Level.MEDIUM, 0.7),
                                        (Level.HIGH, 0.6), (Level.MEDIUM, 0.2)])
    want = [numbers[i] for i in (4, 1, 3, 5, 0, 2)]
    adjuster = gql(Role.ADJUSTER)
    for size in (1, 2, 4):
        assert _walk(adjuster, "RISK_DESC", size) == want, size
        assert _walk(adjuster, "RISK_DESC", size, backward=True) == want, size


def test_filters_by_age_customer_and_assignee_and_adjusters_assign_themselves(
        gql: Any, session_factory: Any) -> None:
    numbers = _claims(session_factory, [(Level.LOW, 0.1), (Level.LOW, 0.2), (Level.LOW, 0.3)])
    now = dt.datetime.now(dt.UTC)
    with transaction(session_factory) as s:
        rows = {c.number: c for c in s.query(Claim).filter(Claim.number.in_(numbers))}
        rows[numbers[0]].created_at = now - dt.timedelta(days=10)
        rows[numbers[1]].created_at = now - dt.timedelta(days=3)
        customer = encode_global_id("Customer", rows[numbers[2]].customer_id)
        ids = [encode_global_id("Claim", rows[n].id) for n in numbers]
    adjuster = gql(Role.ADJUSTER)

    def listed(f: dict[str, Any], who: Any = adjuster) -> list[str]:
        return sorted(n["number"] for n in nodes(who(QUEUE, {"f": f, "s": "OLDEST", "first": 10})["claims"]))

    assert listed({"minAgeDays": 5}) == [numbers[0]]
    assert listed({"minAgeDays": 2, "maxAgeDays": 5}) == [numbers[1]]
    assert listed({"maxAgeDays": 1}) == [numbers[2]]
    assert listed({"customerId": customer}) == [numbers[2]]

    took = adjuster(ASSIGN, {"i": {"claimId": ids[0], "assignee": "adjuster-test"}})["assignClaim"]
    assert took == {"claim": {"number": numbers[0], "assignee": "adjuster-test"}, "errors": []}
    refused = adjuster(ASSIGN, {"i": {"claimId": ids[1], "assignee": "someone-else"}})["assignClaim"]
    assert refused == {"claim": None, "errors": [{"field": "assignee", "code": "FORBIDDEN"}]}
    manager = gql(Role.MANAGER)
    assert manager(ASSIGN, {"i": {"claimId": ids[1], "assignee": "adj-2"}})["assignClaim"]["errors"] == []
    taken_by_other = adjuster(ASSIGN, {"i": {"claimId": ids[1], "assignee": "adjuster-test"}})["assignClaim"]
    assert taken_by_other["errors"] == [{"field": "assignee", "code": "FORBIDDEN"}]
    assert listed({"assignedToMe": True}) == [numbers[0]]
    assert listed({"assignedTo": "adj-2"}) == [numbers[1]]
    assert listed({"unassigned": True}) == [numbers[2]]
    back = adjuster(ASSIGN, {"i": {"claimId": ids[0], "assignee": None}})["assignClaim"]
    assert back["claim"]["assignee"] is None
    with transaction(session_factory) as s:
        s.query(Claim).filter(Claim.number == numbers[2]).one().state = ClaimState.CLOSED
    done = manager(ASSIGN, {"i": {"claimId": ids[2], "assignee": "adj-2"}})["assignClaim"]
    assert done["errors"] == [{"field": "claimId", "code": "INVALID_TRANSITION"}]
    customer_role = gql(Role.CUSTOMER, customer_id=1).post(QUEUE, {"f": {"unassigned": True}, "s": "OLDEST"})
    assert customer_role.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_the_postal_tracking_number_is_readable(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        claim = report(s, make_claim_policy(s, code="TRK"))
        doc_id = encode_global_id("ClaimDocument", add_invoice(s, claim).id)
    got = gql(Role.ADJUSTER)(RECORD, {"i": {"documentId": doc_id, "receivedOn": business_today().isoformat(),
                                           "trackingNumber": " SF1234567890 "}})["recordOriginalDocument"]
    assert got == {"document": {"originalReceivedOn": business_today().isoformat(),
                                "originalTracking": "SF1234567890"}, "errors": []}


def test_reminders_of_documents_past_due_are_sent_once_per_period(session_factory: Any) -> None:
    today = business_today()
    with transaction(session_factory) as s:
        claim = report(s, make_claim_policy(s, code="REM"))
        claim.state = ClaimState.DOCUMENTS_PENDING
        due = today + dt.timedelta(days=5)
        request = documents.request_document(s, principal=ADJUSTER, claim_id=claim.id, kind=DocumentKind.ID_CARD,
                                             due_on=due, note="", today=today)
        request_id, claim_id = request.id, claim.id
    day = dt.datetime.combine(due, dt.time(9), dt.UTC)
    runs = []
    for offset in (0, 1, 1, 1 + REMIND_EVERY_DAYS - 1, 1 + REMIND_EVERY_DAYS):
        with transaction(session_factory) as s:
            runs.append(remind_overdue(s, at=day + dt.timedelta(days=offset)))
    assert runs == [0, 1, 0, 0, 1]
    with transaction(session_factory) as s:
        row = s.get_one(DocumentRequest, request_id)
        assert (row.reminder_count, row.last_reminded_on) == (2, due + dt.timedelta(days=1 + REMIND_EVERY_DAYS))
        kinds = [e.reason_code for e in s.query(ClaimEvent).filter_by(claim_id=claim_id)]
        assert kinds.count("DOCUMENT_REMINDED") == 2
        doc = ClaimDocument(claim_id=claim_id, kind=DocumentKind.ID_CARD, filename="id.png", content_type="image/png",
                            size=1, sha256="0" * 64, storage_key="k", uploaded_by="t")
        s.add(doc)
        s.flush()
        row.fulfilled_by_id = doc.id
    with transaction(session_factory) as s:
        assert remind_overdue(s, at=day + dt.timedelta(days=30)) == 0
