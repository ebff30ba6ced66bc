"""Shared risk data: insurers publish flags about blinded person ids; others look them up.

A person is never named: the blinded id is ``HMAC-SHA256(consortium key, normalised ID
number)`` as 64 lowercase hex characters, where the normalised ID number is the number
upper-cased with spaces and hyphens removed (UTF-8). Every consortium member holds the
same key (``<data_dir>/keys/consortium.key``, or ``OPSURE_CONSORTIUM_KEY`` as 64 hex
characters) and blinds on its own side, so only blinded ids travel.

A published flag is a ledger record (kind RISK_FLAG: flag code, level, time, blinded id,
publisher), committed and anchored like every record; a query answers each match with
its publisher and proof bundle. Whoever holds a record (its publisher, or Opsure staff)
can disclose its body and salt; a partner checks such a disclosure against the anchored
commitment with :func:`verify_disclosure`.

Example::

    key = ConsortiumKey.load_or_create(settings.keys_dir)
    flag = publish_flag(s, principal=insurer, blinded_id=key.blind("110101199003070011"),
                        flag_code="DUPLICATE_CLAIM", level="high", now=now)
    find_flags(s, principal=other_insurer, blinded_id=key.blind("110101199003070011"))
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ConflictError, NotFoundError, ValidationError
from core.keyfiles import secret_file
from core.pagination import KeyColumn
from core.roles import INTERNAL, RISK_FLAG_STAFF
from ledger import service as ledger
from ledger.commitments import commit, current_tenant_key, parse_kind
from ledger.contract import RecordKind
from partners import events, ledger_seam
from partners.errors import RecordRejected, RejectCode
from partners.models import Partner, PartnerKind, PartnerStatus, RiskFlag
from partners.scoping import is_partner, require_own
from partners.service import Page, PageRequest, count_of, keyset_page

__all__ = [
    "LEVELS",
    "ConsortiumKey",
    "Disclosure",
    "DisclosureVerdict",
    "consortium_key",
    "count_flags",
    "disclose_flag",
    "find_flags",
    "get_flag",
    "list_flags",
    "normalise_id_number",
    "publish_flag",
    "verify_disclosure",
]

LEVELS = ("low", "medium", "high")
MAX_MATCHES = 100
_BLINDED = re.compile(r"^[0-9a-f]{64}$")
_FLAG = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_ID = re.compile(r"^[0-9A-Z]{5,32}$")
_COMMITMENT = re.compile(r"^0x[0-9a-f]{64}$")


def normalise_id_number(raw: str) -> str:
    """Upper-case, without spaces and hyphens; ValidationError unless 5-32 letters/digits."""
    value = re.sub(r"[\s-]", "", raw).upper()
    if not _ID.match(value):
        raise ValidationError("not an ID number", field="idNumber", code="BAD_ID_NUMBER")
    return value


@dataclass(frozen=True, repr=False)
class ConsortiumKey:
    """The key consortium members blind person ids with (32 bytes; never logged)."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("consortium key must be 32 bytes (64 hex characters)")

    def __repr__(self) -> str:
        return "ConsortiumKey(<secret>)"

    @classmethod
    def generate(cls) -> ConsortiumKey:
        """A fresh random key (tests, a new consortium)."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> ConsortiumKey:
        """``OPSURE_CONSORTIUM_KEY`` or ``keys_dir/consortium.key`` (created once, 0600)."""
        text = secret_file(keys_dir / "consortium.key", env="OPSURE_CONSORTIUM_KEY",
                           make=lambda: secrets.token_bytes(32).hex())
        return cls(bytes.fromhex(text.removeprefix("0x")))

    def blind(self, id_number: str) -> str:
        """The blinded id of an ID number (64 lowercase hex characters)."""
        return hmac.new(self.key, normalise_id_number(id_number).encode(), hashlib.sha256).hexdigest()


@cache
def consortium_key(keys_dir: Path) -> ConsortiumKey:
    """The process's consortium key for a data directory (loaded once)."""
    return ConsortiumKey.load_or_create(keys_dir)


def _insurer(session: Session, principal: Principal) -> Partner:
    if not is_partner(principal):
        raise RecordRejected(RejectCode.FORBIDDEN, "only a partner insurer may publish risk flags")
    partner = session.get(Partner, principal.partner_id)
    if partner is None or partner.kind is not PartnerKind.INSURER:
        raise RecordRejected(RejectCode.FORBIDDEN, "only partner insurers share risk data")
    if partner.status is not PartnerStatus.APPROVED:
        raise RecordRejected(RejectCode.PARTNER_NOT_APPROVED, f"partner is {partner.status.value}")
    return partner


def _blinded(value: str) -> str:
    v = value.strip().lower()
    if not _BLINDED.match(v):
        raise ValidationError("blinded id must be 64 hex characters (HMAC-SHA256)", field="blindedId",
                              code="BAD_BLINDED_ID")
    return v


