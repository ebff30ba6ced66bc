"""Investigations through their services: request, assignment, the firm's answer, trail, report, review."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.calendar import default_calendar
from core.clock import moved_clock
from core.db import transaction
from core.errors import DomainError, DomainErrors, each_error
from ledger import service as ledger
from ledger.contract import RecordKind
from partners import review
from partners.models import PartnerKind
from resolvers.claims import service as claims
from resolvers.claims.models import ClaimEvent, ClaimState
from resolvers.claims.reasons import render_reason
from resolvers.investigations import dispatch, firms, service
from resolvers.investigations.models import (
    AssignmentState,
    DeclineReason,
    EventKind,
    InvestigationAssignment,
    InvestigationCheck,
    InvestigationEvent,
    InvestigationState,
    InvestigationTrigger,
    ReviewOutcome,
)
from tests.claim_factories import ADJUSTER
from tests.investigation_factories import (
    HANGZHOU,
    T0,
    firm_principal,
    make_firm,
    request,
    review_claim,
    risky_claim,
    survey_report,
)
from tests.partner_factories import CHECKER, DOMAIN

#: Christmas Eve of the last year the calendar answers for: ten business days on fall past it.
PAST_THE_CALENDAR = dt.datetime(default_calendar().answered_years.stop - 1, 12, 24, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with moved_clock(T0):
        yield


def _codes(err: DomainError) -> list[str]:
    return sorted(e.code for e in each_error(err))


def _offers(s: Any, inv_id: int) -> list[InvestigationAssignment]:
    return list(s.scalars(select(InvestigationAssignment).where(InvestigationAssignment.investigation_id == inv_id)
                          .order_by(InvestigationAssignment.id)))


def test_an_adjuster_requests_an_investigation_and_the_claim_moves_to_investigating(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        claim = review_claim(s)
        inv = request(s, claim, report_due_on=dt.date(2026, 12, 1))
        assert inv.state is InvestigationState.PENDING and inv.trigger is InvestigationTrigger.ADJUSTER
        assert claims.get_claim(s, principal=ADJUSTER, claim_id=claim.id).state is ClaimState.INVESTIGATING
        # the adjuster's date (Tue 1 Dec, close of business in Beijing) is before the default ten business days
        assert inv.report_due_at == dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
        with pytest.raises(DomainError) as err:
            request(s, claim)
        assert _codes(err.value) == ["INVESTIGATION_OPEN"]


def test_every_bad_input_of_a_request_at_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        claim = review_claim(s)
        with pytest.raises(DomainErrors) as err:
            request(s, claim, checks=[], region="Hangzhou", report_due_on=T0.date())
        assert _codes(err.value) == ["BAD_REGION", "DUE_DATE_PASSED", "NO_CHECKS"]
        with pytest.raises(DomainError) as one:
            # ten business days from Christmas Eve reach a year the calendar does not answer for
            request(s, claim, now=PAST_THE_CALENDAR)
        assert _codes(one.value) == ["CALENDAR_UNKNOWN_YEAR"]
        assert claims.get_claim(s, principal=ADJUSTER, claim_id=claim.id).state is ClaimState.UNDER_REVIEW


def test_auto_assignment_picks_the_best_qualified_firm_with_room(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        good, _ = make_firm(s, quality="95", capacity=2)
        make_firm(s, quality="60", capacity=2)
        elsewhere, _ = make_firm(s, quality="99", regions=("110100",))
        suspended, _ = make_firm(s, quality="100")
        review.suspend(s, principal=CHECKER, partner_id=suspended.id, reason="licence lapsed", now=T0)
        invs = [request(s, review_claim(s)) for _ in range(3)]
        chosen = []
        for inv in invs:
            service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=None, expected_version=None,
                           now=T0)
            chosen.append(_offers(s, inv.id)[-1].partner_id)
        # quality first, then free room: the 95 firm twice would leave it full, the 60 firm is fresher by then
        assert chosen[0] == good.id and elsewhere.id not in chosen and suspended.id not in chosen
        assert all(inv.state is InvestigationState.ASSIGNED for inv in invs)
        loads = firms.loads(s)
        assert all(n <= 2 for n in loads.values()) and sum(loads.values()) == 3
        fourth = request(s, review_claim(s))
        service.assign(s, principal=ADJUSTER, investigation_id=fourth.id, partner_id=None, expected_version=None,
                       now=T0)
        assert sorted(firms.loads(s).values()) == [2, 2]
        inv = request(s, review_claim(s))
        with pytest.raises(DomainError) as err:  # both Hangzhou firms are full now
            service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=None, expected_version=None,
                           now=T0)
        assert err.value.code == "NO_FIRM_AVAILABLE"


def test_assigning_by_hand_to_a_suspended_unqualified_or_full_firm_is_refused(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        full, _ = make_firm(s, capacity=1)
        suspended, _ = make_firm(s)
        review.suspend(s, principal=CHECKER, partner_id=suspended.id, reason="audit finding", now=T0)
        far, _ = make_firm(s, regions=("440300",))
        hospital, _ = make_firm(s, kind=PartnerKind.HOSPITAL)
        first = request(s, review_claim(s))
        service.assign(s, principal=ADJUSTER, investigation_id=first.id, partner_id=full.id, expected_version=None,
                       now=T0)
        inv = request(s, review_claim(s))
        refusals = {}
        for partner in (full, suspended, far, hospital):
            with pytest.raises(DomainError) as err:
                service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=partner.id,
                               expected_version=None, now=T0)
            refusals[partner.id] = err.value.code
        assert refusals == {full.id: "FIRM_FULL", suspended.id: "FIRM_SUSPENDED", far.id: "FIRM_NOT_QUALIFIED",
                            hospital.id: "FIRM_NOT_QUALIFIED"}
        assert inv.state is InvestigationState.PENDING and _offers(s, inv.id) == []


def test_accept_once_decline_with_a_reason_and_reassignment_keeps_the_history(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        a, _ = make_firm(s, quality="90")
        b, _ = make_firm(s, quality="70")
        c, _ = make_firm(s, quality="50")
        inv = request(s, review_claim(s))
        service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=None, expected_version=None, now=T0)
        offer_a = _offers(s, inv.id)[-1]
        assert offer_a.partner_id == a.id
        service.decline_offer(s, principal=firm_principal(a), assignment_id=offer_a.id,
                              reason=DeclineReason.CONFLICT_OF_INTEREST, now=T0)
        assert inv.state is InvestigationState.PENDING
        with pytest.raises(DomainError) as err:  # a declined offer stays declined
            service.accept_offer(s, principal=firm_principal(a), assignment_id=offer_a.id, now=T0)
        assert err.value.code == "OFFER_CLOSED"
        service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=None, expected_version=None, now=T0)
        offer_b = _offers(s, inv.id)[-1]
        assert offer_b.partner_id == b.id  # the decliner is not offered the same investigation again
        with pytest.raises(DomainError) as other:  # another firm cannot answer b's offer
            service.accept_offer(s, principal=firm_principal(c), assignment_id=offer_b.id, now=T0)
        assert other.value.code == "NOT_FOUND"
        service.accept_offer(s, principal=firm_principal(b), assignment_id=offer_b.id, now=T0)
        assert inv.state is InvestigationState.IN_PROGRESS
        assert inv.visit_due_at == dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)  # two business days, 18:00
        with pytest.raises(DomainError) as twice:
            service.accept_offer(s, principal=firm_principal(b), assignment_id=offer_b.id, now=T0)
        assert twice.value.code == "ALREADY_ACCEPTED"
        service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=c.id, expected_version=None,
                       now=T0)
        history = [(o.partner_id, o.state, o.decline_reason) for o in _offers(s, inv.id)]
        assert history == [(a.id, AssignmentState.DECLINED, DeclineReason.CONFLICT_OF_INTEREST),
                           (b.id, AssignmentState.WITHDRAWN, None), (c.id, AssignmentState.OFFERED, None)]
        assert inv.state is InvestigationState.ASSIGNED


def _in_progress(s: Any) -> tuple[Any, Any, Any, Any]:
    firm, account = make_firm(s)
    claim = risky_claim(s)
    inv = service.request_for_risk(s, claim_id=claim.id, rules=["VERY_EARLY_CLAIM"], now=T0, region=HANGZHOU)
    assert inv is not None and inv.trigger is InvestigationTrigger.RISK_RULE and inv.rules == ["VERY_EARLY_CLAIM"]
    assert service.request_for_risk(s, claim_id=claim.id, rules=["X"], now=T0) is None  # one open at a time
    service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=None, expected_version=None, now=T0)
    offer = _offers(s, inv.id)[-1]
    service.accept_offer(s, principal=firm_principal(firm), assignment_id=offer.id, now=T0)
    return firm, account, inv, offer


def test_trail_events_are_ledger_records_with_nothing_personal(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, _, inv, _ = _in_progress(s)
        note = "met Dr. Wang Fang at the ward; patient 张伟 confirmed the stay"
        visit = service.record_trail_event(
            s, principal=firm_principal(firm), investigation_id=inv.id, kind=EventKind.VISIT,
            occurred_at=T0 + dt.timedelta(hours=1), note=note, finding_code=None, firm_code=firm.code,
            now=T0 + dt.timedelta(hours=2))
        finding = service.record_trail_event(
            s, principal=firm_principal(firm), investigation_id=inv.id, kind=EventKind.FINDING,
            occurred_at=T0 + dt.timedelta(hours=2), note=None, finding_code="STAY_CONFIRMED", firm_code=firm.code,
            now=T0 + dt.timedelta(hours=2))
        assert inv.first_visit_at == T0 + dt.timedelta(hours=1)
        for event in (visit, finding):
            record = ledger.get_record(s, record_id=event.ledger_record_id)
            assert record.kind == RecordKind.INVESTIGATION_EVENT and record.commitment == event.commitment
            assert ledger.verify_record(s, record_id=record.id)
        body = ledger.record_body(ledger.get_record(s, record_id=visit.ledger_record_id))
        assert body is not None and body["caseRef"] == service.reference(inv.id) and body["event"] == "visit"
        text = json.dumps(body, ensure_ascii=False)
        assert "Wang" not in text and "张伟" not in text and len(body["noteSha256"]) == 64
        stored = s.scalar(select(InvestigationEvent).where(InvestigationEvent.id == visit.id))
        assert stored is not None and stored.note == note  # sealed at rest, read back whole
        with pytest.raises(DomainErrors) as err:
            service.record_trail_event(
                s, principal=firm_principal(firm), investigation_id=inv.id, kind=EventKind.FINDING,
                occurred_at=T0 + dt.timedelta(days=3), note=None, finding_code=None, firm_code=firm.code, now=T0)
        assert _codes(err.value) == ["DATE_IN_FUTURE", "FINDING_CODE_REQUIRED"]
        other, _ = make_firm(s)
        with pytest.raises(DomainError) as stranger:
            service.record_trail_event(
                s, principal=firm_principal(other), investigation_id=inv.id, kind=EventKind.CALL,
                occurred_at=T0, note=None, finding_code=None, firm_code=other.code, now=T0)
        assert stranger.value.code == "NOT_FOUND"  # not offered to them: invisible


def test_the_signed_report_closes_the_trail_and_the_review_resumes_the_claim(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, account, inv, offer = _in_progress(s)
        typed, sig = survey_report(account, inv, offer)
        service.submit_survey_report(s, principal=firm_principal(firm), investigation_id=inv.id, domain=DOMAIN,
                                     typed_data=typed, signature=sig, now=T0 + dt.timedelta(hours=3))
        assert inv.state is InvestigationState.REPORTED and inv.survey_record_id is not None
        assert offer.report_on_time is True
        service.review_report(s, principal=ADJUSTER, investigation_id=inv.id, outcome=ReviewOutcome.MORE_REQUESTED,
                              note="photos of the ward log, please", expected_version=None, now=T0)
        assert inv.state is InvestigationState.IN_PROGRESS and offer.more_requested == 1
        typed2, sig2 = survey_report(account, inv, offer)
        service.submit_survey_report(s, principal=firm_principal(firm), investigation_id=inv.id, domain=DOMAIN,
                                     typed_data=typed2, signature=sig2, now=T0 + dt.timedelta(hours=4))
        service.review_report(s, principal=ADJUSTER, investigation_id=inv.id, outcome=ReviewOutcome.ACCEPTED,
                              note=None, expected_version=None, now=T0 + dt.timedelta(hours=5))
        assert inv.state is InvestigationState.COMPLETED and offer.state is AssignmentState.DONE
        claim = claims.get_claim(s, principal=ADJUSTER, claim_id=inv.claim_id)
        assert claim.state is ClaimState.UNDER_REVIEW
        # the resume is a reason code with parameters, worded per reader: never prose in the timeline
        resumed = s.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)
                            .order_by(ClaimEvent.id.desc()).limit(1)).one()
        assert (resumed.to_state, resumed.reason_code, resumed.reason_params) == (
            "under_review", "INVESTIGATION_CONCLUDED",
            {"investigation": service.reference(inv.id), "reportOutcome": "accepted"})
        staff = render_reason(resumed.reason_code, resumed.reason_params, role="adjuster", locale="en")
        assert service.reference(inv.id) in staff and "accepted" in staff
        for role in ("customer", "partner"):
            worded = render_reason(resumed.reason_code, resumed.reason_params, role=role, locale="en")
            assert service.reference(inv.id) not in worded and "accepted" not in worded
        with pytest.raises(DomainError) as again:
            service.review_report(s, principal=ADJUSTER, investigation_id=inv.id, outcome=ReviewOutcome.REJECTED,
                                  note=None, expected_version=None, now=T0)
        assert again.value.code == "INVALID_TRANSITION"


def test_a_survey_report_from_a_firm_not_assigned_is_refused(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, account, inv, offer = _in_progress(s)
        other, other_account = make_firm(s)
        service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=other.id, expected_version=None,
                       now=T0)  # reassigned: the first firm's registry assignment is still active there
        typed, sig = survey_report(account, inv, offer)
        with pytest.raises(DomainError) as err:
            service.submit_survey_report(s, principal=firm_principal(firm), investigation_id=inv.id, domain=DOMAIN,
                                         typed_data=typed, signature=sig, now=T0)
        assert err.value.code == "NOT_ASSIGNED"
        new_offer = _offers(s, inv.id)[-1]
        service.accept_offer(s, principal=firm_principal(other), assignment_id=new_offer.id, now=T0)
        stale, stale_sig = survey_report(other_account, inv, offer)  # names the withdrawn offer
        with pytest.raises(DomainError) as wrong:
            service.submit_survey_report(s, principal=firm_principal(other), investigation_id=inv.id,
                                         domain=DOMAIN, typed_data=stale, signature=stale_sig, now=T0)
        assert wrong.value.code == "NOT_ASSIGNED"
        assert inv.state is InvestigationState.IN_PROGRESS and inv.survey_record_id is None


def test_the_risk_round_opens_investigations_and_the_dispatch_round_offers_them(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, _ = make_firm(s, regions=(HANGZHOU, "110100"), capacity=10)
        risky = [risky_claim(s).id for _ in range(2)]
    with transaction(session_factory) as s:
        assert dispatch.open_for_risky_claims(s, now=T0) == 2
        assert dispatch.open_for_risky_claims(s, now=T0) == 0  # idempotent
    with transaction(session_factory) as s:
        assert dispatch.dispatch_pending(s, now=T0) == (2, 0)
        assert dispatch.dispatch_pending(s, now=T0) == (0, 0)
        rows = list(s.scalars(service.investigations_query(ADJUSTER)))
        assert sorted(r.claim_id for r in rows) == sorted(risky)
        assert {_offers(s, r.id)[-1].partner_id for r in rows} == {firm.id}


def test_offers_expire_after_four_business_hours_and_misses_escalate_once(session_factory: Any) -> None:
    friday_5pm = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)  # 17:00 in Beijing
    with transaction(session_factory) as s:
        late, _ = make_firm(s, quality="90")
        make_firm(s, quality="50")
        inv = request(s, review_claim(s), now=friday_5pm)
        service.assign(s, principal=ADJUSTER, investigation_id=inv.id, partner_id=None, expected_version=None,
                       now=friday_5pm)
        offer = _offers(s, inv.id)[-1]
        # one business hour on Friday, three on Monday morning (the weekend does not count)
        assert offer.accept_due_at == dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.UTC)
        inv_id = inv.id
    with transaction(session_factory) as s:
        assert dispatch.check_slas(s, now=dt.datetime(2026, 11, 30, 3, 59, tzinfo=dt.UTC)) == 0
    monday_noon = dt.datetime(2026, 11, 30, 4, 1, tzinfo=dt.UTC)
    with transaction(session_factory) as s:
        assert dispatch.check_slas(s, now=monday_noon) == 1
        assert dispatch.check_slas(s, now=monday_noon) == 0
        inv = service.get_investigation(s, principal=ADJUSTER, investigation_id=inv_id)
        assert inv.state is InvestigationState.PENDING and inv.escalation_level == 1
        assert _offers(s, inv_id)[0].state is AssignmentState.EXPIRED
        assert dispatch.dispatch_pending(s, now=monday_noon) == (1, 0)
        assert _offers(s, inv_id)[-1].partner_id != late.id  # the firm that let it expire is not asked again
        later = _offers(s, inv_id)[-1]
        firm_id = later.partner_id
        service.accept_offer(s, principal=firm_principal(firm_id), assignment_id=later.id, now=monday_noon)
    after_visit_due = dt.datetime(2026, 12, 2, 10, 1, tzinfo=dt.UTC)  # Wed 18:01
    with transaction(session_factory) as s:
        assert dispatch.check_slas(s, now=after_visit_due) == 1  # no first visit by Wednesday's close
        assert dispatch.check_slas(s, now=after_visit_due) == 0
        assert service.get_investigation(s, principal=ADJUSTER, investigation_id=inv_id).escalation_level == 2


def test_firm_performance_per_period(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, account, inv, offer = _in_progress(s)
        typed, sig = survey_report(account, inv, offer)
        service.submit_survey_report(s, principal=firm_principal(firm), investigation_id=inv.id, domain=DOMAIN,
                                     typed_data=typed, signature=sig, now=T0)
        service.review_report(s, principal=ADJUSTER, investigation_id=inv.id, outcome=ReviewOutcome.ACCEPTED,
                              note=None, expected_version=None, now=T0)
        second = request(s, review_claim(s))
        service.assign(s, principal=ADJUSTER, investigation_id=second.id, partner_id=firm.id, expected_version=None,
                       now=T0)
        service.decline_offer(s, principal=firm_principal(firm), assignment_id=_offers(s, second.id)[-1].id,
                              reason=DeclineReason.NO_CAPACITY, now=T0)
        (perf,) = firms.firm_performance(s, start=T0 - dt.timedelta(days=1), end=T0 + dt.timedelta(days=1))
        assert (perf.partner_id, perf.offers, perf.accepted, perf.declined, perf.reports) == (firm.id, 2, 1, 1, 1)
        assert perf.acceptance_rate == Decimal("0.5") and perf.on_time_rate == Decimal(1)
        assert perf.review_acceptance_rate == Decimal(1)
        assert firms.firm_performance(s, start=T0 + dt.timedelta(days=1), end=T0 + dt.timedelta(days=2)) == []


def test_profiles_refuse_every_bad_input_at_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        hospital, _ = make_firm(s, kind=PartnerKind.HOSPITAL)
        with pytest.raises(DomainErrors) as err:
            firms.set_profile(s, principal=ADJUSTER, partner_id=hospital.id, regions=["33"], capacity=0,
                              quality_score=Decimal(101), now=T0)
        assert _codes(err.value) == ["FIRM_NOT_QUALIFIED", "INVALID", "INVALID", "INVALID"]


def test_checks_are_stored_as_codes(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        inv = request(s, review_claim(s), checks=[InvestigationCheck.IDENTITY, InvestigationCheck.IDENTITY])
        assert inv.checks == ["identity"]


def test_a_dispatch_round_in_the_transaction_that_requested_leaves_the_entities_fresh(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        firm, _ = make_firm(s)
        inv = request(s, review_claim(s))
        assert dispatch.dispatch_pending(s, now=T0) == (1, 0)
        assert inv.state is InvestigationState.ASSIGNED and inv.version == 2  # re-read after the bulk update
        service.accept_offer(s, principal=firm_principal(firm), assignment_id=inv.current_assignment_id or 0, now=T0)
        assert inv.state is InvestigationState.IN_PROGRESS


def test_the_risk_round_skips_claims_it_cannot_time_without_failing_and_a_later_round_opens_them(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        first, second = risky_claim(s).id, risky_claim(s).id
    with transaction(session_factory) as s:  # report deadlines would fall in a year the calendar refuses
        assert dispatch.open_for_risky_claims(s, now=PAST_THE_CALENDAR) == 0
        assert list(s.scalars(service.investigations_query(ADJUSTER))) == []
    with transaction(session_factory) as s:
        assert dispatch.open_for_risky_claims(s, now=T0) == 2
        assert sorted(r.claim_id for r in s.scalars(service.investigations_query(ADJUSTER))) == sorted([first, second])
