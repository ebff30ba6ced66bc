"""Encryption at rest for personal fields, and blind indexes to look them up.

Values are sealed with AES-256-GCM under the *current* data key of a keyring and stored
as ``v2:<key id>:<base64(nonce ‖ ciphertext)>``. The associated data binds the value to
its table and column (the ``context``, e.g. ``customer.id_number``) *and to its row*: a
random immutable per-row id (:class:`RowUid`, column ``row_uid``) or another immutable
unique column (a ledger record's commitment). A value copied into another column or
another row does not decrypt. Older keys stay in the keyring to open what they sealed
until ``opsure keys reencrypt`` has moved every value to the current key; values of the
first format (``v1:``, bound to the column only) still open under key id 1.

Sealing happens where the row is known: before an ORM insert or update, each encrypted
attribute is tagged with its row's binding (:func:`bind_row`), and a SELECT of an
encrypted column fetches ``<row binding>|<sealed value>`` (the type's column
expression), so every query reads plaintext as before. A value written without its row
(a bulk UPDATE of an encrypted column, say) is refused, never stored unbound.

The keyring lives in ``<data_dir>/keys/field.key`` (or ``OPSURE_FIELD_KEY``)::

    index=<64 hex>     blind-index key (never rotated: that would need re-indexing)
    1=<64 hex>         data keys by id
    2=<64 hex>
    current=2          the key that seals

The single-key file of earlier versions (128 hex: data key, then blind-index key) reads
as key id 1 with that index key.

Example::

    install_field_keys(FieldKeys.load_or_create(settings.keys_dir))

    class Customer(RowUid, Base):
        id_number: Mapped[str] = mapped_column(EncryptedString("customer.id_number"))
        id_number_bidx: Mapped[str] = mapped_column(String(64), index=True)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, Text, event, literal_column, type_coerce
from sqlalchemy.orm import Mapped, Mapper, attributes, mapped_column
from sqlalchemy.sql.elements import ColumnElement, Label
from sqlalchemy.types import TypeDecorator

from core.keyfiles import secret_file

__all__ = [
    "FIELD_KEY_ENV",
    "EncryptedString",
    "FieldKeys",
    "InvalidTag",
    "RowUid",
    "SealingError",
    "UnknownFieldKeyError",
    "bind_row",
    "blind_index",
    "current_field_keys",
    "field_keys_installed",
    "install_field_keys",
    "key_id_of",
    "new_row_uid",
    "sealed_source",
    "write_keyring",
]

FIELD_KEY_ENV = "OPSURE_FIELD_KEY"
FIELD_KEY_FILE = "field.key"
_V1 = "v1:"
_V2 = "v2:"
_NONCE = 12
#: Separates the row binding from the sealed value in what a SELECT fetches.
ROW_SEPARATOR = "|"
_LEGACY = re.compile(r"[0-9a-fA-F]{128}")


class SealingError(ValueError):
    """A sealed value used without what binds it (its row), or a malformed one."""


class UnknownFieldKeyError(LookupError):
    """A value sealed under a key id this keyring does not hold (retired, or a newer keyring)."""


@dataclass(frozen=True)
class FieldKeys:
    """The field keyring: data keys by id (``current`` seals, all open) and the blind-index key."""

    data_keys: Mapping[int, bytes]
    current: int
    index_key: bytes
    _aeads: dict[int, AESGCM] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.data_keys or self.current not in self.data_keys:
            raise ValueError("the keyring's current key id must be one of its keys")
        if any(kid < 1 or len(k) != 32 for kid, k in self.data_keys.items()):
            raise ValueError("field data keys are 32 bytes under key ids >= 1")
        if len(self.index_key) != 32:
            raise ValueError("the blind-index key is 32 bytes")
        object.__setattr__(self, "data_keys", MappingProxyType(dict(sorted(self.data_keys.items()))))

    def __repr__(self) -> str:  # never print key material
        return f"FieldKeys(ids={list(self.data_keys)}, current={self.current})"

    @classmethod
    def generate(cls) -> FieldKeys:
        """A fresh keyring with one data key (id 1)."""
        return cls(data_keys={1: secrets.token_bytes(32)}, current=1, index_key=secrets.token_bytes(32))

    @classmethod
    def parse(cls, text: str) -> FieldKeys:
        """Read a keyring (``name=value`` entries, or the legacy 128-hex single key)."""
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")).strip()
        if _LEGACY.fullmatch(body):
            raw = bytes.fromhex(body)
            return cls(data_keys={1: raw[:32]}, current=1, index_key=raw[32:])
        keys: dict[int, bytes] = {}
        index: bytes | None = None
        current: int | None = None
        try:
            for token in re.split(r"[\s;,]+", body):
                if not token:
                    continue
                name, sep, value = token.partition("=")
                if not sep:
                    raise ValueError(f"expected name=value, got {token[:12]!r}")
                if name == "index":
                    index = bytes.fromhex(value)
                elif name == "current":
                    current = int(value)
                elif name.isdigit():
                    keys[int(name)] = bytes.fromhex(value)
                else:
                    raise ValueError(f"unknown entry {name!r}")
        except ValueError as exc:
            raise ValueError(f"unreadable field keyring: {exc}") from None
        if index is None or not keys:
            raise ValueError("a field keyring needs index=<hex> and at least one <id>=<hex> key")
        return cls(data_keys=keys, current=current if current is not None else max(keys), index_key=index)

    def dump(self, *, one_line: bool = False) -> str:
        """The keyring as text (``one_line`` for an environment variable)."""
        entries = [f"index={self.index_key.hex()}", *(f"{k}={v.hex()}" for k, v in self.data_keys.items()),
                   f"current={self.current}"]
        if one_line:
            return ";".join(entries)
        return "# Opsure field keys (see core/crypto.py). Secret: back it up, never commit it.\n" + \
            "\n".join(entries) + "\n"

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> FieldKeys:
        """Load the keyring from ``OPSURE_FIELD_KEY`` or ``keys_dir/field.key``, creating the file once."""
        return cls.parse(secret_file(keys_dir / FIELD_KEY_FILE, env=FIELD_KEY_ENV, make=lambda: cls.generate().dump()))

    def with_new_key(self) -> FieldKeys:
        """This keyring plus a fresh data key (the next id), which becomes current."""
        kid = max(self.data_keys) + 1
        return FieldKeys(data_keys={**self.data_keys, kid: secrets.token_bytes(32)}, current=kid,
                         index_key=self.index_key)

    def without_key(self, key_id: int) -> FieldKeys:
        """This keyring without ``key_id`` (never the current key)."""
        if key_id == self.current:
            raise ValueError(f"key {key_id} is the current key; rotate first")
        if key_id not in self.data_keys:
            raise ValueError(f"no key {key_id} in this keyring")
        return FieldKeys(data_keys={k: v for k, v in self.data_keys.items() if k != key_id},
                         current=self.current, index_key=self.index_key)

    def _aead(self, key_id: int) -> AESGCM:
        aead = self._aeads.get(key_id)
        if aead is None:
            key = self.data_keys.get(key_id)
            if key is None:
                raise UnknownFieldKeyError(
                    f"field key {key_id} is not in this keyring (retired, or the process needs the new keyring)")
            aead = self._aeads[key_id] = AESGCM(key)
        return aead

    def seal(self, plaintext: str, context: str, *, row: str | None = None) -> str:
        """Encrypt ``plaintext`` under the current key, bound to ``context`` (table.column) and ``row``."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead(self.current).encrypt(nonce, plaintext.encode(), _associated(context, row))
        return f"{_V2}{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, context: str, *, row: str | None = None) -> str:
        """Decrypt a sealed value for the same context and row (``v1:`` values: key 1, column only)."""
        key_id, payload, aad = _parse(token, context, row)
        raw = _b64(payload)
        return self._aead(key_id).decrypt(raw[:_NONCE], raw[_NONCE:], aad).decode()

    def index(self, value: str, context: str) -> str:
        """Deterministic keyed digest of ``value`` for equality look-ups (hex)."""
        msg = context.encode() + b"\x00" + value.encode()
        return hmac.new(self.index_key, msg, hashlib.sha256).hexdigest()


