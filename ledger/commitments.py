"""Commitments to typed records: validate, canonicalise (RFC 8785), salt, HMAC.

A record body is a JSON object checked against the minimal shape of its kind, turned
into RFC 8785 canonical JSON, and committed to with a fresh 32-byte salt::

    C = HMAC-SHA256(tenant_key, salt || canonical)

Only ``C`` and the record kind ever leave for the chain, as the Merkle leaf value
``[C, kind]`` encoded ``["bytes32", "uint8"]`` (see :data:`LEAF_ENCODING`). Without the
salt and the tenant key nobody can test a guessed body against ``C``; erasing the salt
and body (right to be forgotten) leaves ``C`` unlinkable to anyone.

The tenant key lives in ``<data_dir>/keys/tenant.key`` (or ``OPSURE_TENANT_KEY``, 64 hex
characters), created on first use like :class:`core.crypto.FieldKeys`.

Example::

    install_tenant_key(TenantKey.load_or_create(settings.keys_dir))
    c = commit(current_tenant_key(), RecordKind.SURVEY,
               {"assessor": "A-17", "conclusion": "consistent", "surveyedOn": "2026-05-02"})
    leaf_value(c.digest, c.kind)      # ["0x…", 3]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from core.errors import ValidationError
from core.keyfiles import secret_file
from ledger.contract import RecordKind

__all__ = [
    "KIND_FIELDS",
    "LEAF_ENCODING",
    "MAX_BODY_BYTES",
    "SALT_BYTES",
    "Commitment",
    "TenantKey",
    "canonicalize",
    "commit",
    "current_tenant_key",
    "install_tenant_key",
    "leaf_value",
    "parse_kind",
    "validate_body",
]

#: Solidity types of a Merkle leaf value ``[commitment, kind]``.
LEAF_ENCODING: tuple[str, str] = ("bytes32", "uint8")
SALT_BYTES = 32
#: Largest canonical body accepted (bytes of RFC 8785 JSON).
MAX_BODY_BYTES = 256 * 1024
_MAX_TEXT = 10_000

# --------------------------------------------------------------------------- field checks

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL_RE = re.compile(r"^-?(0|[1-9]\d{0,17})(\.\d{1,8})?$")
_HEX32_RE = re.compile(r"^[0-9a-f]{64}$")


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if len(value) > _MAX_TEXT:
        return f"must be at most {_MAX_TEXT} characters"
    return None


def _date(value: Any) -> str | None:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return "must be a date YYYY-MM-DD"
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return "must be a valid calendar date"
    return None


def _datetime(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) < 19 or value[10] not in "Tt":
        return "must be an ISO 8601 timestamp with a time zone"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return "must be an ISO 8601 timestamp with a time zone"
    if parsed.tzinfo is None:
        return "must carry a time zone (e.g. Z or +08:00)"
    return None


def _decimal(value: Any) -> str | None:
    if not isinstance(value, str) or not _DECIMAL_RE.match(value):
        return "must be a decimal string such as '1234.50'"
    return None


def _integer(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**53 - 1:
        return "must be a non-negative integer"
    return None


def _hex32(value: Any) -> str | None:
    if not isinstance(value, str) or not _HEX32_RE.match(value):
        return "must be 64 lowercase hex characters"
    return None


_Check = Callable[[Any], "str | None"]

#: Minimal required keys of each record kind and their checks; other keys are free.
KIND_FIELDS: dict[RecordKind, dict[str, _Check]] = {
    RecordKind.MEDICAL: {"documentType": _text, "provider": _text, "issuedOn": _date},
    RecordKind.CREDIT: {"bureau": _text, "reportRef": _text, "issuedOn": _date},
    RecordKind.SURVEY: {"assessor": _text, "conclusion": _text, "surveyedOn": _date},
    RecordKind.INVESTIGATION_EVENT: {"caseRef": _text, "event": _text, "at": _datetime},
    RecordKind.AUDIT_LOG: {"seq": _integer, "hash": _hex32, "prevHash": _hex32},
    RecordKind.RISK_FLAG: {"flag": _text, "level": _text, "at": _datetime},
    RecordKind.HOSPITAL_BILL: {"billNo": _text, "amount": _decimal, "issuedOn": _date},
}


def parse_kind(kind: RecordKind | int | str) -> RecordKind:
    """Return the :class:`RecordKind` named or numbered by ``kind``; ValidationError if none."""
    if isinstance(kind, RecordKind):
        return kind
    try:
        if isinstance(kind, str):
            key = kind.strip().upper().replace("-", "_").replace(" ", "_")
            return RecordKind[key] if not key.isdigit() else RecordKind(int(key))
        if isinstance(kind, int) and not isinstance(kind, bool):
            return RecordKind(kind)
    except (KeyError, ValueError):
        pass
    raise ValidationError(f"unknown record kind {kind!r}", field="kind", code="UNKNOWN_KIND")


def validate_body(kind: RecordKind, body: Any) -> None:
    """Raise ValidationError unless ``body`` is a JSON object fit for ``kind``."""
    if not isinstance(body, Mapping):
        raise ValidationError("record body must be a JSON object", field="body")
    for key in body:
        if not isinstance(key, str):
            raise ValidationError("record body keys must be strings", field="body")
    for name, check in KIND_FIELDS[kind].items():
        if name not in body:
            raise ValidationError(
                f"{kind.name.lower()} record needs {name!r}", field=f"body.{name}", code="REQUIRED"
            )
        problem = check(body[name])
        if problem:
            raise ValidationError(f"{name} {problem}", field=f"body.{name}")


_SAFE_INT = 2**53 - 1
_dumps_plain = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def _plain(obj: Any) -> bool:
    """True if ``obj`` holds only ASCII-keyed dicts, lists, str, bool, None and safe ints.

    For such values RFC 8785 and ``json.dumps(sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))`` produce the same text: keys sort the same (UTF-16 and code
    point order agree on ASCII), strings escape the same set the same way, and integers
    print the same; floats (ES6 number formatting) always take the rfc8785 path.
    """
    t = type(obj)
    if t is str or t is bool or obj is None:
        return True
    if t is int:
        return bool(-_SAFE_INT <= obj <= _SAFE_INT)
    if t is dict:  # plain loops: faster than all() over a generator on this hot path
        for k, v in obj.items():  # noqa: SIM110
            if type(k) is not str or not k.isascii() or not _plain(v):
                return False
        return True
    if t is list:
        for v in obj:  # noqa: SIM110
            if not _plain(v):
                return False
        return True
    return False


def canonicalize(body: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of ``body``; ValidationError for what JSON cannot carry.

    Plain bodies (see :func:`_plain`) are serialised by the C JSON encoder, byte-identical
    to ``rfc8785.dumps`` (a property test holds the two together); everything else goes
    through the rfc8785 library.
    """
    try:
        canonical = _dumps_plain(body).encode("utf-8") if _plain(body) else rfc8785.dumps(body)
    except UnicodeEncodeError:
        raise ValidationError("record body is not canonical JSON: input contains non-UTF-8 codepoints",
                              field="body") from None
    except rfc8785.CanonicalizationError as exc:
        raise ValidationError(f"record body is not canonical JSON: {exc}", field="body") from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(f"record body is not JSON: {exc}", field="body") from None
    if len(canonical) > MAX_BODY_BYTES:
        raise ValidationError(f"record body exceeds {MAX_BODY_BYTES} bytes", field="body", code="TOO_LARGE")
    return canonical