def publish_flag(
    session: Session,
    *,
    principal: Principal,
    blinded_id: str,
    flag_code: str,
    level: str,
    evidence_commitment: str | None = None,
    now: dt.datetime,
) -> RiskFlag:
    """Publish a flag (partner insurers); committed to the ledger, other flaggers told."""
    partner = _insurer(session, principal)
    bid = _blinded(blinded_id)
    code = flag_code.strip().upper()
    if not _FLAG.match(code):
        raise ValidationError("flag code: 2-40 of A-Z, 0-9 and _", field="flagCode", code="BAD_FLAG_CODE")
    if level not in LEVELS:
        raise ValidationError(f"level must be one of {', '.join(LEVELS)}", field="level")
    evidence = evidence_commitment.strip().lower() if evidence_commitment else None
    if evidence is not None and not _COMMITMENT.match(evidence):
        raise ValidationError("evidence commitment must be 0x + 64 hex", field="evidenceCommitment")
    duplicate = session.scalar(select(RiskFlag.id).where(
        RiskFlag.publisher_id == partner.id, RiskFlag.blinded_id == bid, RiskFlag.flag_code == code))
    if duplicate is not None:
        raise ConflictError("you published this flag already", field="flagCode", code="DUPLICATE")
    body: dict[str, Any] = {"flag": code, "level": level, "at": now.isoformat(), "blindedId": bid,
                            "publisher": partner.code}
    if evidence:
        body["evidenceCommitment"] = evidence
    rec = ledger.record(session, kind=RecordKind.RISK_FLAG, body=body)
    flag = RiskFlag(publisher_id=partner.id, blinded_id=bid, flag_code=code, level=level,
                    evidence_commitment=evidence, ledger_record_id=rec.id, commitment=rec.commitment,
                    published_by=principal.subject, published_at=now)
    session.add(flag)
    session.flush()
    others = set(session.scalars(select(RiskFlag.publisher_id).where(
        RiskFlag.blinded_id == bid, RiskFlag.publisher_id != partner.id)))
    events.publish(session, events.RiskFlagPublished(  # the webhook consumer tells the earlier flaggers
        partner_id=partner.id, risk_flag_id=flag.id, publisher_code=partner.code, blinded_id=bid, flag_code=code,
        level=level, matched_partner_ids=tuple(sorted(others))), actor=principal)
    return flag


def _flags_on(session: Session, principal: Principal, blinded_id: str) -> Select[RiskFlag]:
    if principal.role not in INTERNAL:
        _insurer(session, principal)
    return select(RiskFlag).where(RiskFlag.blinded_id == _blinded(blinded_id))


def find_flags(session: Session, *, principal: Principal, blinded_id: str) -> list[RiskFlag]:
    """The newest flags on a blinded id (partner insurers and staff), at most 100, newest first."""
    stmt = _flags_on(session, principal, blinded_id)
    return list(session.scalars(stmt.order_by(RiskFlag.id.desc()).limit(MAX_MATCHES)))


def list_flags(session: Session, *, principal: Principal, blinded_id: str, page: PageRequest) -> Page[RiskFlag]:
    """A page of the flags on a blinded id (partner insurers and staff), newest first."""
    return keyset_page(session, _flags_on(session, principal, blinded_id),
                       [KeyColumn(RiskFlag.id, descending=True)], request=page)


def count_flags(session: Session, *, principal: Principal, blinded_id: str) -> int:
    """How many flags there are on a blinded id (partner insurers and staff)."""
    return count_of(session, _flags_on(session, principal, blinded_id))


def get_flag(session: Session, *, principal: Principal, risk_flag_id: int) -> RiskFlag:
    """A flag by id: risk staff see any; a partner insurer only the flags it published."""
    if principal.role not in RISK_FLAG_STAFF:
        partner = _insurer(session, principal)
        flag = session.scalar(select(RiskFlag).where(RiskFlag.id == risk_flag_id,
                                                     RiskFlag.publisher_id == partner.id))
    else:
        flag = session.get(RiskFlag, risk_flag_id)
    if flag is None:
        raise NotFoundError("risk flag not found", field="id")
    return flag


@dataclass(frozen=True)
class Disclosure:
    """What a record's holder hands to a partner: body, salt, commitment, and the record behind its proof."""

    body: dict[str, Any]
    salt: str
    commitment: str
    record_id: int


def disclose_flag(session: Session, *, principal: Principal, risk_flag_id: int) -> Disclosure:
    """The body and salt of a flag for its publisher (or staff) to disclose."""
    flag = session.get(RiskFlag, risk_flag_id)
    if flag is None:
        raise NotFoundError("risk flag not found", field="riskFlagId")
    require_own(principal, flag.publisher_id, what="this flag")
    row = ledger.get_record(session, record_id=flag.ledger_record_id)
    body = ledger.record_body(row)
    if body is None or row.salt is None:
        raise NotFoundError("the record was erased", field="riskFlagId", code="ERASED")
    return Disclosure(body=body, salt=row.salt, commitment=row.commitment, record_id=row.id)


@dataclass(frozen=True)
class DisclosureVerdict:
    """Whether a disclosed body and salt produce an anchored commitment (and the record that holds it)."""

    matches: bool
    anchored: bool
    kind: RecordKind | None
    record_id: int | None


def verify_disclosure(session: Session, *, commitment: str, body: Mapping[str, Any], salt: str) -> DisclosureVerdict:
    """Recompute the commitment from body and salt; compare with the recorded one."""
    c = commitment.strip().lower()
    if not _COMMITMENT.match(c):
        raise ValidationError("commitment must be 0x + 64 hex", field="commitment")
    try:
        salt_bytes = bytes.fromhex(salt.strip().removeprefix("0x"))
    except ValueError:
        raise ValidationError("salt must be hex", field="salt") from None
    record_id = ledger_seam.record_id_by_commitment(session, c)
    if record_id is None or len(salt_bytes) != 32:
        return DisclosureVerdict(matches=False, anchored=False, kind=None, record_id=None)
    row = ledger.get_record(session, record_id=record_id)
    try:
        recomputed = commit(current_tenant_key(), parse_kind(row.kind), dict(body), salt=salt_bytes)
    except ValidationError:
        return DisclosureVerdict(matches=False, anchored=False, kind=None, record_id=None)
    if not hmac.compare_digest(recomputed.hex, c):
        return DisclosureVerdict(matches=False, anchored=False, kind=None, record_id=None)
    return DisclosureVerdict(matches=True, anchored=ledger_seam.anchored_ids(session, [record_id]) == {record_id},
                             kind=RecordKind(row.kind), record_id=record_id)
