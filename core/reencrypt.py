"""Re-encryption of sealed columns under the keyring's current key (key rotation).

Works on raw column values (no ORM, no models), so a migration can run it with a frozen
list of columns and ``opsure keys reencrypt`` with the live one (:func:`sealed_columns`).
Each value not yet sealed as ``v2:<current key>:`` is opened with the key it names (and
its row binding) and sealed again under the current key. Rows are walked in primary-key
order, one batch per transaction: an interrupted run resumes where values are still
old, a finished one finds nothing to do. A value changed by a concurrent writer between
read and write is left alone (the UPDATE matches the old value only).

Example::

    report = reencrypt(engine.begin, sealed_columns(metadata), keys=current_field_keys())
    with engine.connect() as conn:
        remaining_by_key(conn, columns, keys.data_keys)   # {"2": 1234}: nothing left under key 1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import MetaData, bindparam, case, column, func, select, table, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import TableClause

from core.crypto import EncryptedString, FieldKeys, SealingError, UnknownFieldKeyError

__all__ = ["ReencryptReport", "SealedColumn", "reencrypt", "remaining_by_key", "sealed_columns"]


@dataclass(frozen=True)
class SealedColumn:
    """Where sealed values live: table, column, their context and the column binding the row."""

    table: str
    column: str
    context: str
    row: str | None = "row_uid"
    pk: str = "id"
    #: A column whose value completes the context (``context + value``), for per-object contexts.
    context_from: str | None = None

    def clause(self) -> TableClause:
        """A lightweight table of the key, row and value columns (values read raw, never opened)."""
        cols = {self.pk, self.column} | {c for c in (self.row, self.context_from) if c}
        return table(self.table, *(column(c) for c in sorted(cols)))

    @property
    def name(self) -> str:
        """``table.column``."""
        return f"{self.table}.{self.column}"


def sealed_columns(metadata: MetaData) -> list[SealedColumn]:
    """Every :class:`~core.crypto.EncryptedString` column of ``metadata``."""
    out = []
    for t in metadata.sorted_tables:
        pk = list(t.primary_key.columns)
        for c in t.columns:
            if isinstance(c.type, EncryptedString):
                if len(pk) != 1:
                    raise ValueError(f"{t.name}: re-encryption walks tables by a single-column primary key")
                out.append(SealedColumn(t.name, c.name, c.type.context, c.type.row, pk[0].name))
    return out


@dataclass
class ReencryptReport:
    """What a run did: values rewritten per column, and values that would not open."""

    rewritten: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, Any, str]] = field(default_factory=list)  # (column, primary key, why)

    @property
    def total(self) -> int:
        """Values rewritten in all."""
        return sum(self.rewritten.values())


def _stale(keys: FieldKeys, col: SealedColumn, t: TableClause) -> Any:
    value = t.c[col.column]
    return value.isnot(None) & ~value.like(f"v2:{keys.current}:%")


def _binding(col: SealedColumn, r: Any) -> tuple[str | None, str]:
    """The row binding and the context of one fetched row (pk, value, [row], [context_from])."""
    rest = list(r[2:])
    bound = rest.pop(0) if col.row else None
    return bound, col.context + (str(rest.pop(0)) if col.context_from else "")


def reencrypt(
    transaction: Callable[[], AbstractContextManager[Connection]],
    columns: Iterable[SealedColumn],
    *,
    keys: FieldKeys,
    batch: int = 500,
    progress: Callable[[str, int], None] | None = None,
) -> ReencryptReport:
    """Seal every value of ``columns`` under ``keys.current``; one ``transaction()`` per batch."""
    report = ReencryptReport()
    for col in columns:
        t = col.clause()
        pk, value = t.c[col.pk], t.c[col.column]
        extra = [t.c[c] if c else None for c in (col.row, col.context_from)]
        stmt = update(t).where(pk == bindparam("b_pk"), value == bindparam("b_old")).values(
            {col.column: bindparam("b_new")})
        after: Any = None
        done = 0
        while True:
            with transaction() as conn:
                query = select(pk, value, *(c for c in extra if c is not None)).where(_stale(keys, col, t))
                if after is not None:
                    query = query.where(pk > after)
                rows = conn.execute(query.order_by(pk).limit(batch)).all()
                if not rows:
                    break
                changes = []
                for r in rows:
                    bound, context = _binding(col, r)
                    try:
                        plain = keys.open(r[1], context, row=bound)
                    except (InvalidTag, SealingError, UnknownFieldKeyError) as exc:
                        report.failures.append((col.name, r[0], type(exc).__name__))
                        continue
                    changes.append({"b_pk": r[0], "b_old": r[1], "b_new": keys.seal(plain, context, row=bound)})
                if changes:
                    conn.execute(stmt, changes)
                after = rows[-1][0]
                done += len(changes)
            if progress is not None:
                progress(col.name, done)
        report.rewritten[col.name] = done
    return report


def remaining_by_key(conn: Connection, columns: Iterable[SealedColumn], key_ids: Iterable[int]) -> dict[str, int]:
    """Sealed values by format and key: ``"v1"`` (first format, key 1), ``"<key id>"``, ``"other"``."""
    ids = sorted(set(key_ids))
    counts: Counter[str] = Counter()
    for col in columns:
        value = col.clause().c[col.column]
        like = [value.like("v1:%"), *(value.like(f"v2:{k}:%") for k in ids)]
        sums = [func.coalesce(func.sum(case((cond, 1), else_=0)), 0) for cond in like]
        total, v1, *per_key = conn.execute(select(func.count(value), *sums)).one()
        counts["v1"] += int(v1)
        for k, n in zip(ids, per_key, strict=True):
            counts[str(k)] += int(n)
        counts["other"] += int(total) - int(v1) - sum(int(n) for n in per_key)
    return {k: n for k, n in counts.items() if n}