# ---------------------------------------------------------------------------- the key


@dataclass(frozen=True, repr=False)
class TenantKey:
    """The HMAC key of this tenant's commitments (32 bytes; never logged)."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("tenant key must be 32 bytes (64 hex characters)")

    def __repr__(self) -> str:
        return "TenantKey(<secret>)"

    @classmethod
    def generate(cls) -> TenantKey:
        """A fresh random key (tests)."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_hex(cls, text: str) -> TenantKey:
        """A key from 64 hex characters."""
        try:
            return cls(bytes.fromhex(text.strip().removeprefix("0x")))
        except ValueError:
            raise ValueError("tenant key must be 64 hex characters") from None

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> TenantKey:
        """Load ``OPSURE_TENANT_KEY`` or ``keys_dir/tenant.key``, creating the file once (0600)."""
        return cls.from_hex(secret_file(keys_dir / "tenant.key", env="OPSURE_TENANT_KEY",
                                        make=lambda: secrets.token_bytes(32).hex()))

    def mac(self, salt: bytes, canonical: bytes) -> bytes:
        """``HMAC-SHA256(key, salt || canonical)``."""
        return hmac.new(self.key, salt + canonical, hashlib.sha256).digest()


_tenant_key: TenantKey | None = None


def install_tenant_key(key: TenantKey | None) -> None:
    """Make ``key`` the process-wide tenant key (start-up; None forgets it)."""
    global _tenant_key
    _tenant_key = key


def current_tenant_key() -> TenantKey:
    """The installed tenant key; refuses to commit without one."""
    if _tenant_key is None:
        raise RuntimeError(
            "ledger tenant key is not installed (call ledger.commitments.install_tenant_key)"
        )
    return _tenant_key


# ----------------------------------------------------------------------- commitments


@dataclass(frozen=True, repr=False)
class Commitment:
    """A validated, canonical record body, its salt and its commitment."""

    kind: RecordKind
    canonical: bytes
    salt: bytes
    digest: bytes

    def __repr__(self) -> str:
        return f"Commitment(kind={self.kind.name}, digest=0x{self.digest.hex()})"

    @property
    def hex(self) -> str:
        """The commitment as ``0x`` + 64 lowercase hex characters."""
        return "0x" + self.digest.hex()

    def leaf(self) -> list[Any]:
        """The Merkle leaf value ``[commitment, kind]``."""
        return leaf_value(self.digest, self.kind)


def commit(
    key: TenantKey, kind: RecordKind | int | str, body: Any, *, salt: bytes | None = None
) -> Commitment:
    """Validate and canonicalise ``body`` and commit to it under a fresh (or given) salt."""
    k = parse_kind(kind)
    validate_body(k, body)
    canonical = canonicalize(body)
    if salt is None:
        salt = secrets.token_bytes(SALT_BYTES)
    elif len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes")
    return Commitment(k, canonical, salt, key.mac(salt, canonical))


def leaf_value(commitment: bytes | str, kind: RecordKind | int) -> list[Any]:
    """The JSON-form Merkle leaf value ``["0x<commitment>", kind]`` (see LEAF_ENCODING)."""
    if isinstance(commitment, str):
        text = commitment.lower()
        if not text.startswith("0x"):
            text = "0x" + text
    else:
        text = "0x" + commitment.hex()
    if len(text) != 66:
        raise ValueError("commitment must be 32 bytes")
    return [text, int(kind)]
