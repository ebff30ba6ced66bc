"""Partner qualification review surfaced to claims managers: each assessor firm's qualification state,
expiry and figures; renewal and suspension decided through the partner registry (maker-checker, events),
a suspended firm getting no new work; every bad decision a typed error; the same over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from core.auth import Principal, Role
from core.clock import MovableClock, moved_clock
from core.db import transaction
from core.errors import DomainError
from core.event_stream.outbox import read_events
from partners import review
from partners.models import PartnerKind
from partners.service import LicenceSpec
from resolvers.investigations import qualification as q
from resolvers.investigations import service
from resolvers.investigations.qualification import QualificationDecision as D
from resolvers.investigations.qualification import QualificationState as S
from schema.relay import encode_global_id
from tests.claim_factories import ADJUSTER
from tests.investigation_factories import MANAGER, T0, make_firm, request, review_claim
from tests.partner_factories import CHECKER, make_partner

TODAY = dt.date(2026, 11, 23)  # T0's business date
OTHER_MANAGER = Principal(subject="claims-manager-2", role=Role.MANAGER)


def _renewal(until: dt.date, number: str = "LIC-RENEWED") -> LicenceSpec:
    return LicenceSpec(number, "NFRA", TODAY, until)


def _by_id(s: Any, **kw: Any) -> dict[int, q.FirmQualification]:
    return {row.partner_id: row for row in q.qualifications(s, now=T0, **kw)}


def _firms(s: Any) -> dict[str, int]:
    ok, _ = make_firm(s)
    due = make_partner(s, licence_until=TODAY + dt.timedelta(days=17))
    lapsed = make_partner(s, licence_until=TODAY - dt.timedelta(days=22))
    pending = make_partner(s, approved=False)
    suspended, _ = make_firm(s)
    review.suspend(s, principal=CHECKER, partner_id=suspended.id, reason="sla_breaches", now=T0)
    make_partner(s, kind=PartnerKind.HOSPITAL)  # not an assessor firm: never listed
    return {"ok": ok.id, "due": due.id, "lapsed": lapsed.id, "pending": pending.id, "suspended": suspended.id}


def test_each_assessor_firm_reads_as_its_qualification_state_with_expiry_and_figures(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        ids = _firms(s)
        inv = request(s, review_claim(s))
        service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=ids["ok"], expected_version=None,
                       now=T0 - dt.timedelta(days=1))
        rows = _by_id(s)
        assert {name: rows[pid].state for name, pid in ids.items()} == {
            "ok": S.APPROVED, "due": S.DUE_FOR_REVIEW, "lapsed": S.EXPIRED, "pending": S.PENDING_REVIEW,
            "suspended": S.SUSPENDED}
        assert len(rows) == 5  # the hospital is no assessor firm
        assert rows[ids["due"]].qualified_until == TODAY + dt.timedelta(days=17) and rows[ids["due"]].days_left == 17
        assert rows[ids["lapsed"]].days_left == -22
        assert rows[ids["ok"]].performance is not None and rows[ids["ok"]].performance.offers == 1
        assert rows[ids["due"]].performance is None
        # the review list: due or lapsed; a narrower window leaves the due firm out
        assert set(_by_id(s, states={S.DUE_FOR_REVIEW, S.EXPIRED})) == {ids["due"], ids["lapsed"]}
        assert _by_id(s, due_within_days=10)[ids["due"]].state is S.APPROVED
        with pytest.raises(DomainError):
            q.qualifications(s, now=T0, due_within_days=400)


def test_renewal_moves_the_expiry_and_suspension_stops_new_assignments_through_the_registry(
        session_factory: Any) -> None:
    with transaction(session_factory) as s:
        head = max((e.id for e in read_events(s, after=0, limit=100_000)), default=0)
    with transaction(session_factory) as s:
        ids = _firms(s)
        renewed = q.review_qualification(s, principal=MANAGER, partner_id=ids["due"], decision=D.RENEW,
                                         licence=_renewal(dt.date(2027, 12, 31)), now=T0)
        assert renewed.state is S.APPROVED and renewed.qualified_until == dt.date(2027, 12, 31)

        cut = q.review_qualification(s, principal=MANAGER, partner_id=ids["ok"], decision=D.SUSPEND,
                                     suspension_reason=q.SuspensionReason.QUALITY_BELOW_STANDARD, now=T0)
        assert cut.state is S.SUSPENDED
        inv = request(s, review_claim(s))
        with pytest.raises(DomainError) as err:
            service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=ids["ok"],
                           expected_version=None, now=T0)
        assert err.value.code == "FIRM_SUSPENDED"

        # a suspended firm renewed is reviewed and approved again (the registry's moves), and gets work
        back = q.review_qualification(s, principal=MANAGER, partner_id=ids["suspended"], decision=D.RENEW, now=T0)
        assert back.state is S.APPROVED
        assigned = service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=ids["suspended"],
                                  expected_version=None, now=T0)
        assert assigned.state.value == "assigned"

    with transaction(session_factory) as s:
        events = [e for e in read_events(s, after=head, limit=1000)
                  if e.type == "investigation.firm_qualification_reviewed"]
        assert [(e.payload.partner_id, e.payload.decision, e.payload.from_state, e.payload.state)
                for e in events] == [
            (ids["due"], "renew", "due_for_review", "approved"), (ids["ok"], "suspend", "approved", "suspended"),
            (ids["suspended"], "renew", "suspended", "approved")]
        assert events[1].payload.suspension_reason == "quality_below_standard"
        statuses = [e.payload.to_status for e in read_events(s, after=head, limit=1000)
                    if e.type.startswith("partner.") and getattr(e.payload, "partner_id", None) == ids["suspended"]
                    and hasattr(e.payload, "to_status")]
        assert statuses[-3:] == ["suspended", "reviewing", "approved"]


def test_an_expired_firm_renewed_waits_for_a_second_reviewer(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        ids = _firms(s)
        assert review.expire_due_partners(s, now=T0) == 1
        resubmitted = q.review_qualification(s, principal=MANAGER, partner_id=ids["lapsed"], decision=D.RENEW,
                                             licence=_renewal(dt.date(2027, 11, 30)), now=T0)
        assert resubmitted.state is S.PENDING_REVIEW
        with pytest.raises(DomainError) as err:  # maker-checker: the resubmitter may not approve
            q.review_qualification(s, principal=MANAGER, partner_id=ids["lapsed"], decision=D.RENEW, now=T0)
        assert err.value.code == "MAKER_CHECKER"
        approved = q.review_qualification(s, principal=OTHER_MANAGER, partner_id=ids["lapsed"], decision=D.RENEW,
                                          now=T0)
        assert approved.state is S.APPROVED and approved.qualified_until == dt.date(2027, 11, 30)


@pytest.mark.parametrize(("firm", "kw", "code"), [
    ("due", {"decision": D.RENEW}, "LICENCE_REQUIRED"),
    ("due", {"decision": D.RENEW, "licence": _renewal(TODAY)}, "BAD_PERIOD"),
    ("ok", {"decision": D.SUSPEND}, "REASON_REQUIRED"),
    ("pending", {"decision": D.SUSPEND, "suspension_reason": q.SuspensionReason.OTHER}, "INVALID_TRANSITION"),
    ("hospital", {"decision": D.RENEW}, "FIRM_NOT_QUALIFIED"),
    ("ok", {"decision": D.RENEW, "licence": _renewal(dt.date(2030, 1, 1)), "expected_version": 1}, "STALE_VERSION"),
    ("pending", {"decision": D.RENEW, "licence": _renewal(dt.date(2030, 1, 1))}, None),
])
def test_each_bad_decision_is_a_typed_refusal_that_changes_nothing(
        session_factory: Any, firm: str, kw: dict[str, Any], code: str | None) -> None:
    with transaction(session_factory) as s:
        ids = _firms(s)
        ids["hospital"] = make_partner(s, kind=PartnerKind.HOSPITAL).id
        before = {pid: row.state for pid, row in _by_id(s).items()}
        if code is None:
            assert q.review_qualification(s, principal=MANAGER, partner_id=ids[firm], now=T0, **kw).state \
                is S.APPROVED
            return
        with pytest.raises(DomainError) as err, s.begin_nested():
            q.review_qualification(s, principal=MANAGER, partner_id=ids[firm], now=T0, **kw)
        assert err.value.code == code
        assert {pid: row.state for pid, row in _by_id(s).items()} == before


LIST = """query($states: [FirmQualificationState!]) { assessorFirmQualifications(states: $states) { totalCount
  edges { node { id state qualifiedUntil daysLeft version firm { id code status }
  performance { offers onTimeRate acceptanceRate reviewAcceptanceRate } } } } }"""
DECIDE = """mutation($input: ReviewFirmQualificationInput!) { reviewFirmQualification(input: $input) {
  qualification { state qualifiedUntil firm { status } } errors { field code } } }"""


@pytest.fixture
def clock() -> Iterator[MovableClock]:
    with moved_clock(T0) as c:
        yield c


def test_claims_managers_review_firm_qualification_over_http(
        gql: Any, session_factory: Any, clock: MovableClock) -> None:
    with transaction(session_factory) as s:
        ids = _firms(s)
    manager, adjuster = gql(Role.MANAGER), gql(Role.ADJUSTER)
    due = manager(LIST, {"states": ["DUE_FOR_REVIEW", "EXPIRED"]})["assessorFirmQualifications"]
    assert due["totalCount"] == 2
    states = {e["node"]["firm"]["id"]: e["node"]["state"] for e in due["edges"]}
    firm_id = encode_global_id("Partner", ids["due"])
    assert states == {firm_id: "DUE_FOR_REVIEW", encode_global_id("Partner", ids["lapsed"]): "EXPIRED"}
    assert adjuster.post(LIST).json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    refused = manager(DECIDE, {"input": {"firmId": firm_id, "decision": "RENEW"}})["reviewFirmQualification"]
    assert refused == {"qualification": None, "errors": [{"field": "licence", "code": "LICENCE_REQUIRED"}]}
    renewed = manager(DECIDE, {"input": {"firmId": firm_id, "decision": "RENEW", "licence": {
        "number": "NFRA-2027-88", "issuer": "NFRA Zhejiang", "validFrom": "2026-11-23", "validUntil": "2027-12-31"}}})
    assert renewed["reviewFirmQualification"] == {"errors": [], "qualification": {
        "state": "APPROVED", "qualifiedUntil": "2027-12-31", "firm": {"status": "APPROVED"}}}
    cut = manager(DECIDE, {"input": {"firmId": firm_id, "decision": "SUSPEND", "suspensionReason": "SLA_BREACHES"}})
    assert cut["reviewFirmQualification"]["qualification"]["state"] == "SUSPENDED"
    forbidden = adjuster.post(DECIDE, {"input": {"firmId": firm_id, "decision": "SUSPEND",
                                                 "suspensionReason": "OTHER"}}).json()
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
