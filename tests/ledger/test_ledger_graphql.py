"""The auditor's GraphQL of the ledger: typed proof bundles, global ids, connections, status, erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from core.auth import Role
from core.db import transaction
from ledger import service
from ledger.chain_client import ChainClient
from ledger.models import AnchorBatch, LedgerRecord
from ledger.proofs import bundle_document
from ledger.verify import export_proofs, verify_bundle
from schema.relay import encode_global_id
from tests.partner_factories import make_partner

Anchored = tuple[ChainClient, list[int]]

BUNDLE_FIELDS = ("format status anchored kind kindCode commitment batched leafEncoding value proof root leafCount "
                 "chainId contract txHash blockNumber erasedAt document")
RECORD = f"id kind commitment status createdAt erasedAt batch {{ id root }} proofBundle {{ {BUNDLE_FIELDS} }}"
RECORDS = """
query Records($first: Int, $after: String, $last: Int, $before: String, $status: LedgerRecordStatus,
              $kind: LedgerRecordKind) {
  ledgerRecords(first: $first, after: $after, last: $last, before: $before, status: $status, kind: $kind) {
    totalCount
    edges { cursor node { id kind status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
BATCHES = """
query Batches($first: Int, $after: String, $last: Int, $before: String, $status: AnchorBatchStatus,
              $kind: LedgerRecordKind) {
  anchorBatches(first: $first, after: $after, last: $last, before: $before, status: $status, kind: $kind) {
    totalCount
    edges { node { id kind leafCount status chainId contract txHash blockNumber attempts confirmedAt } }
    pageInfo { hasNextPage hasPreviousPage }
  }
}
"""


def gid(type_name: str, pk: int) -> str:
    return encode_global_id(type_name, pk)


def test_an_anchored_bundle_is_typed_and_its_document_is_the_exported_file(
        anchored: Anchored, gql: Any, session_factory: Any, tmp_path: Path) -> None:
    chain, ids = anchored
    got = gql(Role.AUDITOR)(f"query($id: ID!) {{ ledgerRecord(id: $id) {{ {RECORD} }} }}",
                            {"id": gid("LedgerRecord", ids[0])})["ledgerRecord"]
    bundle = got["proofBundle"]
    with session_factory() as s:
        stored = service.proof_bundle(s, record_id=ids[0])
        batch = s.get(AnchorBatch, s.get(LedgerRecord, ids[0]).batch_id)
        export_proofs(service.anchored_bundles(s), tmp_path)
    assert bundle["document"] == bundle_document(stored) == (tmp_path / f"{stored['commitment']}.json").read_text()
    assert verify_bundle(json.loads(bundle["document"]), None, w3=chain.w3).ok
    assert {k: v for k, v in bundle.items() if k != "document"} == {
        "format": "opsure-proof-v1", "status": "ANCHORED", "anchored": True, "kind": "SURVEY", "kindCode": 3,
        "commitment": stored["commitment"], "batched": None, "leafEncoding": ["bytes32", "uint8"],
        "value": [stored["commitment"], "3"], "proof": stored["proof"], "root": stored["root"],
        "leafCount": 9, "chainId": str(stored["chainId"]), "contract": stored["contract"],
        "txHash": stored["txHash"], "blockNumber": str(stored["blockNumber"]), "erasedAt": None}
    assert got["id"] == gid("LedgerRecord", ids[0]) and got["kind"] == "SURVEY" and got["status"] == "ANCHORED"
    assert got["batch"] == {"id": gid("AnchorBatch", batch.id), "root": stored["root"]}


def test_pending_and_erased_bundles_are_typed(anchored: Anchored, gql: Any, session_factory: Any) -> None:
    _, ids = anchored
    admin = gql(Role.ADMIN)
    pending = admin(f"query($id: ID!) {{ ledgerRecord(id: $id) {{ {RECORD} }} }}",
                    {"id": gid("LedgerRecord", ids[-1])})["ledgerRecord"]
    assert pending["batch"] is None and pending["status"] == "PENDING"
    b = pending["proofBundle"]
    assert (b["status"], b["anchored"], b["kind"], b["batched"], b["proof"], b["root"], b["chainId"]) == (
        "PENDING", False, "CREDIT", False, None, None, None)
    erased = admin("mutation($id: ID!) { eraseLedgerRecord(id: $id) { errors { code } record { "
                   f"{RECORD} }} }} }}", {"id": gid("LedgerRecord", ids[1])})["eraseLedgerRecord"]
    assert erased["errors"] == []
    rec = erased["record"]
    assert rec["status"] == "ERASED" and rec["erasedAt"] is not None
    b = rec["proofBundle"]
    assert (b["status"], b["commitment"], b["proof"], b["erasedAt"] is not None) == ("ERASED", None, None, True)
    with session_factory() as s:
        assert b["document"] == bundle_document(service.proof_bundle(s, record_id=ids[1]))


def test_erasing_refuses_bad_ids_and_non_admins(anchored: Anchored, gql: Any) -> None:
    _, ids = anchored
    erase = "mutation($id: ID!) { eraseLedgerRecord(id: $id) { errors { code field } record { id } } }"
    wrong_type = gql(Role.ADMIN)(erase, {"id": gid("AnchorBatch", ids[0])})["eraseLedgerRecord"]
    assert wrong_type == {"errors": [{"code": "BAD_ID", "field": "id"}], "record": None}
    absent = gql(Role.ADMIN)(erase, {"id": gid("LedgerRecord", 10**9)})["eraseLedgerRecord"]
    assert [(e["code"], e["field"]) for e in absent["errors"]] == [("NOT_FOUND", "id")]
    refused = gql(Role.AUDITOR).post(erase, {"id": gid("LedgerRecord", ids[0])}).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_node_resolves_ledger_rows_for_ledger_readers_only(anchored: Anchored, gql: Any,
                                                           session_factory: Any) -> None:
    _, ids = anchored
    with session_factory() as s:
        batch_id = s.get(LedgerRecord, ids[0]).batch_id
    query = ("query($id: ID!) { node(id: $id) { id __typename ... on LedgerRecord { kind } "
             "... on AnchorBatch { leafCount } } }")
    for role in (Role.AUDITOR, Role.MANAGER, Role.ADMIN):
        record = gql(role)(query, {"id": gid("LedgerRecord", ids[0])})["node"]
        assert record == {"id": gid("LedgerRecord", ids[0]), "__typename": "LedgerRecord", "kind": "SURVEY"}
        batch = gql(role)(query, {"id": gid("AnchorBatch", batch_id)})["node"]
        assert batch == {"id": gid("AnchorBatch", batch_id), "__typename": "AnchorBatch", "leafCount": 9}
    assert gql(Role.AUDITOR)(query, {"id": gid("LedgerRecord", 10**9)})["node"] is None
    with transaction(session_factory) as s:
        partner_id = make_partner(s).id
    outsiders = (gql(Role.ADJUSTER), gql(Role.QA), gql(Role.PARTNER, partner_id=partner_id),
                 gql(Role.CUSTOMER, customer_id=1))
    for client in outsiders:  # nothing, not even whether the row exists
        for type_name, pk in (("LedgerRecord", ids[0]), ("AnchorBatch", batch_id)):
            assert client("query($id: ID!) { node(id: $id) { id } }", {"id": gid(type_name, pk)}) == {"node": None}


def test_ledger_record_by_id(anchored: Anchored, gql: Any) -> None:
    _, ids = anchored
    one = "query($id: ID!) { ledgerRecord(id: $id) { id } }"
    assert gql(Role.AUDITOR)(one, {"id": gid("LedgerRecord", 10**9)}) == {"ledgerRecord": None}
    bad = gql(Role.AUDITOR).post(one, {"id": gid("AnchorBatch", ids[0])}).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_ID"
    assert gql(Role.ADJUSTER).post(one, {"id": gid("LedgerRecord", ids[0])}).json()["errors"][0][
        "extensions"]["code"] == "FORBIDDEN"


def _walk(client: Any, query: str, field: str, variables: dict[str, Any], *, backward: bool) -> list[list[str]]:
    """Every page of a connection, following cursors forward or backward; node ids per page."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        vars_ = {**variables, ("last" if backward else "first"): 5, ("before" if backward else "after"): cursor}
        conn = client(query, vars_)[field]
        pages.append([e["node"]["id"] for e in conn["edges"]])
        info = conn["pageInfo"]
        more = info["hasPreviousPage"] if backward else info["hasNextPage"]
        if not more:
            return pages
        cursor = info["startCursor"] if backward else info["endCursor"]


def test_ledger_records_page_both_ways_with_filters_and_total(anchored: Anchored, gql: Any,
                                                              session_factory: Any) -> None:
    _, ids = anchored
    with session_factory() as s:
        commitment = s.get(LedgerRecord, ids[4]).commitment
    auditor = gql(Role.AUDITOR)
    every = [gid("LedgerRecord", i) for i in sorted(ids)]
    forward = _walk(auditor, RECORDS, "ledgerRecords", {}, backward=False)
    backward = _walk(auditor, RECORDS, "ledgerRecords", {}, backward=True)
    assert [i for p in forward for i in p] == every  # oldest first
    assert [i for p in reversed(backward) for i in p] == every and len(backward[0]) == 5
    first = auditor(RECORDS, {"first": 5})["ledgerRecords"]
    assert first["totalCount"] == 13 and first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    second = auditor(RECORDS, {"first": 5, "after": first["pageInfo"]["endCursor"]})["ledgerRecords"]
    assert second["pageInfo"]["hasPreviousPage"] is True

    surveys = auditor(RECORDS, {"first": 100, "kind": "SURVEY"})["ledgerRecords"]
    assert surveys["totalCount"] == 9 and {e["node"]["kind"] for e in surveys["edges"]} == {"SURVEY"}
    pending = auditor(RECORDS, {"status": "PENDING"})["ledgerRecords"]
    assert pending["totalCount"] == 1 and pending["edges"][0]["node"]["id"] == gid("LedgerRecord", ids[-1])
    by_commitment = auditor("query($c: String) { ledgerRecords(commitment: $c) { edges { node { id commitment } } } }",
                            {"c": commitment.upper().replace("0X", "0x")})["ledgerRecords"]["edges"]
    assert by_commitment == [{"node": {"id": gid("LedgerRecord", ids[4]), "commitment": commitment}}]
    none = auditor(RECORDS, {"status": "ANCHORED", "kind": "CREDIT"})["ledgerRecords"]
    assert none["totalCount"] == 0 and none["edges"] == [] and none["pageInfo"]["startCursor"] is None


def test_ledger_pages_are_capped(gql: Any) -> None:
    for variables in ({"first": 101}, {"last": 101}, {"first": 2, "last": 2}, {"first": -1}):
        for query in (RECORDS, BATCHES):
            body = gql(Role.AUDITOR).post(query, variables).json()
            assert body["errors"][0]["extensions"]["code"] == "PAGE_SIZE", body


def test_anchor_batches_newest_first_both_ways_with_filters(anchored: Anchored, gql: Any,
                                                           session_factory: Any) -> None:
    chain, _ = anchored
    auditor = gql(Role.AUDITOR)
    page = auditor(BATCHES, {})["anchorBatches"]
    assert page["totalCount"] == 2 and page["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False}
    medical, survey = (e["node"] for e in page["edges"])  # newest first: medical was anchored second
    assert (medical["kind"], medical["leafCount"], survey["kind"], survey["leafCount"]) == ("MEDICAL", 3, "SURVEY", 9)
    assert medical["status"] == "CONFIRMED" and medical["attempts"] == 1 and medical["confirmedAt"]
    assert medical["chainId"] == str(chain.chain_id()) and int(medical["blockNumber"]) > int(survey["blockNumber"])
    last = auditor(BATCHES, {"last": 1})["anchorBatches"]
    assert [e["node"]["id"] for e in last["edges"]] == [survey["id"]]
    assert last["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    assert [e["node"]["id"] for e in auditor(BATCHES, {"kind": "SURVEY"})["anchorBatches"]["edges"]] == [survey["id"]]
    assert auditor(BATCHES, {"status": "SENT"})["anchorBatches"]["totalCount"] == 0


def test_last_error_is_for_the_admins_who_run_the_node(anchored: Anchored, gql: Any, session_factory: Any) -> None:
    with transaction(session_factory) as s:
        batch = s.scalars(select(AnchorBatch).order_by(AnchorBatch.id).limit(1)).one()
        batch.last_error = "rpc http://10.0.0.7:8545 refused the connection"
    query = "{ anchorBatches(last: 1) { edges { node { attempts lastError } } } }"
    seen = gql(Role.ADMIN)(query)["anchorBatches"]["edges"][0]["node"]
    assert seen == {"attempts": 1, "lastError": "rpc http://10.0.0.7:8545 refused the connection"}
    for role in (Role.AUDITOR, Role.MANAGER):
        body = gql(role).post(query).json()
        assert "data" not in body or body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and "lastError" in body["errors"][0]["message"]


def test_ledger_status_is_typed(anchored: Anchored, gql: Any, session_factory: Any) -> None:
    status = gql(Role.MANAGER)("{ ledgerStatus { records { pending anchored erased } outbox "
                               "batches { prepared sent confirmed } lastBatch { id kind leafCount chainId } } }")
    with session_factory() as s:
        last = service.ledger_status(s).last_batch
        assert last is not None
    assert status == {"ledgerStatus": {
        "records": {"pending": 1, "anchored": 12, "erased": 0}, "outbox": 1,
        "batches": {"prepared": 0, "sent": 0, "confirmed": 2},
        "lastBatch": {"id": gid("AnchorBatch", last.id), "kind": "MEDICAL", "leafCount": 3,
                      "chainId": str(last.chain_id)}}}


@contextmanager
def _statements(engine: Any) -> Iterator[list[str]]:
    """SQL statements on the ledger's tables (the app's background workers may query others meanwhile)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if any(f"FROM {table}" in statement for table in ("ledger_record", "anchor_batch", "record_proof")):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_of_records_with_bundles_and_batches_costs_the_same_for_any_size(
        anchored: Anchored, gql: Any, engine: Any) -> None:
    query = ("query($first: Int) { ledgerRecords(first: $first) { edges { node { "
             f"{RECORD} }} }} }} }}")
    auditor = gql(Role.AUDITOR)
    counts, answers = [], []
    for first in (2, 13, 2, 13):  # the first run executes normally, later ones by the compiled plan
        with _statements(engine) as sent:
            answers.append(auditor(query, {"first": first}))
        assert len(answers[-1]["ledgerRecords"]["edges"]) == first
        counts.append(len(sent))
    # the page, its batches, and the bundles (records, batches, proofs): never one per row
    assert counts == [5, 5, 5, 5], counts
    assert answers[0] == answers[2] and answers[1] == answers[3]
    with _statements(engine) as sent:
        auditor("{ ledgerRecords(first: 13) { totalCount edges { node { id } } } }")
    assert len(sent) == 2  # the page and one COUNT, only because totalCount is selected
