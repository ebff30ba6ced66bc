"""The adjuster queue through a compiled plan (schema.fastexec) answers byte for byte like normal execution.

The first request of a (document, role) runs normally and compiles a plan; the second runs
the plan. Each case compares the raw HTTP bodies and checks that the plan answered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from resolvers.claims import service
from resolvers.claims.models import ClaimDocument, DocumentKind
from schema import fastexec
from tests.claim_factories import ADJUSTER, make_claim_policy, nodes, report
from tests.payment_factories import bank_round

NOW = dt.datetime.now(dt.UTC)

QUEUE = """
query AdjusterQueue($first: Int!) {
  claims(first: $first, filter: {states: [UNDER_REVIEW, INVESTIGATING]}) {
    edges {
      node {
        id number state claimedAmount approvedAmount paidAmount riskLevel riskScore
        riskHints { source code level score message }
        policy { number product { code } }
        customer { name }
        documents { edges { node { kind sha256 } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

FULL = """
query Everything($first: Int!, $after: String) {
  claims(first: $first, after: $after, sort: AMOUNT_DESC) {
    totalCount
    edges {
      cursor
      node {
        __typename id number state channel eventDate admissionDate dischargeDate hospital diagnosisCode
        claimedAmount approvedAmount paidAmount fastTrack decisionReason
        explanationOfBenefits { outcome claimed payable deductible copay annualLimit annualLimitUsed claimCodes
          summary lines { itemCode category claimed covered deductible copay payable codes } }
        duplicateSuspected submittedAt decidedAt slaDueAt reportedAt riskScore riskLevel rulesVersion version
        riskHints { source code level score message }
        policy { id number status contactPhone customer { name idNumber } product { code coverageItems { code } } }
        customer { id name idNumber phone email birthYear gender city version }
        documents { totalCount edges { cursor node { id kind filename contentType size sha256 anchoredRecord
          originalReceivedOn uploadedAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
        lineItems { itemCode category description quantity amount source approvedAmount reasonCode }
        documentRequests { totalCount edges { node { id kind dueOn note fulfilled } } }
        timeline { totalCount edges { node { at kind fromState toState reasonCode reason actor } } }
        newest: timeline(last: 2) { edges { cursor node { kind toState } } pageInfo { hasPreviousPage hasNextPage } }
        payments { totalCount edges { node { id seq amount payeeKind status idempotencyKey createdAt } } }
      }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


BACKWARD = """
query NewestFirstPage($last: Int!) {
  claims(last: $last, sort: NEWEST) {
    totalCount
    edges { cursor node { number timeline(first: 1) { totalCount edges { node { kind } } pageInfo { hasNextPage } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture
def queue(session_factory: Any) -> None:
    """Claims in review and investigation (with documents and risk hints), a fast-claim, a draft."""
    with transaction(session_factory) as s:
        for i in range(7):
            big = i % 3 != 0
            amount = Decimal("8000.00") if big else Decimal("800.00")
            items = [service.LineItemSpec("SURG-1", "inpatient", amount, 1)] if big else None
            policy = make_claim_policy(s, code=f"FQ{i}")
            claim = report(s, policy, amount=amount, items=items,
                           diagnosis="Z09" if i == 4 else "J18.9", days_ago=6 + i)
            if i == 6:
                continue  # stays a draft
            for n, kind in enumerate((DocumentKind.INVOICE, DocumentKind.DISCHARGE_SUMMARY)[: 1 + i % 2]):
                s.add(ClaimDocument(claim_id=claim.id, kind=kind, filename=f"d{i}-{n}.pdf",
                                    content_type="application/pdf", size=100 + i, sha256=f"{i}{n}" * 32,
                                    storage_key=f"k{i}{n}", uploaded_by="t"))
            s.flush()
            service.submit_claim(s, principal=ADJUSTER, claim_id=claim.id, expected_version=None,
                                 today=business_today(), now=NOW)
        bank_round(s, at=NOW)  # the fast claim's payout settles: it is PAID


CASES = [
    (QUEUE, {"first": 50}, Role.ADJUSTER),
    (QUEUE, {"first": 3}, Role.MANAGER),
    (FULL, {"first": 10}, Role.ADJUSTER),
    (FULL, {"first": 4}, Role.MANAGER),
    (FULL, {"first": 10}, Role.ANALYST),  # staff that sees personal fields masked
    (BACKWARD, {"last": 3}, Role.ADJUSTER),
]


@pytest.mark.parametrize(("query", "variables", "role"), CASES)
def test_queue_plan_answers_exactly_like_normal_execution(gql: Any, http: Any, queue: None, query: str,
                                                          variables: dict[str, Any], role: Role) -> None:
    client = gql(role)
    normal = client.post(query, variables)
    fast = client.post(query, variables)
    assert normal.status_code == fast.status_code == 200
    body = normal.json()
    assert "errors" not in body, body
    edges = body["data"]["claims"]["edges"]
    size: int = variables["first"] if "first" in variables else variables["last"]
    assert edges and len(edges) == min(size, 4 if query is QUEUE else 7)
    if query is QUEUE:
        assert all(e["node"]["riskHints"] and e["node"]["documents"]["edges"] for e in edges)
    if query is BACKWARD:
        assert body["data"]["claims"]["pageInfo"]["hasPreviousPage"] is True
        assert all(e["node"]["timeline"]["pageInfo"]["hasNextPage"] for e in edges)
    assert fast.content == normal.content
    stats = fastexec.plan_stats(http.app.state.schema)
    assert stats["compiled"] == 1 and stats["fast"] == 1 and stats["bail"] == 0


MINE = """
query Mine {
  claims(first: 20) {
    edges { node { number state decisionReasonCode decisionReason explanationOfBenefits { summary }
                   timeline { edges { node { at kind toState reasonCode reason } } }
                   payments { edges { node { amount payeeKind } } } } }
  }
}
"""


def test_a_customers_reasons_through_the_plan_follow_role_and_language(gql: Any, http: Any, queue: None,
                                                                       session_factory: Any) -> None:
    """Reasons are rendered per request: the plan compiled in Chinese answers English like normal execution."""
    from sqlalchemy import select

    from resolvers.claims.models import Claim

    with session_factory() as s:
        customer_id = s.scalar(select(Claim.customer_id).where(Claim.fast_track.is_(True)).limit(1))
    me = gql(Role.CUSTOMER, customer_id=customer_id)
    zh = me.post(MINE, None)
    zh_plan = me.post(MINE, None)
    en_plan = me.post(MINE, None, **{"accept-language": "en-US,en;q=0.9"})
    en = me.post(MINE + "\n", None, **{"accept-language": "en-US,en;q=0.9"})  # another document: runs normally
    assert zh.status_code == en.status_code == 200 and "errors" not in zh.json(), zh.json()
    assert zh_plan.content == zh.content and en_plan.content == en.content and en.content != zh.content
    node = en.json()["data"]["claims"]["edges"][0]["node"]
    assert node["decisionReasonCode"] == "FAST_CLAIM_APPROVED" and node["decisionReason"].startswith("Approved by fast")
    assert [e["reason"] for e in nodes(node["timeline"]) if e["reasonCode"] == "PAID"] == \
        ["Paid 270.00 to the insured."]
    assert zh.json()["data"]["claims"]["edges"][0]["node"]["explanationOfBenefits"]["summary"][0].startswith("BED-01")
    stats = fastexec.plan_stats(http.app.state.schema)
    assert stats["fast"] >= 2 and stats["bail"] == 0
