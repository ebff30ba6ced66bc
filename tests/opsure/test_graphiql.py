"""GraphiQL is served whole by Opsure: no external URL, strict CSP, immutable vendored files."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from importlib import resources
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from opsure.graphiql import CONTENT_SECURITY_POLICY
from opsure.runtime import Runtime
from tests import npm_tools

HTML = "text/html,application/xhtml+xml,*/*;q=0.8"
STATIC = resources.files("opsure").joinpath("static/graphiql")
WEB_MODULES = npm_tools.REPO / "web" / "node_modules"


class _References(HTMLParser):
    """Every URL an HTML page makes the browser load (src, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, rel, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name) is not None:
                self.urls.append((tag, found.get("rel") or "", str(found[name])))


def page_references(html: str) -> list[tuple[str, str, str]]:
    """(tag, rel, url) of each resource the page loads."""
    parser = _References()
    parser.feed(html)
    return parser.urls


def test_the_page_loads_nothing_from_another_host(http: httpx.Client) -> None:
    resp = http.get("/graphql", headers={"accept": HTML})
    assert resp.status_code == 200 and resp.headers["content-type"] == "text/html; charset=utf-8"
    assert not re.search(r"(?i)(https?:)?//", resp.text), "the page names a URL of another host"
    refs = page_references(resp.text)
    assert {tag for tag, _, _ in refs} == {"link", "script"} and len(refs) == 7  # icon, 2 styles, 4 scripts
    for tag, rel, url in refs:
        if rel == "icon":
            assert url == "data:,"
        else:
            assert url.startswith("graphiql/static/") and not urlsplit(url).netloc, (tag, url)
    assert "<style" not in resp.text and not re.search(r"<script>", resp.text), "inline code needs 'unsafe-inline'"


def test_the_page_runs_under_a_strict_content_security_policy(http: httpx.Client) -> None:
    headers = http.get("/graphql", headers={"accept": HTML}).headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["connect-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY
    assert directives["frame-ancestors"] == "'none'"
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-cache"


def test_every_file_the_page_names_is_served_immutable_with_its_type(http: httpx.Client) -> None:
    page = http.get("/graphql", headers={"accept": HTML})
    types = {"link": "text/css; charset=utf-8", "script": "text/javascript; charset=utf-8"}
    for tag, rel, url in page_references(page.text):
        if rel == "icon":
            continue
        resp = http.get(urljoin(str(page.url), url))
        assert resp.status_code == 200, url
        assert resp.headers["content-type"] == types[tag], url
        assert resp.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert resp.headers["x-content-type-options"] == "nosniff"
        stem, digest, ext = url.rsplit("/", 1)[1].rsplit(".", 2)
        assert resp.content == STATIC.joinpath(f"{stem}.{ext}").read_bytes(), url
        assert len(digest) == 16


def test_unknown_and_outdated_files_are_404(http: httpx.Client) -> None:
    page = http.get("/graphql", headers={"accept": HTML}).text
    url = next(url for _, rel, url in page_references(page) if rel != "icon")
    stem, _, ext = url.rsplit(".", 2)
    for path in (f"/{stem}.0000000000000000.{ext}", "/graphiql/static/graphiql.min.js",
                 "/graphiql/static/manifest.json", "/graphiql/static/LICENSE.react.txt"):
        resp = http.get(path)
        assert resp.status_code == 404 and resp.json()["errors"][0]["code"] == "NOT_FOUND", path
    assert http.get("/graphiql/static/..%2F..%2Fgraphiql.py").status_code == 404


def test_graphiql_switched_off_serves_neither_page_nor_files(runtime: Runtime, http: httpx.Client) -> None:
    from opsure.app import create_app

    url = next(url for _, rel, url in page_references(http.get("/graphql", headers={"accept": HTML}).text)
               if rel != "icon")
    rt = dataclasses.replace(runtime, settings=runtime.settings.with_(graphiql=False))
    with TestClient(create_app(rt.settings, rt)) as client:
        assert not client.get("/graphql", headers={"accept": HTML}).headers["content-type"].startswith("text/html")
        assert client.get("/" + url).status_code == 404


def test_a_graphql_request_from_a_browser_is_not_answered_with_the_page(http: httpx.Client) -> None:
    resp = http.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": f"{HTML},application/json"})
    assert resp.json() == {"data": {"__typename": "Query"}}


def _manifest() -> dict[str, str]:
    files: dict[str, str] = json.loads(STATIC.joinpath("manifest.json").read_text())["files"]
    return files


def test_every_vendored_package_ships_its_licence() -> None:
    files = _manifest()
    for package in {source.split("/")[0] for source in files.values()}:
        licence = next(name for name, source in files.items() if source == f"{package}/LICENSE")
        assert "MIT License" in STATIC.joinpath(licence).read_text(), package


@pytest.mark.npm
def test_vendored_files_equal_the_pinned_npm_packages_byte_for_byte() -> None:
    pins = json.loads((npm_tools.REPO / "web" / "package.json").read_text())["dependencies"]
    if not (WEB_MODULES / ".package-lock.json").is_file():
        pytest.fail("web/node_modules is not installed: run `make npm`", pytrace=False)
    for name, source in _manifest().items():
        package = source.split("/")[0]
        installed = json.loads((WEB_MODULES / package / "package.json").read_text())["version"]
        assert installed == pins[package], f"web/node_modules/{package} is {installed}, pinned {pins[package]}"
        assert STATIC.joinpath(name).read_bytes() == (WEB_MODULES / source).read_bytes(), (
            f"opsure/static/graphiql/{name} differs from {source}: run `npm run vendor --prefix web`")
