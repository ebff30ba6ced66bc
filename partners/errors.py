"""Why a signed record (or a partner's request) was refused: one stable code each."""

from __future__ import annotations

import enum

from core.errors import DomainError

__all__ = ["RecordRejected", "RejectCode"]


class RejectCode(enum.StrEnum):
    """Stable codes of refused signed records and partner reads."""

    MALFORMED = "MALFORMED"
    WRONG_DOMAIN = "WRONG_DOMAIN"
    WRONG_CHAIN = "WRONG_CHAIN"
    WRONG_CONTRACT = "WRONG_CONTRACT"
    HIGH_S = "HIGH_S"
    DEADLINE_PASSED = "DEADLINE_PASSED"
    WRONG_SIGNER = "WRONG_SIGNER"
    KEY_REVOKED = "KEY_REVOKED"
    KEY_NOT_YET_VALID = "KEY_NOT_YET_VALID"
    KEY_EXPIRED = "KEY_EXPIRED"
    NONCE_REUSED = "NONCE_REUSED"
    NOT_ASSIGNED = "NOT_ASSIGNED"
    PARTNER_NOT_APPROVED = "PARTNER_NOT_APPROVED"
    FORBIDDEN = "FORBIDDEN"


class RecordRejected(DomainError):
    """A signed record refused for a reason named by :class:`RejectCode`."""

    code = RejectCode.MALFORMED.value

    def __init__(self, code: RejectCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field, code=code.value)
        self.reject_code = code
