"""The audit log is a hash chain (any edit or deletion is found) of keyed input digests."""

from __future__ import annotations

import datetime as dt
import hashlib

import rfc8785
from sqlalchemy import text
from stdnum.cn import ric

from core.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditKey,
    _entry_hash,
    append_audit,
    current_audit_key,
    digest_input,
    verify_chain,
)


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


def test_input_digests_are_keyed() -> None:
    payload = {"idNumber": "110101199003077777", "phone": "13800138000"}
    a, b = AuditKey.generate(), AuditKey.generate()
    assert digest_input(payload, key=a) == digest_input(payload, key=a) != digest_input(payload, key=b)
    assert digest_input(payload) == digest_input(payload, key=current_audit_key())
    assert len(digest_input(payload)) == 64 and a.key.hex() not in repr(a)


def test_an_id_number_cannot_be_confirmed_from_the_stored_digest(session_factory) -> None:  # type: ignore[no-untyped-def]
    # An ID number has little entropy: region, birth date, a 3-digit sequence and a check digit.
    body = "11010119900307"
    candidates = [body + f"{n:03d}" + ric.calc_check_digit(body + f"{n:03d}" + "0") for n in range(1000)]
    secret = candidates[777]
    with session_factory() as s:
        entry = append_audit(s, actor="agent-1", role="agent", action="registerCustomer",
                             input_digest=digest_input({"idNumber": secret}))
        s.commit()
        stored = entry.input_digest
    # whoever reads the audit log (or a backup of it) tries every candidate: no plain hash matches
    guesses = {hashlib.sha256(rfc8785.dumps({"idNumber": c})).hexdigest() for c in candidates}
    assert stored not in guesses
    # the audit key holder can still show which input this entry recorded
    keyed = [c for c in candidates if digest_input({"idNumber": c}) == stored]
    assert keyed == [secret]


def test_entries_from_before_keyed_digests_keep_verifying(session_factory) -> None:  # type: ignore[no-untyped-def]
    at = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    content = {"seq": 1, "at": at.isoformat(), "actor": "old", "role": None, "action": "a", "target": None,
               "outcome": "ok", "input": "ab" * 32}
    with session_factory() as s:  # written by the previous version: plain SHA-256, no algorithm in the hash
        s.add(AuditEntry(seq=1, at=at, actor="old", role=None, action="a", target=None, outcome="ok",
                         input_digest="ab" * 32, input_digest_alg="sha256", prev_hash=GENESIS_HASH,
                         hash=_entry_hash(GENESIS_HASH, content)))
        s.flush()
        new = append_audit(s, actor="u", role="admin", action="b", input_digest=digest_input({"x": 1}))
        s.commit()
        assert new.input_digest_alg == "hmac-sha256" and verify_chain(s) is None
        s.execute(text("UPDATE audit_entry SET input_digest_alg = 'sha256' WHERE seq = 2"))
        s.commit()
        s.expire_all()
        brk = verify_chain(s)  # the algorithm of a new entry is covered by its hash
        assert brk is not None and brk.seq == 2


# --- the log through GraphQL (auditors and admins) -----------------------------------------------

ENTRIES = """query($first: Int, $after: String, $last: Int, $before: String) {
  auditEntries(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { node { id seq actor role action outcome refusalCodes } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def test_audit_entries_page_both_ways_with_typed_values(gql, session_factory) -> None:  # type: ignore[no-untyped-def]
    from core.auth import Role

    with session_factory() as s:
        for i in range(4):
            append_audit(s, actor="u", role="agent", action=f"act{i}", input_digest=digest_input({"i": i}))
        append_audit(s, actor="partner-client:x", role=None, action="partnerLogin", input_digest=digest_input(5),
                     outcome="refused:BAD_SECRET,LOCKED")
        s.commit()
    auditor = gql(Role.AUDITOR)
    first = auditor(ENTRIES, {"first": 2})["auditEntries"]
    assert first["totalCount"] == 5 and [e["node"]["seq"] for e in first["edges"]] == [1, 2]
    assert first["edges"][0]["node"]["role"] == "AGENT" and first["edges"][0]["node"]["outcome"] == "OK"
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    rest = auditor(ENTRIES, {"first": 10, "after": first["pageInfo"]["endCursor"]})["auditEntries"]
    assert [e["node"]["seq"] for e in rest["edges"]] == [3, 4, 5] and rest["pageInfo"]["hasPreviousPage"]
    refused = rest["edges"][-1]["node"]
    assert refused["outcome"] == "REFUSED" and refused["refusalCodes"] == ["BAD_SECRET", "LOCKED"]
    assert refused["role"] is None
    last = auditor(ENTRIES, {"last": 2, "before": rest["pageInfo"]["endCursor"]})["auditEntries"]
    assert [e["node"]["seq"] for e in last["edges"]] == [3, 4]
    assert last["pageInfo"]["hasPreviousPage"] and last["pageInfo"]["hasNextPage"]
    node = "query($id: ID!) { node(id: $id) { id ... on AuditEntry { seq action } } }"
    gid = refused["id"]
    assert gql(Role.ADMIN)(node, {"id": gid})["node"] == {"id": gid, "seq": 5, "action": "partnerLogin"}
    # everyone else: no such entry (the fragment's fields are refused before execution, so ask for the id only)
    assert gql(Role.MANAGER)("query($id: ID!) { node(id: $id) { id } }", {"id": gid})["node"] is None
