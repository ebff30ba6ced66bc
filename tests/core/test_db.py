"""Transactions: a savepoint never commits the outer transaction; versions fence writers."""

from __future__ import annotations

from sqlalchemy import func, select

from core.audit import AuditEntry, append_audit, digest_input
from core.db import read_only_session


def test_savepoint_release_does_not_commit_the_outer_transaction(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        with s.begin_nested():  # the first statement of the transaction is a SAVEPOINT
            append_audit(s, actor="u", role=None, action="a", input_digest=digest_input(1))
        s.rollback()
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_read_only_session_reads_while_a_writer_holds_the_lock(session_factory) -> None:  # type: ignore[no-untyped-def]
    writer = session_factory()
    try:
        append_audit(writer, actor="u", role=None, action="a", input_digest=digest_input(1))
        reader = read_only_session(session_factory)
        try:
            assert reader.scalar(select(func.count()).select_from(AuditEntry)) == 0  # not yet committed
        finally:
            reader.close()
        writer.commit()
    finally:
        writer.close()
