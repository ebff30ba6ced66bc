"""``GET /claims/{claimId}/documents/{documentId}``: content type, disposition, ETag, ranges, caching."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from core.audit import AuditEntry
from core.auth import Role, issue_token
from core.db import transaction
from opsure.downloads import Unsatisfiable, byte_range, content_disposition
from resolvers.claims.documents import safe_filename
from schema.relay import encode_global_id
from tests.claim_factories import PDF, make_claim_policy, report

DOCUMENT = PDF + bytes(range(256)) * 1024  # 256 KiB and a bit: five sealed chunks


@pytest.fixture
def stored(http: Any, runtime: Any, session_factory: Any) -> tuple[str, dict[str, str]]:
    """A customer's uploaded document: its URL and the customer's headers."""
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        claim = report(s, policy)
        claim_id, customer_id = encode_global_id("Claim", claim.id), policy.customer_id
    token = issue_token(runtime.token_keys, runtime.settings, subject="c", role=Role.CUSTOMER, customer_id=customer_id)
    auth = {"authorization": f"Bearer {token}"}
    resp = http.post(f"/claims/{claim_id}/documents", content=DOCUMENT,
                     headers={**auth, "x-document-kind": "invoice", "x-filename": quote('发票 2026"final".pdf')})
    assert resp.status_code == 201, resp.text
    return resp.headers["location"], auth


def test_whole_document_with_its_headers(http: Any, stored: tuple[str, dict[str, str]], session_factory: Any) -> None:
    url, auth = stored
    resp = http.get(url, headers=auth)
    assert resp.status_code == 200 and resp.content == DOCUMENT
    h = resp.headers
    assert h["content-type"] == "application/pdf"
    assert h["etag"] == f'"{hashlib.sha256(DOCUMENT).hexdigest()}"'
    assert h["content-length"] == str(len(DOCUMENT)) and h["accept-ranges"] == "bytes"
    assert h["cache-control"] == "private, no-store" and h["x-content-type-options"] == "nosniff"
    assert h["content-disposition"] == ("attachment; filename=\"__ 2026_final_.pdf\"; "
                                        "filename*=UTF-8''%E5%8F%91%E7%A5%A8%202026%22final%22.pdf")
    with session_factory() as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-2:] == ["uploadClaimDocument", "downloadClaimDocument"]


def test_if_none_match(http: Any, stored: tuple[str, dict[str, str]]) -> None:
    url, auth = stored
    etag = http.get(url, headers=auth).headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        resp = http.get(url, headers={**auth, "if-none-match": header})
        assert resp.status_code == 304 and resp.content == b"" and resp.headers["etag"] == etag, header
    assert http.get(url, headers={**auth, "if-none-match": '"other"'}).status_code == 200


def test_single_ranges(http: Any, stored: tuple[str, dict[str, str]]) -> None:
    url, auth = stored
    size = len(DOCUMENT)
    cases = {"bytes=0-9": (0, 10), "bytes=65530-65545": (65530, 65546), "bytes=-5": (size - 5, size),
             f"bytes={size - 3}-": (size - 3, size), f"bytes=10-{size * 2}": (10, size)}
    for header, (start, end) in cases.items():
        resp = http.get(url, headers={**auth, "range": header})
        assert resp.status_code == 206, header
        assert resp.content == DOCUMENT[start:end], header
        assert resp.headers["content-range"] == f"bytes {start}-{end - 1}/{size}", header
        assert resp.headers["content-length"] == str(end - start)
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        resp = http.get(url, headers={**auth, "range": header})
        assert resp.status_code == 416 and resp.headers["content-range"] == f"bytes */{size}", header
    for ignored in ("bytes=0-1,5-9", "bytes=9-3", "lines=1-2", "bytes=abc"):
        resp = http.get(url, headers={**auth, "range": ignored})
        assert resp.status_code == 200 and resp.content == DOCUMENT, ignored


def test_if_range(http: Any, stored: tuple[str, dict[str, str]]) -> None:
    url, auth = stored
    etag = http.get(url, headers=auth).headers["etag"]
    fresh = http.get(url, headers={**auth, "range": "bytes=0-3", "if-range": etag})
    stale = http.get(url, headers={**auth, "range": "bytes=0-3", "if-range": '"older"'})
    assert (fresh.status_code, fresh.content) == (206, DOCUMENT[:4])
    assert (stale.status_code, stale.content) == (200, DOCUMENT)


def test_head_sends_headers_only(http: Any, stored: tuple[str, dict[str, str]]) -> None:
    url, auth = stored
    resp = http.head(url, headers=auth)
    assert resp.status_code == 200 and resp.content == b""
    assert resp.headers["content-length"] == str(len(DOCUMENT)) and resp.headers["etag"]


@given(size=st.integers(0, 10_000), first=st.none() | st.integers(0, 12_000), last=st.none() | st.integers(0, 12_000))
def test_byte_range_is_rfc_9110(size: int, first: int | None, last: int | None) -> None:
    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    if first is None and last is None:
        expected: Any = None  # "bytes=-": not a range
    elif first is None:
        assert last is not None
        expected = Unsatisfiable if last == 0 or size == 0 else (max(size - last, 0), size)
    elif last is not None and last < first:
        expected = None
    elif first >= size:
        expected = Unsatisfiable
    else:
        expected = (first, size if last is None else min(last + 1, size))
    if expected is Unsatisfiable:
        with pytest.raises(Unsatisfiable):
            byte_range(header, size)
    else:
        assert byte_range(header, size) == expected


@given(st.text(max_size=80))
def test_content_disposition_is_always_a_safe_header(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    fallback = header.split('filename="', 1)[1].split('";', 1)[0]
    assert '"' not in fallback and "\\" not in fallback
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == safe_filename(name)


def test_graphql_gives_the_download_url_to_readers_only(http: Any, stored: tuple[str, dict[str, str]],
                                                        gql: Any) -> None:
    url, auth = stored
    query = "{ claims(first: 1) { edges { node { documents { edges { node { downloadUrl } } } } } } }"
    resp = http.post("/graphql", json={"query": query}, headers=auth)
    docs = [e["node"] for e in resp.json()["data"]["claims"]["edges"][0]["node"]["documents"]["edges"]]
    assert docs == [{"downloadUrl": url}]
    assert http.get(docs[0]["downloadUrl"], headers=auth).content == DOCUMENT
    refused = gql(Role.AGENT).post(query).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