def _associated(context: str, row: str | None) -> bytes:
    # Version tag, column and row, NUL-separated: none of them contains a NUL.
    return b"\x00".join((b"opsure.v2", context.encode(), (row or "").encode()))


def _parse(token: str, context: str, row: str | None) -> tuple[int, str, bytes]:
    if token.startswith(_V2):
        kid, sep, payload = token[len(_V2):].partition(":")
        if not sep or not kid.isdigit():
            raise SealingError("malformed sealed value")
        return int(kid), payload, _associated(context, row)
    if token.startswith(_V1):
        return 1, token[len(_V1):], context.encode()
    raise SealingError("not an Opsure sealed value")


def _b64(payload: str) -> bytes:
    try:
        raw = base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise SealingError("malformed sealed value") from None
    if len(raw) < _NONCE + 16:
        raise SealingError("malformed sealed value")
    return raw


def key_id_of(token: str) -> int:
    """The key id a sealed value was sealed under (``v1:`` values: 1)."""
    return _parse(token, "", None)[0]


def write_keyring(keys_dir: Path, keys: FieldKeys) -> Path:
    """Replace ``keys_dir/field.key`` atomically (0600, fsynced); returns its path."""
    path = keys_dir / FIELD_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(keys.dump())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


_keys: FieldKeys | None = None


def install_field_keys(keys: FieldKeys) -> None:
    """Make ``keys`` the process-wide field keyring (done once at start-up)."""
    global _keys
    _keys = keys


def field_keys_installed() -> bool:
    """Whether a field keyring is installed in this process."""
    return _keys is not None


