"""Commitments: per-kind validation, RFC 8785 canonical form, salted HMAC, storage, erasure."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from core.db import transaction
from core.errors import NotFoundError, ValidationError
from ledger import service
from ledger.commitments import (
    KIND_FIELDS,
    LEAF_ENCODING,
    TenantKey,
    canonicalize,
    commit,
    current_tenant_key,
    install_tenant_key,
    leaf_value,
    parse_kind,
    validate_body,
)
from ledger.contract import RecordKind
from ledger.merkle import StandardMerkleTree
from ledger.models import LedgerRecord, RecordStatus

KEY = TenantKey.generate()

VALID: dict[RecordKind, dict[str, Any]] = {
    RecordKind.MEDICAL: {"documentType": "invoice", "provider": "Union Hospital", "issuedOn": "2026-05-01",
                         "amount": "1234.50", "diagnoses": ["J18.9"]},
    RecordKind.CREDIT: {"bureau": "PBOC", "reportRef": "CR-77", "issuedOn": "2026-04-30", "score": 712},
    RecordKind.SURVEY: {"assessor": "A-17", "conclusion": "consistent", "surveyedOn": "2026-05-02"},
    RecordKind.INVESTIGATION_EVENT: {"caseRef": "INV-9", "event": "interview", "at": "2026-05-03T10:00:00+08:00"},
    RecordKind.AUDIT_LOG: {"seq": 1, "hash": "ab" * 32, "prevHash": "00" * 32},
    RecordKind.RISK_FLAG: {"flag": "duplicate-invoice", "level": "high", "at": "2026-05-03T02:00:00Z"},
    RecordKind.HOSPITAL_BILL: {"billNo": "B-1", "amount": "88.00", "issuedOn": "2026-05-04"},
}


@pytest.fixture(autouse=True)
def _tenant_key() -> Iterator[None]:
    install_tenant_key(KEY)
    yield
    install_tenant_key(None)


# ------------------------------------------------------------------------- validation


def test_every_kind_has_a_shape_and_valid_bodies_pass() -> None:
    assert set(KIND_FIELDS) == set(RecordKind)
    for kind, body in VALID.items():
        validate_body(kind, body)
        c = commit(KEY, kind, body)
        assert c.kind is kind and len(c.digest) == 32 and len(c.salt) == 32


@pytest.mark.parametrize("kind", list(RecordKind))
def test_missing_required_key_is_refused_with_its_field(kind: RecordKind) -> None:
    for name in KIND_FIELDS[kind]:
        body = {k: v for k, v in VALID[kind].items() if k != name}
        with pytest.raises(ValidationError) as info:
            commit(KEY, kind, body)
        assert info.value.field == f"body.{name}"
        assert info.value.code == "REQUIRED"


@pytest.mark.parametrize(
    ("kind", "key", "bad"),
    [
        (RecordKind.MEDICAL, "issuedOn", "2026-02-30"),
        (RecordKind.MEDICAL, "issuedOn", "01/05/2026"),
        (RecordKind.MEDICAL, "provider", ""),
        (RecordKind.MEDICAL, "provider", 7),
        (RecordKind.INVESTIGATION_EVENT, "at", "2026-05-03T10:00:00"),  # no zone
        (RecordKind.INVESTIGATION_EVENT, "at", "yesterday"),
        (RecordKind.AUDIT_LOG, "seq", -1),
        (RecordKind.AUDIT_LOG, "seq", True),
        (RecordKind.AUDIT_LOG, "hash", "AB" * 32),
        (RecordKind.HOSPITAL_BILL, "amount", 88.0),
        (RecordKind.HOSPITAL_BILL, "amount", "1e3"),
    ],
)
def test_bad_values_are_refused(kind: RecordKind, key: str, bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        commit(KEY, kind, {**VALID[kind], key: bad})
    assert info.value.field == f"body.{key}"
    assert info.value.code == "INVALID"


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "text",
        None,
        {**VALID[RecordKind.SURVEY], "x": float("nan")},
        {**VALID[RecordKind.SURVEY], "x": 2**60},
        {**VALID[RecordKind.SURVEY], "x": b"bytes"},
        {**VALID[RecordKind.SURVEY], "x": {1: 2}},
        {**VALID[RecordKind.SURVEY], "x": "y" * 300_000},
    ],
)
def test_non_json_bodies_are_refused(body: Any) -> None:
    with pytest.raises(ValidationError) as info:
        commit(KEY, RecordKind.SURVEY, body)
    assert info.value.field == "body"


def test_kinds_by_name_and_code() -> None:
    assert parse_kind("medical") is RecordKind.MEDICAL
    assert parse_kind("INVESTIGATION_EVENT") is RecordKind.INVESTIGATION_EVENT
    assert parse_kind("investigation-event") is RecordKind.INVESTIGATION_EVENT
    assert parse_kind(5) is RecordKind.AUDIT_LOG
    assert parse_kind("3") is RecordKind.SURVEY
    for bad in ("payroll", 0, 99, True, None, 1.0):
        with pytest.raises(ValidationError) as info:
            parse_kind(bad)  # type: ignore[arg-type]
        assert info.value.code == "UNKNOWN_KIND" and info.value.field == "kind"


# ------------------------------------------------------------------ canonical + HMAC


def test_commitment_is_hmac_of_salt_and_rfc8785_canonical_json() -> None:
    body: Any = {"surveyedOn": "2026-05-02", "conclusion": "一致", "assessor": "A-17", "n": 1.5e-7}
    salt = bytes(range(32))
    c = commit(KEY, RecordKind.SURVEY, body, salt=salt)
    assert c.canonical == rfc8785.dumps(body)
    assert c.canonical == '{"assessor":"A-17","conclusion":"一致","n":1.5e-7,"surveyedOn":"2026-05-02"}'.encode()
    assert c.digest == hmac.new(KEY.key, salt + c.canonical, hashlib.sha256).digest()
    assert c.hex == "0x" + c.digest.hex()
    # key order does not matter; the salt and the key do
    shuffled = dict(reversed(list(body.items())))
    assert commit(KEY, RecordKind.SURVEY, shuffled, salt=salt).digest == c.digest
    assert commit(KEY, RecordKind.SURVEY, body, salt=bytes(32)).digest != c.digest
    assert commit(TenantKey.generate(), RecordKind.SURVEY, body, salt=salt).digest != c.digest
    assert "salt" not in repr(c) and KEY.key.hex() not in repr(KEY)


def test_fresh_salt_per_record() -> None:
    body = VALID[RecordKind.MEDICAL]
    commitments = {commit(KEY, RecordKind.MEDICAL, body).digest for _ in range(50)}
    assert len(commitments) == 50


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(extra=st.dictionaries(st.text(max_size=8), json_values, max_size=5), salt=st.binary(min_size=32, max_size=32))
def test_commitment_is_stable_through_json_round_trips(extra: dict[str, Any], salt: bytes) -> None:
    body = {**extra, **VALID[RecordKind.SURVEY]}
    c = commit(KEY, RecordKind.SURVEY, body, salt=salt)
    again = json.loads(json.dumps(body))
    assert canonicalize(again) == c.canonical
    assert commit(KEY, RecordKind.SURVEY, again, salt=salt).digest == c.digest
    assert set(json.loads(c.canonical)) == set(body)


plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) - 5, 2**53 + 5) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(value=plain_values | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127)), plain_values))
def test_fast_canonical_path_is_byte_identical_to_rfc8785(value: Any) -> None:
    """The C-encoder path for plain bodies equals rfc8785.dumps, or both refuse."""
    try:
        expected: bytes | None = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        expected = None
    try:
        got: bytes | None = canonicalize(value)
    except ValidationError:
        got = None
    if expected is not None and len(expected) > 256 * 1024:
        expected = None
    assert got == expected


def test_control_characters_and_unicode_escape_like_rfc8785() -> None:
    body: Any = {"s": "".join(chr(i) for i in range(0x30)) + "\x7f\u2028\u00e9中文😀\"\\", "k\u00e9": {"z": 1, "a": [True, None]}}
    assert canonicalize(body) == rfc8785.dumps(body)
    with pytest.raises(ValidationError, match="non-UTF-8"):
        canonicalize({"s": "lone \ud800"})


def test_leaf_value_carries_only_commitment_and_kind() -> None:
    c = commit(KEY, RecordKind.CREDIT, VALID[RecordKind.CREDIT])
    leaf = c.leaf()
    assert leaf == [c.hex, 2] == leaf_value(c.digest, RecordKind.CREDIT) == leaf_value(c.hex[2:], 2)
    assert list(LEAF_ENCODING) == ["bytes32", "uint8"]
    tree = StandardMerkleTree.of([leaf], LEAF_ENCODING)
    assert StandardMerkleTree.verify(tree.root, LEAF_ENCODING, leaf, tree.get_proof(0))
    with pytest.raises(ValueError):
        leaf_value(b"short", 1)


# ------------------------------------------------------------------------ tenant key


def test_tenant_key_file_is_created_once_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSURE_TENANT_KEY", raising=False)
    keys = tmp_path / "keys"
    first = TenantKey.load_or_create(keys)
    path = keys / "tenant.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert TenantKey.load_or_create(keys) == first
    assert len(path.read_text().strip()) == 64
    monkeypatch.setenv("OPSURE_TENANT_KEY", "ab" * 32)
    assert TenantKey.load_or_create(keys).key == bytes.fromhex("ab" * 32)
    monkeypatch.setenv("OPSURE_TENANT_KEY", "abcd")
    with pytest.raises(ValueError):
        TenantKey.load_or_create(keys)


def test_no_installed_key_refuses() -> None:
    install_tenant_key(None)
    with pytest.raises(RuntimeError, match="tenant key is not installed"):
        current_tenant_key()


# --------------------------------------------------------------------- storage (DB)


def test_record_stores_encrypted_body_and_salt(session_factory: Any, engine: Any) -> None:
    body = VALID[RecordKind.MEDICAL]
    with transaction(session_factory) as s:
        row = service.record(s, kind="medical", body=body)
        rid = row.id
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT body, salt, commitment, status, batch_id FROM ledger_record")).one()
    assert raw.body.startswith("v2:") and "Union Hospital" not in raw.body  # sealed, bound to the commitment
    assert raw.salt.startswith("v2:")
    assert raw.status == "pending" and raw.batch_id is None
    with session_factory() as s:
        rec = service.get_record(s, record_id=rid)
        assert service.record_body(rec) == body
        assert rec.body == rfc8785.dumps(body).decode()
        assert rec.commitment == raw.commitment
        salt = bytes.fromhex(rec.salt or "")
        assert commit(KEY, RecordKind.MEDICAL, body, salt=salt).hex == rec.commitment
        assert service.verify_record(s, record_id=rid)
        assert service.proof_bundle(s, record_id=rid) == {
            "format": "opsure-proof-v1", "status": "pending", "anchored": False, "kind": "MEDICAL",
            "kindCode": 1, "commitment": rec.commitment, "batched": False,
        }


def test_record_many_keeps_order_and_validates_all(session_factory: Any) -> None:
    bodies = [{**VALID[RecordKind.SURVEY], "assessor": f"A-{i}"} for i in range(300)]
    with transaction(session_factory) as s:
        ids = service.record_many(s, kind=RecordKind.SURVEY, bodies=bodies)
    assert ids == sorted(ids) and len(set(ids)) == 300
    with session_factory() as s:
        rows = {r.id: r for r in s.execute(select(LedgerRecord)).scalars()}
        for rid, body in zip(ids, bodies, strict=True):
            assert service.record_body(rows[rid]) == body
            salt = bytes.fromhex(rows[rid].salt or "")
            assert commit(KEY, RecordKind.SURVEY, body, salt=salt).hex == rows[rid].commitment
        assert len({r.salt for r in rows.values()}) == 300
    with pytest.raises(ValidationError), transaction(session_factory) as s:
        service.record_many(s, kind=RecordKind.SURVEY, bodies=[*bodies[:3], {"assessor": "x"}])
    with session_factory() as s:  # nothing of the failed call was stored
        assert len(s.execute(select(LedgerRecord.id)).all()) == 300


def test_tampered_stored_body_no_longer_matches_its_commitment(session_factory: Any) -> None:
    with transaction(session_factory) as s:
        rid = service.record(s, kind=RecordKind.CREDIT, body=VALID[RecordKind.CREDIT]).id
    with transaction(session_factory) as s:
        row = service.get_record(s, record_id=rid)
        row.body = rfc8785.dumps({**VALID[RecordKind.CREDIT], "score": 800}).decode()
    with session_factory() as s:
        assert not service.verify_record(s, record_id=rid)


def test_erase_deletes_body_and_salt_keeps_commitment(session_factory: Any, engine: Any) -> None:
    with transaction(session_factory) as s:
        rid = service.record(s, kind=RecordKind.INVESTIGATION_EVENT, body=VALID[RecordKind.INVESTIGATION_EVENT]).id
        other = service.record(s, kind=RecordKind.SURVEY, body=VALID[RecordKind.SURVEY]).id
    with session_factory() as s:
        commitment = service.get_record(s, record_id=rid).commitment
    with transaction(session_factory) as s:
        row = service.erase(s, record_id=rid)
        assert row.status is RecordStatus.ERASED and row.erased_at is not None
    with transaction(session_factory) as s:  # idempotent
        assert service.erase(s, record_id=rid).status is RecordStatus.ERASED
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT body, salt, commitment FROM ledger_record WHERE id = :i"), {"i": rid}).one()
    assert raw.body is None and raw.salt is None and raw.commitment == commitment
    with session_factory() as s:
        bundle = service.proof_bundle(s, record_id=rid)
        assert bundle["status"] == "erased" and bundle["anchored"] is False
        assert "commitment" not in bundle and "proof" not in bundle
        assert not service.verify_record(s, record_id=rid)
        assert service.record_body(service.get_record(s, record_id=rid)) is None
        assert service.proof_bundle(s, record_id=other)["status"] == "pending"
        with pytest.raises(NotFoundError):
            service.proof_bundle(s, record_id=10**9)
        with pytest.raises(NotFoundError):
            service.erase(s, record_id=10**9)
