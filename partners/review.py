"""Qualification review: submitted → reviewing → approved | rejected; suspended; expired.

Maker-checker: whoever submitted a partner (registered or resubmitted it) may neither
start its review nor decide it. Every step writes a review event and an audit-log entry
(``partner.status``, detail ``{"from", "to", "reason"}``), emits a ``partner`` event, and
when it changes whether the partner may sign (approve, suspend, expire) requests the
on-chain role sync of all its keys (:mod:`partners.chain_roles`).

::

    submitted ──start──► reviewing ──approve──► approved ──suspend──► suspended
        ▲                    │                     │                      │
        └──resubmit── rejected ◄──reject──┘        └─(licence ended)─► expired
        ▲                                                                 │
        └─────────────────────────resubmit───────────────────────────────┘
    suspended ──start (re-review)──► reviewing
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.audit import append_audit, digest_input
from core.auth import Principal
from core.clock import business_date
from core.errors import ForbiddenError, InvalidTransitionError, ValidationError
from core.event_stream import Actor
from partners import chain_roles, events
from partners.models import Partner, PartnerLicence, PartnerReviewEvent, PartnerStatus, SignerKey
from partners.service import check_version, current_licence, get_partner

__all__ = [
    "TRANSITIONS",
    "approve",
    "expire_due_partners",
    "reject",
    "resubmit",
    "start_review",
    "suspend",
]

S = PartnerStatus
TRANSITIONS: dict[PartnerStatus, frozenset[PartnerStatus]] = {
    S.SUBMITTED: frozenset({S.REVIEWING}),
    S.REVIEWING: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.SUSPENDED, S.EXPIRED}),
    S.SUSPENDED: frozenset({S.REVIEWING}),
    S.REJECTED: frozenset({S.SUBMITTED}),
    S.EXPIRED: frozenset({S.SUBMITTED}),
}
_SIGNING_CHANGES = frozenset({S.APPROVED, S.SUSPENDED, S.EXPIRED})
SYSTEM = "system"


def _transition(
    session: Session,
    partner: Partner,
    to: PartnerStatus,
    *,
    actor: str,
    role: str | None,
    reason: str | None,
    now: dt.datetime,
) -> Partner:
    before = partner.status
    if to not in TRANSITIONS[before]:
        raise InvalidTransitionError(f"a {before.value} partner cannot become {to.value}", field="partnerId")
    partner.status = to
    partner.status_reason = reason
    session.add(PartnerReviewEvent(partner_id=partner.id, from_status=before, to_status=to, actor=actor,
                                   role=role, reason=reason, at=now))
    session.flush()
    detail = {"from": before.value, "to": to.value, "reason": reason}
    append_audit(
        session, actor=actor, role=role, action="partner.status", target=f"Partner:{partner.id}",
        input_digest=digest_input({"partnerId": partner.id, **detail}), detail=json.dumps(detail),
    )
    events.status_changed(session, partner, before, to, actor=Actor(actor, role))
    if to in _SIGNING_CHANGES:
        addresses = session.scalars(select(SignerKey.address).where(SignerKey.partner_id == partner.id)).all()
        chain_roles.request_sync(session, partner_id=partner.id, addresses=addresses, now=now)
    return partner


def _checker(partner: Partner, principal: Principal) -> None:
    if principal.subject == partner.submitted_by:
        raise ForbiddenError("maker-checker: the submitter may not review this partner",
                             field="partnerId", code="MAKER_CHECKER")


def _load(session: Session, principal: Principal, partner_id: int, expected_version: int | None) -> Partner:
    partner = get_partner(session, principal=principal, partner_id=partner_id)
    check_version(partner, expected_version, what="partner")
    return partner


def _role(principal: Principal) -> str | None:
    return principal.role.value if principal.role else None


def start_review(
    session: Session, *, principal: Principal, partner_id: int, expected_version: int | None = None,
    now: dt.datetime,
) -> Partner:
    """Take a submitted (or suspended) partner into review; the reviewer is not the submitter."""
    partner = _load(session, principal, partner_id, expected_version)
    _checker(partner, principal)
    partner.reviewer = principal.subject
    return _transition(session, partner, S.REVIEWING, actor=principal.subject, role=_role(principal),
                       reason="review started", now=now)


def approve(
    session: Session, *, principal: Principal, partner_id: int, expected_version: int | None = None,
    note: str | None = None, now: dt.datetime,
) -> Partner:
    """Approve a partner under review: needs a licence valid today; grants its keys on chain."""
    partner = _load(session, principal, partner_id, expected_version)
    _checker(partner, principal)
    if partner.status is S.REVIEWING and current_licence(session, partner_id=partner.id, today=business_date(now)) is None:
        raise ValidationError("the partner holds no licence valid today", field="partnerId", code="NO_VALID_LICENCE")
    partner.reviewer = principal.subject
    partner.decided_at = now
    return _transition(session, partner, S.APPROVED, actor=principal.subject, role=_role(principal),
                       reason=(note or "").strip() or "approved", now=now)


def reject(
    session: Session, *, principal: Principal, partner_id: int, expected_version: int | None = None,
    reason: str, now: dt.datetime,
) -> Partner:
    """Reject a partner under review, with a reason."""
    partner = _load(session, principal, partner_id, expected_version)
    _checker(partner, principal)
    if not reason.strip():
        raise ValidationError("give a reason", field="reason")
    partner.reviewer = principal.subject
    partner.decided_at = now
    return _transition(session, partner, S.REJECTED, actor=principal.subject, role=_role(principal),
                       reason=reason.strip(), now=now)


def suspend(
    session: Session, *, principal: Principal, partner_id: int, expected_version: int | None = None,
    reason: str, now: dt.datetime,
) -> Partner:
    """Suspend an approved partner at once; its keys lose the on-chain role."""
    partner = _load(session, principal, partner_id, expected_version)
    if not reason.strip():
        raise ValidationError("give a reason", field="reason")
    return _transition(session, partner, S.SUSPENDED, actor=principal.subject, role=_role(principal),
                       reason=reason.strip(), now=now)


def resubmit(
    session: Session, *, principal: Principal, partner_id: int, expected_version: int | None = None,
    note: str | None = None, now: dt.datetime,
) -> Partner:
    """Submit a rejected or expired partner again; the resubmitter becomes its submitter."""
    partner = _load(session, principal, partner_id, expected_version)
    partner.submitted_by = principal.subject
    partner.submitted_at = now
    partner.reviewer = None
    partner.decided_at = None
    return _transition(session, partner, S.SUBMITTED, actor=principal.subject, role=_role(principal),
                       reason=(note or "").strip() or "resubmitted", now=now)


def expire_due_partners(session: Session, *, now: dt.datetime, limit: int = 500) -> int:
    """Expire approved partners holding no licence valid today (the business date); returns how many."""
    today = business_date(now)
    valid = exists().where(
        PartnerLicence.partner_id == Partner.id,
        PartnerLicence.valid_from <= today,
        PartnerLicence.valid_until >= today,
    )
    rows = session.scalars(
        select(Partner).where(Partner.status == S.APPROVED, ~valid).order_by(Partner.id).limit(limit)
    ).all()
    for partner in rows:
        _transition(session, partner, S.EXPIRED, actor=SYSTEM, role=None,
                    reason=f"no licence valid on {today.isoformat()}", now=now)
    return len(rows)
