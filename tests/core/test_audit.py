"""The audit log is a hash chain: any edit or deletion is found."""

from __future__ import annotations

from sqlalchemy import text

from core.audit import append_audit, digest_input, verify_chain


def test_chain_verifies_and_detects_tampering(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        for i in range(5):
            append_audit(s, actor="u", role="admin", action=f"act{i}", input_digest=digest_input({"i": i}))
        s.commit()
        assert verify_chain(s) is None
        s.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 3"))
        s.commit()
        brk = verify_chain(s)
        assert brk is not None and brk.seq == 3 and "altered" in brk.reason


def test_deleted_entry_is_found(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        for i in range(3):
            append_audit(s, actor="u", role=None, action="a", input_digest=digest_input(i))
        s.commit()
        s.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
        s.commit()
        brk = verify_chain(s)
        assert brk is not None and brk.seq == 2


def test_input_digest_is_canonical() -> None:
    assert digest_input({"b": 1, "a": [1, 2]}) == digest_input({"a": [1, 2], "b": 1})
    assert digest_input({"a": 1}) != digest_input({"a": 2})
