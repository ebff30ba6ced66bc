"""Claim documents at rest: sealed per object (envelope encryption), tamper-evident, range-readable;
documents stored before stay readable and are sealed by ``opsure claim-documents encrypt``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.auth import Role, issue_token
from core.db import transaction
from opsure.claim_documents import encrypt_stored_documents, sweep_orphans
from resolvers.claims.envelope import CHUNK_SIZE, CorruptObjectError, SealedWriter, open_object
from resolvers.claims.models import ClaimDocument, DocumentKind
from resolvers.claims.storage import LocalStorage, document_storage
from schema.relay import decode_global_id, encode_global_id
from tests.claim_factories import PDF, make_claim_policy, report

MARKER = b"ZHANG SAN 110101199003077777 pneumonia"
DOCUMENT = PDF + MARKER * 5000  # ~195 KiB: several chunks


def _disk(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _seal(storage: LocalStorage, data: bytes, *, chunk_size: int = CHUNK_SIZE, pieces: int = 7) -> Any:
    writer = SealedWriter(storage, chunk_size=chunk_size)
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        writer.write(data[i:i + step])
    return writer.commit()


@pytest.fixture
def storage(runtime: Any) -> LocalStorage:  # runtime installs the field keys
    return document_storage(runtime.settings.data_dir)


@pytest.fixture
def customer_claim(session_factory: Any, runtime: Any) -> tuple[str, dict[str, str]]:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        claim = report(s, policy)
        gid, customer_id = encode_global_id("Claim", claim.id), policy.customer_id
    token = issue_token(runtime.token_keys, runtime.settings, subject="c", role=Role.CUSTOMER, customer_id=customer_id)
    return gid, {"authorization": f"Bearer {token}"}


def test_no_plaintext_reaches_the_disk(http: Any, runtime: Any, session_factory: Any,
                                       customer_claim: tuple[str, dict[str, str]]) -> None:
    claim_id, auth = customer_claim
    raw = http.post(f"/claims/{claim_id}/documents", content=DOCUMENT,
                    headers={**auth, "x-document-kind": "invoice", "x-filename": "invoice.pdf"})
    multi = http.post(f"/claims/{claim_id}/documents", headers=auth, data={"kind": "invoice"},
                      files={"file": ("invoice.pdf", DOCUMENT, "application/pdf")})
    assert raw.status_code == multi.status_code == 201, (raw.text, multi.text)
    on_disk = _disk(runtime.settings.data_dir / "documents")
    assert MARKER not in on_disk and b"%PDF" not in on_disk
    with session_factory() as s:
        docs = s.scalars(select(ClaimDocument).order_by(ClaimDocument.id)).all()
        assert [d.sha256 for d in docs] == [hashlib.sha256(DOCUMENT).hexdigest()] * 2
        assert docs[0].storage_key != docs[1].storage_key  # one object, and one data key, per document
        assert docs[0].data_key and docs[1].data_key and docs[0].data_key != docs[1].data_key
    assert (runtime.settings.data_dir / "documents" / docs[0].storage_key).read_bytes() != \
        (runtime.settings.data_dir / "documents" / docs[1].storage_key).read_bytes()
    for resp in (raw, multi):
        got = http.get(resp.headers["location"], headers=auth)
        assert got.status_code == 200 and got.content == DOCUMENT


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), chunk=st.integers(1, 40), bounds=st.tuples(st.integers(0, 320),
                                                                                  st.integers(0, 320)))
def test_any_range_reads_back_exactly(storage: LocalStorage, data: bytes, chunk: int,
                                      bounds: tuple[int, int]) -> None:
    stored = _seal(storage, data, chunk_size=chunk)
    reader = open_object(storage, stored.key, stored.data_key)
    assert reader.size == len(data) == stored.size
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    start, end = min(bounds[0], len(data)), min(max(bounds), len(data))
    assert b"".join(reader.read(start, end)) == data[start:end]
    storage.delete(stored.key)


class CountingStorage(LocalStorage):
    """The local store, counting the bytes read from it."""

    read_bytes = 0

    def read(self, key: str, offset: int, length: int) -> bytes:
        out = super().read(key, offset, length)
        self.read_bytes += len(out)
        return out


def test_a_range_decrypts_only_the_chunks_it_touches(runtime: Any) -> None:
    storage = CountingStorage(runtime.settings.data_dir / "documents")
    data = bytes(range(256)) * 4096  # 1 MiB: 16 chunks
    stored = _seal(storage, data)
    reader = open_object(storage, stored.key, stored.data_key)
    storage.read_bytes = 0
    start = 5 * CHUNK_SIZE + 100
    assert b"".join(reader.read(start, start + 10)) == data[start:start + 10]
    assert storage.read_bytes == CHUNK_SIZE + 16  # one sealed chunk, not the file
    storage.read_bytes = 0
    across = 7 * CHUNK_SIZE - 5
    assert b"".join(reader.read(across, across + 10)) == data[across:across + 10]
    assert storage.read_bytes == 2 * (CHUNK_SIZE + 16)


def _tampered(storage: LocalStorage, stored: Any, change: Any) -> None:
    path = storage.root / stored.key
    path.write_bytes(change(path.read_bytes()))


@pytest.mark.parametrize("change", [
    pytest.param(lambda b: b[:16] + b[16 + 48:16 + 96] + b[16:16 + 48] + b[16 + 96:], id="chunks swapped"),
    pytest.param(lambda b: b[:-20], id="last chunk dropped"),  # the last: 4 bytes + 16 of tag
    pytest.param(lambda b: b[:40] + bytes([b[40] ^ 1]) + b[41:], id="one bit flipped"),
    pytest.param(lambda b: b[:8] + b"\x00" * 8 + b[16:], id="header changed"),
])
def test_tampering_is_detected(storage: LocalStorage, change: Any) -> None:
    stored = _seal(storage, b"x" * 100, chunk_size=32)  # 4 chunks of 32 + 16 bytes (the last one 4 + 16)
    _tampered(storage, stored, change)
    with pytest.raises(CorruptObjectError):
        reader = open_object(storage, stored.key, stored.data_key)
        b"".join(reader.read(0, reader.size))


def test_a_data_key_opens_only_its_own_object(storage: LocalStorage) -> None:
    first, second = _seal(storage, b"first document"), _seal(storage, b"second document")
    with pytest.raises(CorruptObjectError):
        open_object(storage, second.key, first.data_key)


def _legacy_key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest}"


def _legacy(session_factory: Any, storage: LocalStorage, claim_gid: str, data: bytes) -> int:
    """A document as stored before encryption at rest: plaintext under its content-addressed key."""
    digest, key = hashlib.sha256(data).hexdigest(), _legacy_key(data)
    (storage.root / key).parent.mkdir(parents=True, exist_ok=True)
    (storage.root / key).write_bytes(data)
    with transaction(session_factory) as s:
        doc = ClaimDocument(claim_id=decode_global_id(claim_gid, "Claim"), kind=DocumentKind.INVOICE,
                            filename="old.pdf",
                            content_type="application/pdf", size=len(data), sha256=digest, storage_key=key,
                            uploaded_by="customer-old")
        s.add(doc)
        s.flush()
        return doc.id


def test_documents_stored_before_stay_readable_and_get_sealed(http: Any, runtime: Any, session_factory: Any,
                                                              storage: LocalStorage,
                                                              customer_claim: tuple[str, dict[str, str]]) -> None:
    claim_id, auth = customer_claim
    first = _legacy(session_factory, storage, claim_id, DOCUMENT)
    twin = _legacy(session_factory, storage, claim_id, DOCUMENT)  # identical uploads shared one object
    lost = _legacy(session_factory, storage, claim_id, PDF + b"lost")
    (storage.root / _legacy_key(PDF + b"lost")).unlink()  # its object went missing
    url = f"/claims/{claim_id}/documents/{encode_global_id('ClaimDocument', first)}"
    before = http.get(url, headers=auth)
    assert before.status_code == 200 and before.content == DOCUMENT
    assert MARKER in _disk(storage.root)

    report_ = encrypt_stored_documents(runtime, storage, batch=2)
    assert (report_.sealed, report_.plaintext_deleted, report_.unreadable) == (2, 1, (lost,))
    assert MARKER not in _disk(storage.root)
    with session_factory() as s:
        rows = {d.id: d for d in s.scalars(select(ClaimDocument))}
    assert rows[first].data_key and rows[twin].data_key and rows[first].storage_key != rows[twin].storage_key
    assert rows[lost].data_key is None
    for doc_id in (first, twin):
        after = http.get(f"/claims/{claim_id}/documents/{encode_global_id('ClaimDocument', doc_id)}", headers=auth)
        assert after.status_code == 200 and after.content == DOCUMENT
        assert after.headers["etag"] == before.headers["etag"]
    again = encrypt_stored_documents(runtime, storage)
    assert (again.sealed, again.plaintext_deleted) == (0, 0)


def test_sweep_removes_only_objects_no_row_points_at(http: Any, runtime: Any, storage: LocalStorage,
                                                     customer_claim: tuple[str, dict[str, str]]) -> None:
    claim_id, auth = customer_claim
    assert http.post(f"/claims/{claim_id}/documents", content=PDF,
                     headers={**auth, "x-document-kind": "invoice"}).status_code == 201
    orphan = _seal(storage, b"left behind by a killed process")
    half_written = SealedWriter(storage)
    half_written.write(b"the process died here")
    assert sweep_orphans(runtime, storage, older_than_seconds=3600) == 0  # too young to judge
    assert sweep_orphans(runtime, storage, older_than_seconds=-60) == 2  # a cut-off in the future: all are old
    assert not (storage.root / orphan.key).exists()
    assert len([p for p in storage.root.rglob("*") if p.is_file()]) == 1
