"""Trusted documents: the manifest, registration, the CLI and enforcement over HTTP."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from core.auth import Role, issue_token
from opsure.graphql_http import GRAPHQL_RESPONSE
from opsure.runtime import Runtime
from opsure.trusted_documents import (
    InvalidDocumentError,
    TrustedDocuments,
    document_id,
    documents_cli,
    load_manifest,
    manifest_path,
    normalize_id,
    register_documents,
)

PRODUCTS = "query Products { products { edges { node { code name } } } }"
TYPENAME = "{ __typename }"
POLICIES = "query Policies($n: Int) { policies(first: $n) { totalCount } }"
GR = {"accept": GRAPHQL_RESPONSE}


def _hex(doc: str) -> str:
    return hashlib.sha256(doc.encode()).hexdigest()


def _apq(doc: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": _hex(doc)}}


def _client(runtime: Runtime, **changes: Any) -> TestClient:
    from opsure.app import create_app

    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(**changes))
    return TestClient(create_app(rt.settings, rt))


@pytest.fixture
def trusted(runtime: Runtime) -> Iterator[TestClient]:
    """A client of an app running trusted documents only, with PRODUCTS and POLICIES registered."""
    register_documents(runtime.settings.data_dir, [PRODUCTS, POLICIES])
    with _client(runtime, trusted_documents_only=True) as client:
        yield client


def _code(resp: httpx.Response) -> str:
    return resp.json()["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


# --- manifest and registration ------------------------------------------------------------------


def test_document_id_and_normalize() -> None:
    assert document_id(TYPENAME) == "sha256:" + _hex(TYPENAME)
    assert normalize_id(_hex(TYPENAME).upper()) == document_id(TYPENAME)
    assert normalize_id(document_id(TYPENAME)) == document_id(TYPENAME)
    assert normalize_id("sha256:xyz") is None
    assert normalize_id("md5:" + _hex(TYPENAME)) is None


def test_register_writes_a_manifest_and_merges(tmp_path: Path) -> None:
    assert load_manifest(tmp_path) == {}
    ids = register_documents(tmp_path, [PRODUCTS])
    assert ids == [document_id(PRODUCTS)]
    ids2 = register_documents(tmp_path, [TYPENAME, PRODUCTS])
    assert ids2 == [document_id(TYPENAME), document_id(PRODUCTS)]
    manifest = json.loads(manifest_path(tmp_path).read_text())
    assert manifest == {document_id(PRODUCTS): PRODUCTS, document_id(TYPENAME): TYPENAME}
    assert load_manifest(tmp_path) == manifest


@pytest.mark.parametrize("bad", ["", "   ", "{ products { ", "fragment F on Query { __typename }"])
def test_register_refuses_invalid_documents(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidDocumentError):
        register_documents(tmp_path, [TYPENAME, bad])
    assert not manifest_path(tmp_path).exists(), "nothing registered when one document is bad"


def test_tampered_manifest_is_refused(tmp_path: Path) -> None:
    manifest_path(tmp_path).write_text(json.dumps({document_id(TYPENAME): "{ products { code } }"}))
    with pytest.raises(InvalidDocumentError, match="not the SHA-256"):
        load_manifest(tmp_path)
    manifest_path(tmp_path).write_text("[1, 2]")
    with pytest.raises(InvalidDocumentError):
        load_manifest(tmp_path)


def test_registry_rereads_a_changed_manifest(tmp_path: Path) -> None:
    registry = TrustedDocuments(tmp_path, enforce=True)
    assert registry.get(document_id(PRODUCTS)) is None
    register_documents(tmp_path, [PRODUCTS])
    assert registry.get(document_id(PRODUCTS)) == PRODUCTS


def test_cli_register_and_list(tmp_path: Path) -> None:
    files = tmp_path / "ops"
    files.mkdir()
    (files / "products.graphql").write_text(PRODUCTS)
    apollo = {"format": "apollo-persisted-query-manifest", "version": 1,
              "operations": [{"id": _hex(TYPENAME), "name": "T", "type": "query", "body": TYPENAME}]}
    (files / "apollo.json").write_text(json.dumps(apollo))
    data = tmp_path / "data"
    runner = CliRunner()
    result = runner.invoke(documents_cli, ["register", "--data-dir", str(data),
                                           str(files / "products.graphql"), str(files / "apollo.json")])
    assert result.exit_code == 0, result.output
    assert document_id(PRODUCTS) in result.output and document_id(TYPENAME) in result.output
    assert set(load_manifest(data)) == {document_id(PRODUCTS), document_id(TYPENAME)}

    listed = runner.invoke(documents_cli, ["list", "--data-dir", str(data)])
    assert listed.exit_code == 0 and "query Products" in listed.output


def test_cli_refuses_documents_that_do_not_validate(tmp_path: Path) -> None:
    (tmp_path / "bad.graphql").write_text("query { noSuchField }")
    result = CliRunner().invoke(documents_cli, ["register", "--data-dir", str(tmp_path / "data"),
                                                str(tmp_path / "bad.graphql")])
    assert result.exit_code != 0 and "noSuchField" in result.output
    assert not manifest_path(tmp_path / "data").exists()


# --- enforcement over HTTP ----------------------------------------------------------------------


def test_registered_document_by_document_id(trusted: TestClient) -> None:
    resp = trusted.post("/graphql", json={"documentId": document_id(PRODUCTS)}, headers=GR)
    assert resp.status_code == 200 and resp.json() == {"data": {"products": {"edges": []}}}


def test_registered_document_by_apollo_hash_with_and_without_query(trusted: TestClient) -> None:
    resp = trusted.post("/graphql", json={"extensions": _apq(PRODUCTS)}, headers=GR)
    assert resp.status_code == 200 and "products" in resp.json()["data"]
    resp = trusted.post("/graphql", json={"query": PRODUCTS, "extensions": _apq(PRODUCTS)}, headers=GR)
    assert resp.status_code == 200 and "products" in resp.json()["data"]


def test_registered_document_over_get(trusted: TestClient) -> None:
    resp = trusted.get("/graphql", params={"documentId": document_id(PRODUCTS)}, headers=GR)
    assert resp.status_code == 200
    resp = trusted.get("/graphql", params={"extensions": json.dumps(_apq(PRODUCTS))}, headers=GR)
    assert resp.status_code == 200


def test_registered_document_still_checks_permissions_and_variables(trusted: TestClient,
                                                                    runtime: Runtime) -> None:
    resp = trusted.post("/graphql", json={"documentId": document_id(POLICIES), "variables": {"n": 1}}, headers=GR)
    assert resp.status_code == 401 and _code(resp) == "UNAUTHENTICATED"
    token = issue_token(runtime.token_keys, runtime.settings, subject="a", role=Role.ADMIN)
    headers = {**GR, "authorization": f"Bearer {token}"}
    resp = trusted.post("/graphql", json={"documentId": document_id(POLICIES), "variables": {"n": 1}},
                        headers=headers)
    assert resp.status_code == 200 and resp.json()["data"]["policies"]["totalCount"] == 0
    resp = trusted.post("/graphql", json={"documentId": document_id(POLICIES), "variables": {"n": "x"}},
                        headers=headers)
    assert resp.status_code == 400


def test_unknown_hash_is_persisted_query_not_found(trusted: TestClient) -> None:
    for body in ({"documentId": document_id(TYPENAME)}, {"extensions": _apq(TYPENAME)}):
        resp = trusted.post("/graphql", json=body, headers=GR)
        assert resp.status_code == 400
        assert _code(resp) == "PERSISTED_QUERY_NOT_FOUND"
        assert "data" not in resp.json()


def test_raw_query_is_refused(trusted: TestClient) -> None:
    resp = trusted.post("/graphql", json={"query": PRODUCTS}, headers=GR)
    assert resp.status_code == 400
    assert _code(resp) == "TRUSTED_DOCUMENT_REQUIRED"
    assert "trusted documents only" in resp.json()["errors"][0]["message"]
    resp = trusted.get("/graphql", params={"query": TYPENAME}, headers=GR)
    assert resp.status_code == 400 and _code(resp) == "TRUSTED_DOCUMENT_REQUIRED"


def test_registered_hash_with_another_query_is_refused(trusted: TestClient) -> None:
    resp = trusted.post("/graphql", json={"query": TYPENAME, "extensions": _apq(PRODUCTS)}, headers=GR)
    assert resp.status_code == 400 and _code(resp) == "PERSISTED_QUERY_HASH_MISMATCH"
    resp = trusted.post("/graphql", json={"query": TYPENAME, "documentId": document_id(PRODUCTS)}, headers=GR)
    assert resp.status_code == 400 and _code(resp) == "PERSISTED_QUERY_HASH_MISMATCH"


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": "sha256:nothex"},
        {"documentId": 42},
        {"extensions": {"persistedQuery": "x"}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}},
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": _hex(PRODUCTS)}}},
        {"documentId": document_id(PRODUCTS), "extensions": _apq(POLICIES)},
    ],
)
def test_malformed_document_references_are_400(trusted: TestClient, body: dict[str, Any]) -> None:
    resp = trusted.post("/graphql", json=body, headers=GR)
    assert resp.status_code == 400, resp.text
    assert resp.json()["errors"][0]["message"]


def test_newly_registered_document_works_without_restart(trusted: TestClient, runtime: Runtime) -> None:
    assert _code(trusted.post("/graphql", json={"documentId": document_id(TYPENAME)}, headers=GR)) == \
        "PERSISTED_QUERY_NOT_FOUND"
    register_documents(runtime.settings.data_dir, [TYPENAME])
    resp = trusted.post("/graphql", json={"documentId": document_id(TYPENAME)}, headers=GR)
    assert resp.status_code == 200 and resp.json() == {"data": {"__typename": "Query"}}


def test_without_enforcement_raw_queries_and_ids_both_work(http: httpx.Client, runtime: Runtime) -> None:
    assert http.post("/graphql", json={"query": TYPENAME}, headers=GR).status_code == 200
    # Apollo's APQ retry: hash plus text runs even when unregistered; a bare unknown hash does not.
    resp = http.post("/graphql", json={"query": TYPENAME, "extensions": _apq(TYPENAME)}, headers=GR)
    assert resp.status_code == 200
    resp = http.post("/graphql", json={"extensions": _apq(TYPENAME)}, headers=GR)
    assert resp.status_code == 400 and _code(resp) == "PERSISTED_QUERY_NOT_FOUND"
    register_documents(runtime.settings.data_dir, [TYPENAME])
    resp = http.post("/graphql", json={"documentId": document_id(TYPENAME)}, headers=GR)
    assert resp.status_code == 200


def test_broken_manifest_fails_start_up(runtime: Runtime) -> None:
    manifest_path(runtime.settings.data_dir).write_text("{broken")
    with pytest.raises(InvalidDocumentError):
        _client(runtime, trusted_documents_only=True)
