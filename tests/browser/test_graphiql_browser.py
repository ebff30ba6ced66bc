"""GraphiQL works in a real browser offline: every file from Opsure, no CSP violation, a query runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsure.runtime import Runtime
from tests.browser.browser import run_page
from tests.browser.servers import serve

pytestmark = pytest.mark.npm


def test_graphiql_loads_from_opsure_alone_and_runs_a_query(runtime: Runtime, tmp_path: Path) -> None:
    from opsure.app import create_app

    with serve(create_app(runtime.settings, runtime)) as api:
        seen = run_page(f"{api}/graphql?q=%7B%20__typename%20%7D", "graphiql", tmp_path / "profile")
    result: dict[str, Any] = seen["result"]
    assert '"__typename": "Query"' in result["text"] and result["title"] == "Opsure GraphiQL"
    assert seen["cspViolations"] == [] and seen["pageErrors"] == [], seen
    assert [r["url"] for r in seen["requests"] if not r["url"].startswith((api, "data:"))] == []
    loaded = {r["url"].rsplit("/", 1)[1].split(".")[0] for r in seen["requests"] if "/graphiql/static/" in r["url"]}
    assert loaded == {"react", "react-dom", "graphiql", "opsure-graphiql"}
    assert seen["failedRequests"] == [] and seen["consoleErrors"] == [], seen
