"""Read-only rows by id whose personal (encrypted) columns are decrypted only when read.

A relation loaded for display (a page of claims with their insured, a page of policies with
their customer) does not need ORM entities: every column of the mapped table, read by
attribute like an entity and converted by the same column types (so the same values), is
enough, and a page of 50 rows then does not build, track and identity-map 50 entities. An
encrypted column (``core.crypto.EncryptedString``) is opened by its own result processor
(same key, same context, same value) the first time it is read, and never if it is not:
a claims page reads the insured's name, not their ID number, phone or email.

Example::

    rows = sealed_rows_by_id(session, Customer.__table__, [1, 2])
    rows[1].name   # decrypted now; rows[1].id_number stays sealed until read
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, Text, TypeDecorator, select, type_coerce
from sqlalchemy.orm import Session

from core.crypto import EncryptedString, sealed_source

__all__ = ["SealedRow", "sealed_rows_by_id"]


class _Raw(TypeDecorator[Any]):
    """No result conversion at all: the driver's value as it comes."""

    impl = Text
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


_RAW = _Raw()


class SealedRow:
    """A read-only row whose encrypted (``core.crypto``) columns are decrypted on first read.

    Every other column is converted by the select as usual and read as a plain attribute;
    an encrypted column's value is opened by that column type's own result processor the
    first time it is read. The bookkeeping timestamps (``created_at``, ``updated_at``) are
    converted the same way, on first read.
    """

    def __init__(self, values: dict[str, Any], sealed: dict[str, tuple[Any, Any]]) -> None:
        self.__dict__.update(values)
        self.__dict__["_sealed"] = sealed  # column -> (raw value, result processor), until read

    def __getattr__(self, name: str) -> Any:  # only for names not set yet
        try:
            raw, proc = self.__dict__["_sealed"].pop(name)
        except KeyError:
            raise AttributeError(name) from None
        value = self.__dict__[name] = proc(raw)
        return value


def _deferred(column: Any) -> bool:
    """Columns converted on first read: personal (encrypted) ones, and timestamps, which cost a parse."""
    return isinstance(column.type, EncryptedString) or column.key in ("created_at", "updated_at")


@cache
def _sealed_select(table: Table) -> tuple[Any, list[str], list[Any]]:
    """The select of a table's plain columns and raw deferred ones (built once per table)."""
    deferred = [c for c in table.c if _deferred(c)]
    plain = [c for c in table.c if not _deferred(c)]
    # An encrypted column is fetched with its row binding (core.crypto.sealed_source) to open later.
    raw = [sealed_source(c) if isinstance(c.type, EncryptedString) else c for c in deferred]
    stmt = select(*plain, *[type_coerce(r, _RAW).label(c.key) for r, c in zip(raw, deferred, strict=True)])
    return stmt, [c.key for c in plain], deferred


def sealed_rows_by_id(session: Session, table: Table, ids: Sequence[int]) -> dict[int, Any]:
    """Rows of ``table`` keyed by id as read-only :class:`SealedRow` s, one query."""
    stmt, keys, deferred = _sealed_select(table)
    dialect = session.get_bind().dialect
    procs = [(c.key, c.type._cached_result_processor(dialect, None) or _same) for c in deferred]
    n = len(keys)
    out: dict[int, Any] = {}
    for row in session.execute(stmt.where(table.c.id.in_(ids))).all():
        pending = {key: (raw, proc) for (key, proc), raw in zip(procs, row[n:], strict=True)}
        item = SealedRow(dict(zip(keys, row[:n], strict=True)), pending)
        out[item.id] = item
    return out


def _same(value: Any) -> Any:
    return value
