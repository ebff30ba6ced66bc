"""``GET /analytics/reports/{report_id}/table.csv`` and ``.../chart.svg``: a report run, as a file.

Who may fetch is declared in ``schema.permissions.ROUTE_ACCESS`` (``ANALYTICS_READERS``). A
rolling report runs up to ``?end=YYYY-MM-DD`` (default: today's business date); a fixed one
over its own period. CSV comes as an attachment; the SVG is served with a CSP that forbids
scripts and every fetch (``default-src 'none'``, inline styles only, sandboxed), ``nosniff``
and no caching, so a chart opened in a browser tab can do nothing but show.

Mount::

    routes.extend(report_routes(runtime))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.clock import business_today
from core.errors import DomainError, ValidationError
from opsure.runtime import Runtime
from opsure.uploads import error_response
from resolvers.analytics import render
from resolvers.analytics.reports import ReportTable, get_report, run_report
from schema.relay import decode_global_id

__all__ = ["report_routes"]

_SVG_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"}


def _end(request: Request) -> dt.date:
    raw = request.query_params.get("end")
    if raw is None:
        return business_today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("end is a date, YYYY-MM-DD", field="end", code="INVALID") from None


def report_routes(runtime: Runtime) -> list[Route]:
    """The two Starlette routes (CSV table, SVG chart)."""

    def table(report_id: int, end: dt.date) -> tuple[ReportTable, str, object]:
        with runtime.session_factory() as session:
            report = get_report(session, report_id=report_id)
            return run_report(session, report, today=end), report.key, report.chart

    def handler(render_file: Callable[[ReportTable, object], tuple[bytes, str, dict[str, str]]]
                ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                report_id = decode_global_id(request.path_params["report_id"], "Report", field="reportId")
                result, key, chart = await run_in_threadpool(table, report_id, _end(request))
            except DomainError as exc:
                return error_response(exc)
            body, media, headers = await run_in_threadpool(render_file, result, chart)
            if "Content-Disposition" in headers:
                headers = {**headers, "Content-Disposition": headers["Content-Disposition"].format(key=key)}
            return Response(body, media_type=media, headers=headers)

        return endpoint

    def csv_file(result: ReportTable, _chart: object) -> tuple[bytes, str, dict[str, str]]:
        return (render.to_csv(result).encode("utf-8-sig"), "text/csv; charset=utf-8",
                {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                 "Content-Disposition": 'attachment; filename="{key}.csv"'})

    def svg_file(result: ReportTable, chart: object) -> tuple[bytes, str, dict[str, str]]:
        from resolvers.analytics.models import ReportChart

        assert isinstance(chart, ReportChart)
        return render.to_svg(result, chart), "image/svg+xml", dict(_SVG_HEADERS)

    return [Route("/analytics/reports/{report_id}/table.csv", handler(csv_file), methods=["GET"]),
            Route("/analytics/reports/{report_id}/chart.svg", handler(svg_file), methods=["GET"])]
