"""No oracles: a customer's claim mutations answer the same for another's rows as for rows that do not exist.

The visibility check runs before anything about the row (dates, state, version), so the
answer cannot say whether a foreign policy or claim exists, is in force, or is open.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.auth import Role
from core.db import transaction
from resolvers.claims import service
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, make_claim_policy, report

REPORT = """mutation($input: ReportClaimInput!) { reportClaim(input: $input) { claim { id } errors { field code message } } }"""
ITEMS = """mutation($input: SetLineItemsInput!) { setClaimLineItems(input: $input) {
  claim { id } errors { field code message } } }"""
SUBMIT = """mutation($input: ClaimActionInput!) { submitClaim(input: $input) { claim { id } errors { field code message } } }"""
MISSING = 10**9


def _report_input(policy_gid: str, *, days_ago: int) -> dict[str, Any]:
    day = dt.date.today() - dt.timedelta(days=days_ago)
    return {"policyId": policy_gid, "eventDate": day.isoformat(), "admissionDate": day.isoformat(),
            "dischargeDate": (day + dt.timedelta(days=1)).isoformat(), "hospital": "杭州市第一人民医院",
            "diagnosisCode": "J18.9", "claimedAmount": "800.00"}


def test_foreign_policies_and_claims_answer_like_missing_ones(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        mine = make_claim_policy(s, code="OR-MINE")
        theirs = make_claim_policy(s, code="OR-THEIRS")
        young = make_claim_policy(s, code="OR-YOUNG", issued_days_ago=1)  # not in force on the event date
        their_draft = report(s, theirs)
        their_submitted = report(s, theirs, days_ago=30, hospital="上海市第六人民医院", items=[])
        service.submit_claim(s, principal=ADJUSTER, claim_id=their_submitted.id, expected_version=None,
                             today=dt.date.today(), now=dt.datetime.now(dt.UTC))
        customer_id = mine.customer_id
    me = gql(Role.CUSTOMER, customer_id=customer_id)

    reported = {
        name: me(REPORT, {"input": _report_input(encode_global_id("Policy", pk), days_ago=days)})["reportClaim"]
        for name, pk, days in [("missing", MISSING, 3), ("foreign", theirs.id, 3),
                               ("foreign, not in force", young.id, 3), ("missing, future date", MISSING, -5),
                               ("foreign, future date", theirs.id, -5)]}
    not_found = {"field": "policyId", "code": "NOT_FOUND", "message": "policy not found"}
    assert {name: r["errors"] for name, r in reported.items() if "future" not in name} == {
        name: [not_found] for name in ("missing", "foreign", "foreign, not in force")}
    # every refusal of the input at once, the same for a foreign policy as for a missing one
    assert reported["foreign, future date"]["errors"] == reported["missing, future date"]["errors"] == [
        not_found, {"field": "eventDate", "code": "DATE_IN_FUTURE", "message": "the event date is in the future"},
        {"field": "dischargeDate", "code": "DATE_IN_FUTURE", "message": "the discharge date is in the future"}]

    item = [{"itemCode": "BED-01", "category": "inpatient", "amount": "800.00"}]
    for mutation, key, extra in [(ITEMS, "setClaimLineItems", {"items": item}), (SUBMIT, "submitClaim", {})]:
        answers = {
            name: me(mutation, {"input": {"claimId": encode_global_id("Claim", pk), "expectedVersion": 99,
                                          **extra}})[key]["errors"]
            for name, pk in [("missing", MISSING), ("foreign draft", their_draft.id),
                             ("foreign, other state", their_submitted.id)]}
        assert answers == {name: [{"field": "claimId", "code": "NOT_FOUND", "message": "claim not found"}]
                           for name in answers}, key
