"""Encryption at rest for personal fields, and blind indexes to look them up.

Values are sealed with AES-256-GCM under a data key kept in ``<data_dir>/keys/field.key``
(or ``OPSURE_FIELD_KEY``, hex). The column stores ``v1:<nonce><ciphertext>`` base64; the
table name and column are bound in as associated data, so a value copied into another
column does not decrypt.

Example::

    install_field_keys(FieldKeys.load_or_create(settings.keys_dir))

    class Customer(Base):
        id_number: Mapped[str] = mapped_column(EncryptedString("customer.id_number"))
        id_number_bidx: Mapped[str] = mapped_column(String(64), index=True)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.types import Text, TypeDecorator

from core.keyfiles import secret_file

__all__ = ["EncryptedString", "FieldKeys", "blind_index", "current_field_keys", "install_field_keys"]

_PREFIX = "v1:"


@dataclass(frozen=True)
class FieldKeys:
    """The data-encryption key and the blind-index key of this deployment."""

    data_key: bytes
    index_key: bytes

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(self.data_key)

    @classmethod
    def generate(cls) -> FieldKeys:
        """Fresh random keys (tests)."""
        return cls(data_key=secrets.token_bytes(32), index_key=secrets.token_bytes(32))

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> FieldKeys:
        """Load keys from ``OPSURE_FIELD_KEY`` or ``keys_dir/field.key``, creating the file once."""
        raw = bytes.fromhex(secret_file(keys_dir / "field.key", env="OPSURE_FIELD_KEY",
                                        make=lambda: secrets.token_bytes(64).hex()))
        if len(raw) != 64:
            raise ValueError("field key must be 64 bytes (128 hex characters)")
        return cls(data_key=raw[:32], index_key=raw[32:])

    def seal(self, plaintext: str, context: str) -> str:
        """Encrypt ``plaintext`` bound to ``context`` (table.column)."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, token: str, context: str) -> str:
        """Decrypt a value sealed by :meth:`seal` for the same context."""
        if not token.startswith(_PREFIX):
            raise ValueError("not an Opsure sealed value")
        raw = base64.b64decode(token[len(_PREFIX) :])
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()

    def index(self, value: str, context: str) -> str:
        """Deterministic keyed digest of ``value`` for equality look-ups (hex)."""
        msg = context.encode() + b"\x00" + value.encode()
        return hmac.new(self.index_key, msg, hashlib.sha256).hexdigest()


_keys: FieldKeys | None = None


def install_field_keys(keys: FieldKeys) -> None:
    """Make ``keys`` the process-wide field keys (done once at start-up)."""
    global _keys
    _keys = keys


def current_field_keys() -> FieldKeys:
    """The installed field keys; refuses to run without them rather than store plaintext."""
    if _keys is None:
        raise RuntimeError("field encryption keys are not installed")
    return _keys


def blind_index(value: str, context: str) -> str:
    """Keyed digest for looking up an encrypted field by exact value."""
    return current_field_keys().index(value, context)


class EncryptedString(TypeDecorator[str]):
    """A string column stored encrypted (AES-256-GCM) and bound to its column name."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return current_field_keys().seal(value, self.context)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return current_field_keys().open(value, self.context)
