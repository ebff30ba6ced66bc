"""Tables of the rule library: versions of the claim-risk decision table and which one is live."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, IdPk, Timestamped, Versioned, value_enum

__all__ = ["ClaimRuleState", "ClaimRuleVersion", "RuleVersionStatus"]


class RuleVersionStatus(enum.StrEnum):
    """Where a version of the rule set stands."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ROLLED_BACK = "rolled_back"


class ClaimRuleVersion(IdPk, Versioned, Timestamped, Base):
    """One version of the claim-risk decision table (zen-engine JDM), immutable once published."""

    __tablename__ = "claim_rule_version"

    label: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[RuleVersionStatus] = mapped_column(value_enum(RuleVersionStatus, "rule_version_status"))
    description: Mapped[str] = mapped_column(String(500), default="")
    based_on: Mapped[str | None] = mapped_column(String(40))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: SHA-256 of the document's canonical JSON (RFC 8785): compiled tables are cached under it.
    digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    #: Order of publication (1, 2, ...): the newest published version not rolled back is live unless one is pinned.
    publish_seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    published_at: Mapped[dt.datetime | None] = mapped_column()
    published_by: Mapped[str | None] = mapped_column(String(200))
    rolled_back_at: Mapped[dt.datetime | None] = mapped_column()
    rolled_back_by: Mapped[str | None] = mapped_column(String(200))
    rollback_reason: Mapped[str | None] = mapped_column(String(500))
    last_tested_at: Mapped[dt.datetime | None] = mapped_column()
    last_test_claims: Mapped[int | None] = mapped_column(Integer)
    last_test_changed: Mapped[int | None] = mapped_column(Integer)


class ClaimRuleState(Versioned, Base):
    """The one row saying which version is pinned (none: the newest published is live); locked by every change."""

    __tablename__ = "claim_rule_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pinned_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("claim_rule_version.id"))
    changed_by: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime | None] = mapped_column()
