"""Batch fetches of the claims domain's relations (used by the schema's DataLoaders).

The relation fetches answer read-only rows rather than ORM entities: every column of the
mapped table, read by attribute like an entity, converted by the same column types (so
the same values). The GraphQL types only read them, so a page of 50 claims does not
build, track and identity-map ~50 entities per relation; customers and policies come as
:class:`SealedRow` s, which decrypt a personal column only when it is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table, Text, TypeDecorator, select, type_coerce
from sqlalchemy.orm import Session

from core.crypto import EncryptedString, sealed_source
from resolvers.claims.models import Claim, ClaimDocument, ClaimEvent, ClaimLineItem, DocumentRequest, Payment
from resolvers.policies.models import Customer, Policy

__all__ = [
    "SealedRow",
    "claims_by_id",
    "customers_by_id",
    "documents_by_claim",
    "events_by_claim",
    "line_items_by_claim",
    "payments_by_claim",
    "policies_by_id",
    "requests_by_claim",
]

T = TypeVar("T")


def claims_by_id(session: Session, ids: Sequence[int]) -> dict[int, Claim]:
    """Claims keyed by id, one query (callers apply visibility)."""
    return {c.id: c for c in session.scalars(select(Claim).where(Claim.id.in_(ids)))}


def _grouped(session: Session, model: Any, ids: Sequence[int], order: Any) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in ids}
    table = model.__table__
    for row in session.execute(select(table).where(table.c.claim_id.in_(ids)).order_by(order)).all():
        out[row.claim_id].append(row)
    return out


def line_items_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[ClaimLineItem]]:
    """Line items grouped by claim, in invoice order, one query."""
    return _grouped(session, ClaimLineItem, ids, ClaimLineItem.position)


def documents_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[ClaimDocument]]:
    """Documents grouped by claim, oldest first, one query."""
    return _grouped(session, ClaimDocument, ids, ClaimDocument.id)


def events_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[ClaimEvent]]:
    """Timeline events grouped by claim, oldest first, one query."""
    return _grouped(session, ClaimEvent, ids, ClaimEvent.id)


def payments_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[Payment]]:
    """Payments grouped by claim, one query."""
    return _grouped(session, Payment, ids, Payment.id)


def requests_by_claim(session: Session, ids: Sequence[int]) -> dict[int, list[DocumentRequest]]:
    """Document requests grouped by claim, one query."""
    return _grouped(session, DocumentRequest, ids, DocumentRequest.id)


# --- rows whose personal columns are decrypted when read ------------------------------------------


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
    an encrypted column's value is opened by that column type's own result processor
    (same key, same context, same value) the first time it is read, and never if it is
    not: a claims page reads the insured's name, not their ID number, phone or email.
    The bookkeeping timestamps (``created_at``, ``updated_at``) are converted the same way.
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


def _sealed_rows(session: Session, table: Table, ids: Sequence[int]) -> dict[int, Any]:
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


def customers_by_id(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """Customers keyed by id as read-only :class:`SealedRow` s, one query (callers apply visibility)."""
    return _sealed_rows(session, Customer.__table__, ids)  # type: ignore[arg-type]


def policies_by_id(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """Policies keyed by id as read-only :class:`SealedRow` s, one query (callers apply visibility)."""
    return _sealed_rows(session, Policy.__table__, ids)  # type: ignore[arg-type]
