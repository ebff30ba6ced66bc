"""The partners domain's events: one typed payload per fact, appended in the transaction that made it.

Each event is about the row it changed (aggregate ``Partner``, ``SignerKey``, ``Assignment``,
``SignedRecord`` or ``RiskFlag``) and is visible to that type's readers: ``PARTNER_READERS``
(staff, auditors, partners), risk flags to ``RISK_FLAG_READERS``. Subscribers scope rows
themselves (a partner sees its own: ``partner_id``). Payloads carry codes, ids and addresses,
never free text (a review's reason stays on its review event row, read through the API).
The webhook consumer (:mod:`partners.webhooks`) turns some of them into deliveries.

Example::

    publish(session, KeyRevoked(partner_id=7, key_id=key.id, address=key.address), actor=principal,
            versioned=key)                       # aggregate SignerKey(key.id), from the payload's type
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.auth import Principal
from core.event_stream import Actor, Aggregate, EventPayload, append, register_event_type
from core.roles import PARTNER_READERS, RISK_FLAG_READERS
from partners.models import AssignmentKind, Partner, PartnerStatus, SignedRecordType

__all__ = [
    "PARTNER_EVENT_TYPES",
    "AssignmentCreated",
    "KeyRegistered",
    "KeyRevoked",
    "KeyRotated",
    "PartnerApproved",
    "PartnerFact",
    "PartnerReviewed",
    "PartnerStatusChanged",
    "PartnerSuspended",
    "RiskFlagPublished",
    "SignedRecordAccepted",
    "SignedRecordAnchored",
    "actor_of",
    "publish",
    "status_changed",
]


class PartnerFact(EventPayload):
    """What every partners event carries: the partner it concerns (subscribers scope by it)."""

    partner_id: int


class PartnerStatusChanged(PartnerFact):
    """A move of the qualification review (``to_status``), with the status before."""

    from_status: PartnerStatus
    to_status: PartnerStatus


class PartnerReviewed(PartnerStatusChanged):
    """Review started, rejected, resubmitted or expired (the other moves have their own type)."""


class PartnerApproved(PartnerStatusChanged):
    """The partner was approved: it may sign records and take assignments."""


class PartnerSuspended(PartnerStatusChanged):
    """The partner was suspended: its keys lose their role on chain."""


class KeyRegistered(PartnerFact):
    """A signer key was registered."""

    key_id: int
    address: str


class KeyRotated(PartnerFact):
    """A signer key replaced another (``rotated_from_id``)."""

    key_id: int
    address: str
    rotated_from_id: int


class KeyRevoked(PartnerFact):
    """A signer key was revoked."""

    key_id: int
    address: str


class AssignmentCreated(PartnerFact):
    """Staff assigned the partner to a case."""

    assignment_id: int
    kind: AssignmentKind
    case_reference: str
    investigation_id: int | None = None


class SignedRecordAccepted(PartnerFact):
    """A signed record was verified and stored (its commitment queued for anchoring)."""

    signed_record_id: int
    assignment_id: int | None = None
    record_type: SignedRecordType
    commitment: str


class SignedRecordAnchored(PartnerFact):
    """A signed record's commitment is anchored on chain."""

    signed_record_id: int
    record_type: SignedRecordType
    commitment: str


class RiskFlagPublished(PartnerFact):
    """An insurer (``partner_id``) published a flag; ``matched_partner_ids`` flagged the same person before."""

    risk_flag_id: int
    publisher_code: str
    blinded_id: str
    flag_code: str
    level: str
    matched_partner_ids: tuple[int, ...] = ()


#: Every partners event type: name -> (payload class, aggregate type).
PARTNER_EVENT_TYPES: dict[str, tuple[type[PartnerFact], str]] = {
    "partner.reviewed": (PartnerReviewed, "Partner"),
    "partner.approved": (PartnerApproved, "Partner"),
    "partner.suspended": (PartnerSuspended, "Partner"),
    "partner.key_registered": (KeyRegistered, "SignerKey"),
    "partner.key_rotated": (KeyRotated, "SignerKey"),
    "partner.key_revoked": (KeyRevoked, "SignerKey"),
    "partner.assignment_created": (AssignmentCreated, "Assignment"),
    "partner.signed_record_accepted": (SignedRecordAccepted, "SignedRecord"),
    "partner.signed_record_anchored": (SignedRecordAnchored, "SignedRecord"),
    "partner.risk_flag_published": (RiskFlagPublished, "RiskFlag"),
}
for _name, (_cls, _aggregate) in PARTNER_EVENT_TYPES.items():
    register_event_type(_name, 1, _cls, aggregate=_aggregate,
                        readers=RISK_FLAG_READERS if _aggregate == "RiskFlag" else PARTNER_READERS)

_AGGREGATE_KEY = {"Partner": "partner_id", "SignerKey": "key_id", "Assignment": "assignment_id",
                  "SignedRecord": "signed_record_id", "RiskFlag": "risk_flag_id"}
_AGGREGATE_OF = {cls: aggregate for cls, aggregate in PARTNER_EVENT_TYPES.values()}


def actor_of(who: Principal | Actor) -> Actor:
    """The event actor for a principal (or an actor already)."""
    return who if isinstance(who, Actor) else Actor.of(who)


def publish(session: Session, payload: PartnerFact, *, actor: Principal | Actor, versioned: Any = None) -> None:
    """Append ``payload`` about its row (the aggregate follows from its type) to the session's transaction."""
    aggregate = _AGGREGATE_OF[type(payload)]
    key = int(getattr(payload, _AGGREGATE_KEY[aggregate]))
    append(session, payload, aggregate=Aggregate(aggregate, key), actor=actor_of(actor), versioned=versioned)


_STATUS_TYPES: dict[PartnerStatus, type[PartnerStatusChanged]] = {
    PartnerStatus.APPROVED: PartnerApproved,
    PartnerStatus.SUSPENDED: PartnerSuspended,
}


def status_changed(session: Session, partner: Partner, before: PartnerStatus, after: PartnerStatus, *,
                   actor: Actor) -> None:
    """The one event of a review move (approved, suspended, or reviewed for the others)."""
    cls = _STATUS_TYPES.get(after, PartnerReviewed)
    publish(session, cls(partner_id=partner.id, from_status=before, to_status=after), actor=actor,
            versioned=partner)
