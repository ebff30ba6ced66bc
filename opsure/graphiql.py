"""GraphiQL served by Opsure itself: the page at ``GET /graphql`` and its files, no CDN.

The page (``GET /graphql`` with ``Accept: text/html`` and no ``query``/``documentId``
parameter) loads React, ReactDOM and GraphiQL from ``/graphiql/static/<file>``: the npm
builds vendored in ``opsure/static/graphiql`` (listed with their npm paths in its
``manifest.json``, pinned by ``web/package.json``), plus Opsure's own script and style.
Each file's URL carries a hash of its bytes, so it is served ``immutable`` for a year; the
page itself is revalidated (``no-cache``) and runs under a Content-Security-Policy that
allows this origin only (no inline script or style, no other host). Relative URLs keep the
page working behind a path prefix.

Example::

    ide = GraphiQLPage.load()
    routes.append(ide.route())                    # /graphiql/static/{asset}
    if ide.wants_page(request):
        return ide.page()
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape
from importlib import resources

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_PATH", "GraphiQLPage", "StaticAsset"]

#: Path template of the page's files (declared in ``schema.permissions.ROUTE_ACCESS``).
STATIC_PATH = "/graphiql/static/{asset}"
_URL_PREFIX = "graphiql/static/"  # relative to /graphql, so a path prefix is kept
_SOURCE = "static/graphiql"
#: The page's stylesheets, then its scripts, in load order (GraphiQL needs React globals).
_STYLES = ("graphiql.min.css", "opsure-graphiql.css")
_SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "opsure-graphiql.js")
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

#: This origin only. GraphiQL's stylesheet embeds its fonts and icons as data: URLs; React
#: sets style properties through the CSSOM, which ``style-src`` does not restrict.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'")
_PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache",
                 "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
_ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff",
                  "Cross-Origin-Resource-Policy": "same-origin"}


@dataclass(frozen=True)
class StaticAsset:
    """One file of the page: its bytes, media type and hashed URL name."""

    name: str
    body: bytes
    media_type: str

    @property
    def served_name(self) -> str:
        """``graphiql.min.<hash>.js``: the name in the URL, changed by any change of the bytes."""
        stem, dot, ext = self.name.rpartition(".")
        return f"{stem}.{hashlib.sha256(self.body).hexdigest()[:16]}{dot}{ext}"


def _page_html(assets: dict[str, StaticAsset]) -> str:
    def url(name: str) -> str:
        return escape(_URL_PREFIX + assets[name].served_name)

    styles = "".join(f'\n    <link rel="stylesheet" href="{url(n)}">' for n in _STYLES)
    scripts = "".join(f'\n    <script src="{url(n)}"></script>' for n in _SCRIPTS)
    return ("<!doctype html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\">\n"
            "    <title>Opsure GraphiQL</title>\n    <link rel=\"icon\" href=\"data:,\">"
            f"{styles}\n  </head>\n  <body>\n    <div id=\"graphiql\">Loading…</div>{scripts}\n"
            "  </body>\n</html>\n")


class GraphiQLPage:
    """The GraphiQL page and the route serving its files, read once from the package."""

    def __init__(self, assets: dict[str, StaticAsset]) -> None:
        self.by_served_name = {asset.served_name: asset for asset in assets.values()}
        self.html = _page_html(assets).encode()

    @classmethod
    def load(cls) -> GraphiQLPage:
        """Read the page's files from ``opsure/static/graphiql``."""
        folder = resources.files("opsure").joinpath(_SOURCE)
        assets = {}
        for name in (*_STYLES, *_SCRIPTS):
            body = folder.joinpath(name).read_bytes()
            assets[name] = StaticAsset(name, body, _MEDIA_TYPES["." + name.rpartition(".")[2]])
        return cls(assets)

    @staticmethod
    def wants_page(request: Request) -> bool:
        """A browser asking for the IDE: GET accepting HTML, with no GraphQL request in the URL."""
        return (request.method == "GET" and "text/html" in request.headers.get("accept", "").lower()
                and "query" not in request.query_params and "documentId" not in request.query_params)

    def page(self) -> Response:
        """The page, under its Content-Security-Policy."""
        return Response(self.html, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    async def asset(self, request: Request) -> Response:
        """One file by its hashed name; 404 for any other name (an old hash included)."""
        found = self.by_served_name.get(request.path_params["asset"])
        if found is None:
            return JSONResponse({"errors": [{"field": None, "code": "NOT_FOUND", "message": "no such GraphiQL file"}]},
                                status_code=404)
        return Response(found.body, media_type=found.media_type, headers=_ASSET_HEADERS)

    def route(self) -> Route:
        """``GET /graphiql/static/{asset}`` (HEAD follows)."""
        return Route(STATIC_PATH, self.asset, methods=["GET"])
