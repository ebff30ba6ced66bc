"""Reports defined through GraphQL without code, run as a table, as CSV and as an SVG chart over HTTP."""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.etree import ElementTree

from core.auth import Role
from core.db import transaction
from core.event_stream import drain
from opsure.cli import issue_token
from resolvers.analytics.events import ANALYTICS_CONSUMER
from tests.analytics.test_analytics_api import _book
from tests.factories import make_customer, make_policy

CREATE = """mutation($i: CreateReportInput!) { createReport(input: $i) {
  report { id key title metrics dimensions bucket chart csvUrl chartUrl } errors { field code } } }"""
TABLE = """query($id: ID!) { report(id: $id) { table { start end columns { name metric unit }
  rows { bucketStart group values } } } }"""
DELETE = """mutation($id: ID!) { deleteReport(input: {reportId: $id}) { deletedId errors { code } } }"""
DOUBLE_11 = {"key": "double-11", "title": "Double 11 by product", "metrics": ["WRITTEN_PREMIUM", "POLICIES_ISSUED"],
             "dimensions": ["PRODUCT", "REGION"], "bucket": "HOUR", "start": "2026-11-11", "end": "2026-11-11",
             "chart": "BAR"}


def _get(http: Any, runtime: Any, url: str, role: Role | None) -> Any:
    headers = {}
    if role is not None:
        headers["authorization"] = "Bearer " + issue_token(runtime.token_keys, runtime.settings, subject="t", role=role)
    return http.get(url, headers=headers)


def test_bad_definitions_are_refused_at_once(gql: Any, session_factory: Any) -> None:
    _book(session_factory)
    out = gql(Role.ANALYST)(CREATE, {"i": {"key": "no", "title": " ", "metrics": [], "bucket": "HOUR",
                                           "dimensions": ["PRODUCT", "REGION", "AGE_BAND"], "lastDays": 7,
                                           "start": "2026-11-01"}})["createReport"]
    assert out["report"] is None
    assert {e["code"] for e in out["errors"]} == {"BAD_TITLE", "NO_METRICS", "TOO_MANY_DIMENSIONS", "BAD_PERIOD"}
    fine = gql(Role.ANALYST)(CREATE, {"i": {"key": "earned", "title": "Earned", "metrics": ["EARNED_PREMIUM"],
                                            "bucket": "HOUR", "lastDays": 7}})["createReport"]
    assert [e["code"] for e in fine["errors"]] == ["BUCKET_TOO_FINE"]


def test_a_report_runs_as_table_csv_and_svg(gql: Any, http: Any, runtime: Any, session_factory: Any) -> None:
    _book(session_factory)
    with transaction(session_factory) as s:  # a city that looks like a spreadsheet formula
        make_policy(s, today=__import__("datetime").date(2026, 11, 11), customer=make_customer(s, city="=1+1"))
    drain(session_factory, ANALYTICS_CONSUMER)
    made = gql(Role.ANALYST)(CREATE, {"i": DOUBLE_11})["createReport"]
    assert made["errors"] == [] and made["report"]["metrics"] == ["WRITTEN_PREMIUM", "POLICIES_ISSUED"]
    report = made["report"]
    table = gql(Role.MANAGER)(TABLE, {"id": report["id"]})["report"]["table"]
    assert [c["name"] for c in table["columns"]] == ["bucket_start", "product", "region", "written_premium",
                                                     "policies_issued"]
    at_six = [r for r in table["rows"] if r["bucketStart"] == "2026-11-11T10:00:00+00:00"]
    assert {(tuple(r["group"]), tuple(r["values"])) for r in at_six} >= {
        (("PA", "杭州"), (1200.0, 2.0)), (("PA", "上海"), (600.0, 1.0)), (("PB", "上海"), (600.0, 1.0))}
    assert len(table["rows"]) == 24 * 4  # every hour of every group seen that day

    resp = _get(http, runtime, report["csvUrl"], Role.ANALYST)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert 'filename="double-11.csv"' in resp.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0] == ["bucket_start", "product", "region", "written_premium", "policies_issued"]
    assert ["2026-11-11T18:00:00+08:00", "PA", "杭州", "1200.00", "2.00"] in rows
    assert any(r[2] == "'=1+1" for r in rows[1:]) and not any(r[2] == "=1+1" for r in rows[1:])

    svg = _get(http, runtime, report["chartUrl"], Role.MANAGER)
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in svg.headers["content-security-policy"]
    assert svg.headers["x-content-type-options"] == "nosniff"
    body = svg.text
    assert "<svg" in body and "<script" not in body and "Double 11 by product" in body
    assert "杭州" in body  # kept as text: the viewer's fonts draw it
    root = ElementTree.fromstring(svg.content)  # a well-formed SVG document ...
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and float(root.get("width", "0").rstrip("pt")) > 0
    bars = [p for p in root.iter("{http://www.w3.org/2000/svg}path")
            if p.get("clip-path") and (p.get("d") or "").rstrip().endswith("z")]  # closed shapes inside the axes
    assert len(bars) >= 2 * 24 * 4  # ... with data: a bar per hour and group in each of the two panels

    assert _get(http, runtime, report["csvUrl"], None).status_code == 401
    assert _get(http, runtime, report["csvUrl"], Role.AGENT).status_code == 403
    assert gql(Role.ANALYST)(DELETE, {"id": report["id"]})["deleteReport"]["errors"] == []
    assert _get(http, runtime, report["csvUrl"], Role.ANALYST).status_code == 404