def current_field_keys() -> FieldKeys:
    """The installed field keys; refuses to run without them rather than store plaintext."""
    if _keys is None:
        raise RuntimeError("field encryption keys are not installed")
    return _keys


def blind_index(value: str, context: str) -> str:
    """Keyed digest for looking up an encrypted field by exact value."""
    return current_field_keys().index(value, context)


def new_row_uid() -> str:
    """A fresh random row id (128 bits, hex)."""
    return secrets.token_hex(16)


class RowUid:
    """A random, immutable per-row id, bound into the row's encrypted fields as associated data."""

    row_uid: Mapped[str] = mapped_column(String(32), unique=True, index=True, nullable=False, default=new_row_uid,
                                         info={"row_uid": True})


class RowBound(str):
    """A plaintext on its way into an encrypted column, tagged with its row's binding."""

    row: str

    def __new__(cls, value: str, row: str) -> RowBound:
        bound = super().__new__(cls, value)
        bound.row = row
        return bound


def bind_row(value: str | None, row: str) -> str | None:
    """Tag ``value`` for an encrypted column of the row bound by ``row`` (Core inserts need this)."""
    return None if value is None else RowBound(value, row)


class EncryptedString(TypeDecorator[str]):
    """A string column stored encrypted (AES-256-GCM), bound to its column and its row.

    ``row`` names the column of the same table whose value binds the row (``row_uid`` of
    :class:`RowUid` by default; any immutable unique column will do).
    """

    impl = Text
    cache_ok = True

    def __init__(self, context: str, *args: Any, row: str = "row_uid", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context
        self.row = row

    def raw_expression(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        """SQL for ``<row binding>|<sealed value>`` of ``column`` (what the result processor opens)."""
        inner = column.element if isinstance(column, Label) else column
        table = getattr(inner, "table", None)
        if table is None or self.row not in table.c:
            raise SealingError(f"{self.context} can only be selected with its table's {self.row!r} column "
                               "(the row is bound into the ciphertext)")
        row: ColumnElement[str] = table.c[self.row]
        return row + literal_column(f"'{ROW_SEPARATOR}'") + type_coerce(inner, Text)

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        return type_coerce(self.raw_expression(column), self)

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, RowBound):
            raise SealingError(f"{self.context} written without its row binding (use the ORM or bind_row)")
        return current_field_keys().seal(value, self.context, row=value.row)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        row, sep, token = value.rpartition(ROW_SEPARATOR)
        if not sep:
            raise SealingError(f"{self.context} read without its row binding (select it through sealed_source)")
        return current_field_keys().open(token, self.context, row=row)


def sealed_source(column: Any) -> ColumnElement[str]:
    """The raw ``<row binding>|<sealed value>`` of an encrypted column, for deferred opening.

    Open it later with the column type's result processor (same key, context and row).
    """
    return column.type.raw_expression(column)  # type: ignore[no-any-return]


# ----- sealing at flush: tag each encrypted attribute with its row's binding -----

_plans: dict[Mapper[Any], list[tuple[str, str, bool]]] = {}


def _plan(mapper: Mapper[Any]) -> list[tuple[str, str, bool]]:
    """(attribute, row attribute, row is a RowUid) for every encrypted column of ``mapper``."""
    plan = _plans.get(mapper)
    if plan is None:
        plan = []
        for prop in mapper.column_attrs:
            col = prop.columns[0]
            if isinstance(col.type, EncryptedString) and col.table is mapper.local_table:
                row_col = mapper.local_table.c[col.type.row]
                row_prop = mapper.get_property_by_column(row_col)
                plan.append((prop.key, row_prop.key, bool(row_col.info.get("row_uid"))))
        _plans[mapper] = plan
    return plan


def _bind_rows(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    state = target.__dict__
    for key, row_key, generated in _plan(mapper):
        row = state.get(row_key)
        if row is None and generated:
            row = new_row_uid()
            setattr(target, row_key, row)
        value = state.get(key)
        if value is None or (isinstance(value, RowBound) and value.row == row):
            continue
        if not row:
            raise SealingError(f"{mapper.class_.__name__}.{key}: its row binding {row_key!r} is empty")
        state[key] = RowBound(value, row)


def _check_row_unchanged(mapper: Mapper[Any], connection: Any, target: Any) -> None:
    for _key, row_key, _generated in _plan(mapper):
        if attributes.get_history(target, row_key).deleted:
            raise SealingError(f"{mapper.class_.__name__}.{row_key} binds encrypted fields: it never changes")
    _bind_rows(mapper, connection, target)


def _unbind(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    state = target.__dict__
    for key, _row_key, _generated in _plan(mapper):
        value = state.get(key)
        if isinstance(value, RowBound):
            state[key] = str(value)


event.listen(Mapper, "before_insert", _bind_rows)
event.listen(Mapper, "before_update", _check_row_unchanged)
event.listen(Mapper, "after_insert", _unbind)
event.listen(Mapper, "after_update", _unbind)
