"""Registry and qualification review: the state machine, maker-checker, expiry, audit trail."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core.audit import AuditEntry, verify_chain
from core.auth import Principal, Role
from core.db import transaction
from core.errors import ConflictError, DomainErrors, ForbiddenError, InvalidTransitionError, ValidationError
from ledger.commitments import TenantKey, install_tenant_key
from partners import review
from partners import service as registry
from partners.models import (
    ChainRoleSync,
    Partner,
    PartnerDocumentKind,
    PartnerKind,
    PartnerReviewEvent,
    PartnerStatus,
)
from tests.partner_factories import CHECKER, MAKER, NOW, licence, make_key, make_partner

QA = Principal(subject="qa-2", role=Role.QA)


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(TenantKey.generate())
    yield
    install_tenant_key(None)


def _events(session: Any, partner_id: int) -> list[tuple[str | None, str, str]]:
    rows = session.scalars(select(PartnerReviewEvent).where(PartnerReviewEvent.partner_id == partner_id)
                           .order_by(PartnerReviewEvent.id))
    return [(r.from_status.value if r.from_status else None, r.to_status.value, r.actor) for r in rows]


def test_full_review_path_is_recorded_in_trail_and_audit_log(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        p = make_partner(s, approved=False, kind=PartnerKind.HOSPITAL)
        assert p.status is PartnerStatus.SUBMITTED and p.submitted_by == MAKER.subject
        review.start_review(s, principal=CHECKER, partner_id=p.id, now=NOW)
        review.approve(s, principal=QA, partner_id=p.id, note="documents fine", now=NOW)
        review.suspend(s, principal=CHECKER, partner_id=p.id, reason="complaint under investigation", now=NOW)
        review.start_review(s, principal=QA, partner_id=p.id, now=NOW)
        review.reject(s, principal=CHECKER, partner_id=p.id, reason="complaint upheld", now=NOW)
        review.resubmit(s, principal=MAKER, partner_id=p.id, now=NOW)
        assert _events(s, p.id) == [
            (None, "submitted", MAKER.subject),
            ("submitted", "reviewing", CHECKER.subject),
            ("reviewing", "approved", QA.subject),
            ("approved", "suspended", CHECKER.subject),
            ("suspended", "reviewing", QA.subject),
            ("reviewing", "rejected", CHECKER.subject),
            ("rejected", "submitted", MAKER.subject),
        ]
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "partner.status").order_by(AuditEntry.seq)).all()
        assert [json.loads(e.detail or "{}")["to"] for e in entries] == [
            "reviewing", "approved", "suspended", "reviewing", "rejected", "submitted"]
        assert {e.target for e in entries} == {f"Partner:{p.id}"}
        assert verify_chain(s) is None


def test_maker_checker_the_submitter_may_not_review_or_decide(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        p = make_partner(s, approved=False)
        with pytest.raises(ForbiddenError) as info:
            review.start_review(s, principal=MAKER, partner_id=p.id, now=NOW)
        assert info.value.code == "MAKER_CHECKER"
        review.start_review(s, principal=CHECKER, partner_id=p.id, now=NOW)
        with pytest.raises(ForbiddenError):
            review.approve(s, principal=MAKER, partner_id=p.id, now=NOW)
        with pytest.raises(ForbiddenError):
            review.reject(s, principal=MAKER, partner_id=p.id, reason="x", now=NOW)
        # whoever resubmits becomes the maker: the former checker may not review the resubmission
        review.reject(s, principal=CHECKER, partner_id=p.id, reason="incomplete", now=NOW)
        review.resubmit(s, principal=CHECKER, partner_id=p.id, now=NOW)
        with pytest.raises(ForbiddenError):
            review.start_review(s, principal=CHECKER, partner_id=p.id, now=NOW)
        review.start_review(s, principal=MAKER, partner_id=p.id, now=NOW)


def test_invalid_transitions_and_missing_licence_are_refused(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        p = make_partner(s, approved=False, licences=[])
        with pytest.raises(InvalidTransitionError):
            review.approve(s, principal=CHECKER, partner_id=p.id, now=NOW)
        with pytest.raises(InvalidTransitionError):
            review.suspend(s, principal=CHECKER, partner_id=p.id, reason="x", now=NOW)
        review.start_review(s, principal=CHECKER, partner_id=p.id, now=NOW)
        with pytest.raises(ValidationError) as info:
            review.approve(s, principal=CHECKER, partner_id=p.id, now=NOW)
        assert info.value.code == "NO_VALID_LICENCE"
        with pytest.raises(ValidationError):
            review.reject(s, principal=CHECKER, partner_id=p.id, reason="  ", now=NOW)
        registry.add_licence(s, principal=MAKER, partner_id=p.id, licence=licence(), now=NOW)
        review.approve(s, principal=CHECKER, partner_id=p.id, now=NOW)
        with pytest.raises(InvalidTransitionError):
            review.resubmit(s, principal=MAKER, partner_id=p.id, now=NOW)


def test_registry_validation_and_duplicates(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        make_partner(s, code="ACME-LOSS")
        with pytest.raises(ConflictError):
            make_partner(s, code="acme-loss")
        with pytest.raises(ValidationError):
            make_partner(s, code="bad code!")
        with pytest.raises(ValidationError):
            make_partner(s, licences=[registry.LicenceSpec("L", "NFRA", dt.date(2026, 1, 2), dt.date(2026, 1, 1))])
        with pytest.raises(DomainErrors) as many:
            make_partner(s, documents=[registry.DocumentSpec("licence-scan", "scan.pdf", "not-a-digest", 10)])
        assert [(e.field, e.code) for e in many.value.errors] == [
            ("documents[0].kind", "INVALID"), ("documents[0].sha256", "INVALID")]


def test_registration_reports_every_bad_input_at_once(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        make_partner(s, code="TAKEN")
    bad_period = registry.LicenceSpec("L-1", "NFRA", dt.date(2026, 1, 2), dt.date(2026, 1, 1))
    twice = registry.LicenceSpec("L-2", "NFRA", dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    with transaction(session_factory) as s, pytest.raises(DomainErrors) as many:
        registry.register_partner(
            s, principal=MAKER, code="taken", name=" ", kind=PartnerKind.HOSPITAL, now=NOW,
            licences=[bad_period, twice, twice],
            documents=[registry.DocumentSpec(PartnerDocumentKind.OTHER, "x.pdf", "ab" * 32, -1)])
    assert [(e.field, e.code) for e in many.value.errors] == [
        ("code", "DUPLICATE"), ("name", "INVALID"), ("licences[0].validUntil", "BAD_PERIOD"),
        ("licences[2].number", "DUPLICATE"), ("documents[0].size", "INVALID")]
    with session_factory() as s:  # nothing was written
        assert [p.code for p in s.scalars(select(Partner))] == ["TAKEN"]


def test_expiry_by_date_expires_and_requests_role_revocation(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        short = make_partner(s, licence_until=dt.date(2026, 6, 30))
        long = make_partner(s)
        key, _ = make_key(s, short)
    with transaction(session_factory) as s:
        s.execute(ChainRoleSync.__table__.update().values(synced_at=NOW, granted=True))
        assert review.expire_due_partners(s, now=NOW + dt.timedelta(days=10)) == 0
        assert review.expire_due_partners(s, now=dt.datetime(2026, 7, 1, tzinfo=dt.UTC)) == 1
    with session_factory() as s:
        assert registry.get_partner(s, principal=CHECKER, partner_id=short.id).status is PartnerStatus.EXPIRED
        assert registry.get_partner(s, principal=CHECKER, partner_id=long.id).status is PartnerStatus.APPROVED
        due = s.get(ChainRoleSync, key.address)
        assert due is not None and due.synced_at is None  # the role sync is due again
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert last is not None and last.actor == "system" and json.loads(last.detail or "{}")["to"] == "expired"
    with transaction(session_factory) as s:
        registry.add_licence(s, principal=MAKER, partner_id=short.id, licence=licence(), now=NOW)
        review.resubmit(s, principal=MAKER, partner_id=short.id, now=NOW)
