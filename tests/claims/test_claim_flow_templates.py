"""Claim flow templates per product and claim type: the documents a claim needs (requested at submission, the
claim waits for them) and investigation above an amount, whatever risk control says."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from core.auth import Role
from core.clock import business_today
from core.db import transaction
from resolvers.claims import service
from resolvers.claims.models import Claim, ClaimState, DocumentKind, DocumentRequest
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER, add_invoice, make_claim_policy, report

SET = """mutation($i: ClaimFlowTemplateInput!) { setClaimFlowTemplate(input: $i) {
  template { claimType requiredDocuments investigateAbove version } errors { field code } } }"""
LIST = """query($p: ID!) { claimFlowTemplates(productId: $p) { claimType requiredDocuments investigateAbove } }"""


def _claim(s: Any, policy: Any, amount: str, *, stay: bool = True) -> Claim:
    claim = report(s, policy, amount=Decimal(amount), items=[service.LineItemSpec("X", "inpatient", Decimal(amount))])
    add_invoice(s, claim)
    if not stay:
        claim.discharge_date = claim.admission_date
    return claim


def _submit(session_factory: Any, claim_id: int) -> Claim:
    with transaction(session_factory) as s:
        return service.submit_claim(s, principal=ADJUSTER, claim_id=claim_id, expected_version=None,
                                    today=business_today(), now=dt.datetime.now(dt.UTC))


def test_submission_follows_the_template_of_its_product_and_type(gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        small = _claim(s, policy, "800.00")
        product = encode_global_id("Product", policy.product_id)
        large_policy = make_claim_policy(s)  # the large claim: the same product, its own insured
        large_policy.product_id = policy.product_id
        large = _claim(s, large_policy, "6000.00")
        day_case = _claim(s, make_claim_policy(s), "800.00", stay=False)  # another product, no template
        ids = {"small": small.id, "large": large.id, "day": day_case.id}
    manager = gql(Role.MANAGER)
    template = {"productId": product, "claimType": "INPATIENT", "requiredDocuments": ["INVOICE", "DISCHARGE_SUMMARY"],
                "investigateAbove": "5000.00"}
    got = manager(SET, {"i": template})["setClaimFlowTemplate"]
    assert got == {"template": {"claimType": "INPATIENT", "requiredDocuments": ["INVOICE", "DISCHARGE_SUMMARY"],
                                "investigateAbove": "5000.00", "version": 1}, "errors": []}
    assert gql(Role.ADJUSTER)(LIST, {"p": product})["claimFlowTemplates"] == [
        {"claimType": "INPATIENT", "requiredDocuments": ["INVOICE", "DISCHARGE_SUMMARY"], "investigateAbove": "5000.00"}]

    waiting = _submit(session_factory, ids["small"])
    assert waiting.state is ClaimState.DOCUMENTS_PENDING
    with transaction(session_factory) as s:
        asked = [r.kind for r in s.query(DocumentRequest).filter_by(claim_id=ids["small"])]
        assert asked == [DocumentKind.DISCHARGE_SUMMARY]
    investigated = _submit(session_factory, ids["large"])
    assert investigated.state is ClaimState.INVESTIGATING
    with transaction(session_factory) as s:
        assert s.get_one(Claim, ids["large"]).risk_level is not None
    untouched = _submit(session_factory, ids["day"])  # no template: the usual route (fast claim here)
    assert untouched.state is not ClaimState.DOCUMENTS_PENDING


def test_only_managers_set_templates_and_bad_input_is_refused_whole(gql: Any, session_factory: Any) -> None:
    template = {"productId": encode_global_id("Product", 999999), "claimType": "OUTPATIENT",
                "requiredDocuments": ["INVOICE", "INVOICE"], "investigateAbove": "-1.00"}
    refused = gql(Role.MANAGER)(SET, {"i": template})["setClaimFlowTemplate"]
    assert {(e["field"], e["code"]) for e in refused["errors"]} == {
        ("productId", "NOT_FOUND"), ("investigateAbove", "INVALID"), ("requiredDocuments", "INVALID")}
    forbidden = gql(Role.ADJUSTER).post(SET, {"i": template})
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
