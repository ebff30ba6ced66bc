"""Upload bodies stream: a body far over the limit stops at the limit, on disk and on the wire.

The app is driven as ASGI with a generator body (TestClient would read it whole first),
and the generator measures the document store and the temporary directory before handing
over each chunk: what the disk held while the body arrived, without any timing.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from core.auth import Role, issue_token
from core.db import transaction
from core.settings import Settings
from opsure.app import AuthMiddleware
from opsure.uploads import upload_route
from resolvers.claims.models import Claim, ClaimDocument, ClaimState
from resolvers.claims.storage import LocalStorage
from schema.relay import encode_global_id
from tests.claim_factories import PDF, make_claim_policy, report

LIMIT = 256 * 1024
CHUNK = 64 * 1024
BOUNDARY = "opsure-test-boundary"


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, ledger_mode="off", anchoring_in_process=False,
                    extra={"claims.max_upload_bytes": str(LIMIT)})


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's temporary directory, moved where the test can watch it."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def claim(session_factory: Any) -> tuple[str, int]:
    with transaction(session_factory) as s:
        policy = make_claim_policy(s)
        row = report(s, policy)
        return encode_global_id("Claim", row.id), policy.customer_id


def _bytes_under(*roots: Path) -> int:
    """Bytes in files under ``roots``, counting files this process holds open there but already
    unlinked (``tempfile.TemporaryFile`` on Linux has no name at all)."""
    sizes = {(st.st_dev, st.st_ino): st.st_size for root in roots if root.exists()
             for p in root.rglob("*") if p.is_file() for st in [p.stat()]}
    fd_dir = Path("/proc/self/fd")
    for fd in (os.listdir(fd_dir) if fd_dir.is_dir() else []):
        try:
            target = os.readlink(fd_dir / fd)
            st = os.fstat(int(fd))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and any(target.startswith(str(root)) for root in roots):
            sizes[(st.st_dev, st.st_ino)] = st.st_size
    return sum(sizes.values())


def _part(name: str, filename: str | None = None) -> bytes:
    extra = f'; filename="{filename}"' if filename else ""
    ctype = "\r\nContent-Type: application/pdf" if filename else ""
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"{extra}{ctype}\r\n\r\n'.encode()


def _multipart(file_bytes: int, *, kind_first: bool = True, close: bool = True) -> Iterator[bytes]:
    if kind_first:
        yield _part("kind") + b"invoice\r\n"
    yield _part("file", "scan.pdf") + PDF
    sent = len(PDF)
    while sent < file_bytes:
        piece = min(CHUNK, file_bytes - sent)
        yield b"0" * piece
        sent += piece
    yield b"\r\n"
    if not kind_first:
        yield _part("kind") + b"invoice\r\n"
    if close:
        yield f"--{BOUNDARY}--\r\n".encode()


class Watched:
    """An ASGI receive over a generator body that records the largest disk footprint seen."""

    def __init__(self, body: Iterator[bytes], *dirs: Path) -> None:
        self.body = body
        self.dirs = dirs
        self.sent = 0
        self.max_disk = 0

    async def receive(self) -> dict[str, Any]:
        self.max_disk = max(self.max_disk, _bytes_under(*self.dirs))
        chunk = next(self.body, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.sent += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}


def _post(app: Any, path: str, headers: dict[str, str], watched: Watched) -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    status: list[int] = []
    body: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    anyio.run(app, scope, watched.receive, send)
    return status[0], b"".join(body)


def _auth(runtime: Any, customer_id: int) -> dict[str, str]:
    token = issue_token(runtime.token_keys, runtime.settings, subject="c", role=Role.CUSTOMER, customer_id=customer_id)
    return {"authorization": f"Bearer {token}"}


def test_multipart_far_over_the_limit_stops_at_the_limit(app: Any, runtime: Any, claim: tuple[str, int],
                                                         tmp_root: Path) -> None:
    claim_id, customer_id = claim
    store = runtime.settings.data_dir / "documents"
    watched = Watched(_multipart(32 * LIMIT), store, tmp_root)  # 8 MiB against 256 KiB, no Content-Length
    status, body = _post(app, f"/claims/{claim_id}/documents",
                         {**_auth(runtime, customer_id), "content-type": f"multipart/form-data; boundary={BOUNDARY}"},
                         watched)
    assert watched.max_disk <= LIMIT + 2 * CHUNK, f"the disk held {watched.max_disk} bytes for a {LIMIT} limit"
    assert status == 413, body
    assert b"TOO_LARGE" in body
    assert watched.sent <= LIMIT + 2 * CHUNK + 16 * 1024, f"read {watched.sent} bytes of the body"
    assert _bytes_under(store, tmp_root) == 0


def test_raw_body_far_over_the_limit_stops_at_the_limit(app: Any, runtime: Any, claim: tuple[str, int],
                                                        tmp_root: Path) -> None:
    claim_id, customer_id = claim
    store = runtime.settings.data_dir / "documents"

    def raw() -> Iterator[bytes]:
        yield PDF
        for _ in range(128):
            yield b"0" * CHUNK

    watched = Watched(raw(), store, tmp_root)
    status, _ = _post(app, f"/claims/{claim_id}/documents",
                      {**_auth(runtime, customer_id), "content-type": "application/pdf", "x-document-kind": "invoice"},
                      watched)
    assert status == 413
    assert watched.max_disk <= LIMIT + 2 * CHUNK and watched.sent <= LIMIT + 2 * CHUNK
    assert _bytes_under(store, tmp_root) == 0


def test_multipart_within_the_limit_streams_through(app: Any, runtime: Any, claim: tuple[str, int],
                                                    tmp_root: Path, session_factory: Any) -> None:
    claim_id, customer_id = claim
    store = runtime.settings.data_dir / "documents"
    watched = Watched(_multipart(LIMIT - 1024, kind_first=False), store, tmp_root)
    status, body = _post(app, f"/claims/{claim_id}/documents",
                         {**_auth(runtime, customer_id), "content-type": f"multipart/form-data; boundary={BOUNDARY}"},
                         watched)
    assert status == 201, body
    assert _bytes_under(tmp_root) == 0 and not list((store / "tmp").iterdir())
    with session_factory() as s:
        doc = s.scalars(select(ClaimDocument)).one()
        assert doc.size == LIMIT - 1024 and doc.filename == "scan.pdf" and doc.kind.value == "invoice"


@pytest.mark.parametrize(("parts", "code"), [
    ([_part("kind") + b"invoice\r\n", _part("file", "a.pdf") + PDF + b"\r\n", _part("file", "b.pdf") + PDF + b"\r\n",
      f"--{BOUNDARY}--\r\n".encode()], "MALFORMED"),                                         # two files
    ([_part("kind") + b"invoice\r\n", f"--{BOUNDARY}--\r\n".encode()], "MALFORMED"),          # no file
    ([_part("note") + b"hi\r\n", _part("file", "a.pdf") + PDF + b"\r\n", f"--{BOUNDARY}--\r\n".encode()],
     "MALFORMED"),                                                                             # unexpected part
    ([_part("kind") + b"invoice\r\n", _part("file", "a.pdf") + PDF], "MALFORMED"),            # cut short
    ([_part("kind") + b"x" * 300 + b"\r\n", _part("file", "a.pdf") + PDF + b"\r\n", f"--{BOUNDARY}--\r\n".encode()],
     "MALFORMED"),                                                                             # oversized field
    ([_part("kind") + b"selfie\r\n", _part("file", "a.pdf") + PDF + b"\r\n", f"--{BOUNDARY}--\r\n".encode()],
     "INVALID"),                                                                               # unknown kind
    ([_part("file", "a.pdf") + PDF + b"\r\n", f"--{BOUNDARY}--\r\n".encode()], "INVALID"),    # no kind
])
def test_bad_multipart_bodies_are_refused_and_store_nothing(app: Any, runtime: Any, claim: tuple[str, int],
                                                            tmp_root: Path, parts: list[bytes], code: str) -> None:
    claim_id, customer_id = claim
    store = runtime.settings.data_dir / "documents"
    status, body = _post(app, f"/claims/{claim_id}/documents",
                         {**_auth(runtime, customer_id), "content-type": f"multipart/form-data; boundary={BOUNDARY}"},
                         Watched(iter(parts), store, tmp_root))
    assert status == 400 and f'"code":"{code}"'.encode() in body, body
    assert _bytes_under(store, tmp_root) == 0


class ClosingStorage:
    """The real store, but the claim is closed (by someone else) right after the object is committed."""

    def __init__(self, inner: Any, close: Any) -> None:
        self.inner = inner
        self.close = close

    def begin(self) -> Any:
        writer = self.inner.begin()
        commit = writer.commit

        def commit_then_close() -> Any:
            result = commit()
            self.close()
            return result

        writer.commit = commit_then_close
        return writer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_stored_file_whose_database_step_fails_is_removed(runtime: Any, claim: tuple[str, int],
                                                            session_factory: Any) -> None:
    claim_id, customer_id = claim
    store = LocalStorage(runtime.settings.data_dir / "documents")

    def close_claim() -> None:
        with transaction(session_factory) as s:
            s.execute(update(Claim).values(state=ClaimState.CLOSED))

    app = Starlette(routes=[upload_route(runtime, ClosingStorage(store, close_claim))])
    app.add_middleware(AuthMiddleware, runtime=runtime)  # type: ignore[arg-type]
    with TestClient(app) as client:
        resp = client.post(f"/claims/{claim_id}/documents", content=PDF,
                           headers={**_auth(runtime, customer_id), "x-document-kind": "invoice"})
    assert resp.status_code == 409 and resp.json()["errors"][0]["code"] == "INVALID_TRANSITION"
    assert _bytes_under(store.root) == 0, "the stored object outlived its failed database step"
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ClaimDocument)) == 0
