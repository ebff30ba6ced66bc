"""Reports through GraphQL: define (metrics x dimensions x filters x period), list, run, delete.

A report's table is read as ``Report.table``; the same run is served as CSV and as an SVG chart
over HTTP (``Report.csvUrl``, ``Report.chartUrl``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.clock import business_today
from core.errors import DomainError
from core.roles import ANALYTICS_READERS
from resolvers.analytics import reports as r
from resolvers.analytics import service as m
from resolvers.analytics.models import ReportChart as ReportChartValue
from schema.analytics.enums import AnalyticsDimension, MetricKey, MetricUnit, TimeBucket
from schema.analytics.inputs import AnalyticsFilter
from schema.context import Context
from schema.enums import described_enum
from schema.errors import mutation_errors, run_mutation
from schema.node import NodeFetcher
from schema.permissions import PUBLIC, access, allow
from schema.relay import (
    PAGING,
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    decode_global_id,
    encode_global_id,
    keyset_connection,
)

__all__ = ["REPORT_NODES", "Report", "ReportMutations", "ReportsQuery"]

ReportChart = described_enum(ReportChartValue, name="ReportChart", description="How a report's chart draws.",
                             values={"LINE": "A line per group.", "BAR": "Bars per bucket, one per group."})
_SPEC_CODES = {
    "INVALID_KEY": "key is not 2-64 of a-z, 0-9, - and _ starting with a letter.",
    "DUPLICATE_KEY": "A report with this key exists.",
    "BAD_TITLE": "title is empty or longer than 200 characters.",
    "NO_METRICS": "A report shows at least one metric.",
    "TOO_MANY_METRICS": "A report shows at most 10 metrics.",
    "UNKNOWN_METRIC": "No such metric.",
    "TOO_MANY_DIMENSIONS": "A report groups by at most two dimensions.",
    "BAD_PERIOD": "A period is either lastDays (1-1096) or both start and end.",
    "INVERTED_PERIOD": "The period ends before it starts.",
    "RANGE_TOO_LARGE": "The period is longer than 1,099 days.",
    "HOURLY_RANGE_TOO_LARGE": "Hourly buckets cover at most 31 days.",
    "BUCKET_TOO_FINE": "A metric that reads a level (earned premium, policies in force) has no hourly values.",
    "TOO_MANY_POINTS": "More than 20,000 values: use longer buckets, fewer dimensions or filters.",
    "UNKNOWN_PRODUCT": "A product code of the filter does not exist.",
    "UNKNOWN_AGE_BAND": "An age band of the filter is not one of the bands.",
}
CreateReportError = mutation_errors("CreateReport", _SPEC_CODES)
DeleteReportError = mutation_errors("DeleteReport", {})


@strawberry.type(description="A column of a report's table.")
@access(ANALYTICS_READERS)
class ReportColumn:
    name: str = strawberry.field(description="BUCKET_START, a dimension's name or a metric's key (lower case, as in "
                                             "the CSV header).")
    metric: MetricKey | None = strawberry.field(description="The metric, for a metric column.")  # type: ignore[valid-type]
    unit: MetricUnit | None = strawberry.field(description="The metric's unit, for a metric column.")  # type: ignore[valid-type]


@strawberry.type(description="One row of a report's table: a bucket of a group, one value per metric.")
@access(ANALYTICS_READERS)
class ReportRow:
    bucket_start: dt.datetime = strawberry.field(description="The bucket's first instant.")
    group: list[str] = strawberry.field(description="The dimension values, in the report's dimension order.")
    values: list[float | None] = strawberry.field(description="One value per metric, in the report's metric order "
                                                              "(null where undefined).")


@strawberry.type(description="A report run: its period and its rows.")
@access(ANALYTICS_READERS)
class ReportTable:
    start: dt.date = strawberry.field(description="The period's first business date.")
    end: dt.date = strawberry.field(description="The period's last business date.")
    columns: list[ReportColumn] = strawberry.field(description="The columns: bucket start, dimensions, metrics.")
    rows: list[ReportRow] = strawberry.field(description="One row per bucket and group (at most 20,000 values).")


@strawberry.type(description="A report defined without code: metrics x dimensions x filters x period.")
@access(ANALYTICS_READERS)
class Report(Node):
    key: str = strawberry.field(description="Its unique key.")
    title: str = strawberry.field(description="Its title (free text by its author).")
    metrics: list[MetricKey] = strawberry.field(description="The metrics it shows.")  # type: ignore[valid-type]
    dimensions: list[AnalyticsDimension] = strawberry.field(description="What it groups by.")  # type: ignore[valid-type]
    bucket: TimeBucket = strawberry.field(description="Its time bucket.")  # type: ignore[valid-type]
    last_days: int | None = strawberry.field(description="A rolling period: this many days up to the run's end.")
    start: dt.date | None = strawberry.field(description="A fixed period's first date.")
    end: dt.date | None = strawberry.field(description="A fixed period's last date.")
    chart: ReportChart = strawberry.field(description="How its chart draws.")  # type: ignore[valid-type]
    created_by: str = strawberry.field(description="Who defined it.")
    version: int = strawberry.field(description="Optimistic-locking version.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Report) -> Report:
        return cls(id=strawberry.ID(encode_global_id("Report", row.id)), pk=row.id, key=row.key, title=row.title,
                   metrics=[m.MetricKey(k) for k in row.metrics], dimensions=[m.Dimension(d) for d in row.dimensions],
                   bucket=m.Bucket(row.bucket), last_days=row.last_days, start=row.start, end=row.end,
                   chart=row.chart, created_by=row.created_by, version=row.version)

    @strawberry.field(description="The CSV of a run (GET, with the same bearer token; `?end=YYYY-MM-DD` moves a "
                                  "rolling report's end).")
    def csv_url(self) -> str:
        return f"/analytics/reports/{self.id}/table.csv"

    @strawberry.field(description="The SVG chart of a run (GET, as csvUrl).")
    def chart_url(self) -> str:
        return f"/analytics/reports/{self.id}/chart.svg"

    @strawberry.field(description="Run it now (a rolling report up to `end`, default today's business date).")
    def table(self, info: Info[Context, Any], end: Annotated[dt.date | None, strawberry.argument(
            description="The last day of a rolling period.")] = None) -> ReportTable:
        ctx = info.context
        t = r.run_report(ctx.session, r.get_report(ctx.session, report_id=self.pk),
                         today=end or business_today(ctx.now()))
        columns = [ReportColumn(name="bucket_start", metric=None, unit=None),
                   *(ReportColumn(name=d.value, metric=None, unit=None) for d in t.dimensions),
                   *(ReportColumn(name=mm.key, metric=m.MetricKey(mm.key), unit=mm.unit) for mm in t.metrics)]
        rows = [ReportRow(bucket_start=at, group=list(group), values=[None if v is None else float(v) for v in values])
                for at, group, values in t.rows]
        return ReportTable(start=t.start, end=t.end, columns=columns, rows=rows)


@strawberry.input(description="A new report (each field's description says its limits).")
class CreateReportInput:
    key: str = strawberry.field(description="Unique key, 2-64 of a-z, 0-9, - and _ starting with a letter.")
    title: str = strawberry.field(description="A title, 1-200 characters.")
    metrics: list[MetricKey] = strawberry.field(description="1 to 10 metrics.")  # type: ignore[valid-type]
    dimensions: list[AnalyticsDimension] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Up to two dimensions.")
    bucket: TimeBucket = strawberry.field(description="The time bucket.")  # type: ignore[valid-type]
    last_days: int | None = strawberry.field(default=None, description="A rolling period of this many days (1-1096); "
                                                                       "or give start and end.")
    start: dt.date | None = strawberry.field(default=None, description="A fixed period's first date.")
    end: dt.date | None = strawberry.field(default=None, description="A fixed period's last date.")
    chart: ReportChart = strawberry.field(default=ReportChartValue.LINE,  # type: ignore[valid-type]
                                          description="How the chart draws (LINE by default).")
    filter: AnalyticsFilter | None = strawberry.field(default=None, description="Which facts count.")


@strawberry.input(description="Delete a report.")
class DeleteReportInput:
    report_id: strawberry.ID = strawberry.field(description="The Report's global id.")


@strawberry.type(description="The result of createReport.")
@access(PUBLIC)
class CreateReportPayload:
    report: Report | None = strawberry.field(description="The report (null when refused).")
    errors: list[CreateReportError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success): field, code, message.")


@strawberry.type(description="The result of deleteReport.")
@access(PUBLIC)
class DeleteReportPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The deleted report's global id (null when "
                                                                    "refused).")
    errors: list[DeleteReportError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success): field, code, message.")


def _report(ctx: Context, pk: int) -> Report | None:
    if ctx.principal.role not in ANALYTICS_READERS:
        return None
    try:
        return Report.from_row(r.get_report(ctx.session, report_id=pk))
    except DomainError:
        return None


#: How ``node(id:)`` fetches reports.
REPORT_NODES: dict[str, NodeFetcher] = {"Report": _report}


@strawberry.type
class ReportsQuery:
    @strawberry.field(description="A report by global id (null when absent).", metadata=allow(ANALYTICS_READERS))
    def report(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
            description="The report's global id.")]) -> Report | None:
        return _report(info.context, decode_global_id(id, "Report"))

    @strawberry.field(description="Reports, oldest first. " + PAGING, metadata=allow(ANALYTICS_READERS))
    def reports(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                before: Before = None) -> Connection[Report]:
        ctx = info.context
        return keyset_connection(ctx.session, r.reports_query(), wrap=Report.from_row, settings=ctx.settings,
                                 first=first, after=after, last=last, before=before)


@strawberry.type
class ReportMutations:
    @strawberry.mutation(description="Define a report; it is dry-run first, so every saved report runs. Every input "
                                     "error at once.", metadata=allow(ANALYTICS_READERS))
    def create_report(self, info: Info[Context, Any], input: Annotated[CreateReportInput, strawberry.argument(
            description="The report; each field's description says its limits.")]) -> CreateReportPayload:
        ctx = info.context
        f = input.filter or AnalyticsFilter()
        spec = r.ReportSpec(key=input.key, title=input.title, metrics=tuple(m.MetricKey(k).value for k in input.metrics),
                            dimensions=tuple(m.Dimension(d) for d in input.dimensions), bucket=m.Bucket(input.bucket),
                            last_days=input.last_days, start=input.start, end=input.end,
                            chart=ReportChartValue(input.chart), products=tuple(f.products or ()),
                            age_bands=tuple(f.age_bands or ()), regions=tuple(f.regions or ()))
        row, errors = run_mutation(info, "createReport", input, lambda s: r.create_report(
            s, principal=ctx.principal, spec=spec, today=business_today(ctx.now())), codes=CreateReportError,
            target=lambda x: None if x is None else encode_global_id("Report", x.id))
        return CreateReportPayload(report=Report.from_row(row) if row is not None else None, errors=errors)

    @strawberry.mutation(description="Delete a report.", metadata=allow(ANALYTICS_READERS))
    def delete_report(self, info: Info[Context, Any], input: Annotated[DeleteReportInput, strawberry.argument(
            description="Which report.")]) -> DeleteReportPayload:
        pk = decode_global_id(input.report_id, "Report", field="reportId")
        done, errors = run_mutation(info, "deleteReport", input, lambda s: r.delete_report(s, report_id=pk),
                                    codes=DeleteReportError, target=lambda _: encode_global_id("Report", pk))
        return DeleteReportPayload(deleted_id=strawberry.ID(encode_global_id("Report", pk)) if done else None,
                                   errors=errors)
