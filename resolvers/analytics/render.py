"""A report's table as CSV or as an SVG chart (matplotlib, rendered server-side).

CSV: a header row (bucket start in the business time zone, each dimension, each metric's key),
then one row per bucket and group; undefined values are empty cells, and a text cell that
starts like a formula (``= + - @``, tab, carriage return) is prefixed with ``'`` so a
spreadsheet shows it instead of running it.

SVG: one panel per metric (its title and unit), one line (or bar group) per group — the
``MAX_LINES`` largest groups by their total, the rest summed as "other". The SVG carries no
script and no external reference; text is escaped by matplotlib and kept as text (not glyph
paths), so the viewer's fonts draw Chinese product names and cities.

Example::

    csv_text = to_csv(table)
    svg_bytes = to_svg(table, ReportChart.LINE)
"""

from __future__ import annotations

import csv
import io
import threading
import warnings
from collections import defaultdict
from decimal import Decimal
from typing import Any

from core.clock import business_zone
from resolvers.analytics.metrics import Unit
from resolvers.analytics.models import ReportChart
from resolvers.analytics.reports import ReportTable

__all__ = ["MAX_LINES", "to_csv", "to_svg"]

MAX_LINES = 8
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_LOCK = threading.Lock()  # matplotlib's pyplot state is global: one figure at a time


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def to_csv(table: ReportTable) -> str:
    """The table as CSV (see module docstring)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["bucket_start", *(d.value for d in table.dimensions), *(m.key for m in table.metrics)])
    zone = business_zone()
    for at, group, values in table.rows:
        w.writerow([at.astimezone(zone).isoformat(), *(_text(g) for g in group),
                    *("" if v is None else str(v) for v in values)])
    return out.getvalue()


def _series(table: ReportTable, index: int) -> tuple[list[str], dict[str, list[float]]]:
    zone = business_zone()
    starts = sorted({at for at, _, _ in table.rows})
    labels = [s.astimezone(zone).strftime("%Y-%m-%d %H:%M" if table.bucket.value == "hour" else "%Y-%m-%d")
              for s in starts]
    position = {s: i for i, s in enumerate(starts)}
    by_group: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(starts))
    for at, group, values in table.rows:
        value = values[index]
        by_group[" / ".join(group) or "all"][position[at]] = float(value or Decimal(0))
    ranked = sorted(by_group, key=lambda g: -sum(abs(v) for v in by_group[g]))
    kept = {g: by_group[g] for g in ranked[:MAX_LINES]}
    rest = ranked[MAX_LINES:]
    if rest and table.metrics[index].unit is not Unit.RATIO:
        kept["other"] = [sum(by_group[g][i] for g in rest) for i in range(len(starts))]
    return labels, kept


def to_svg(table: ReportTable, chart: ReportChart) -> bytes:
    """The table as an SVG chart (see module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    n = len(table.metrics)
    style: dict[str, Any] = {"svg.fonttype": "none", "svg.hashsalt": "opsure",  # text stays text: viewers draw Chinese
             "font.family": ["DejaVu Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]}
    with _LOCK, plt.rc_context(style), warnings.catch_warnings():  # type: ignore[arg-type]
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")  # measured with DejaVu; drawn by the viewer
        fig, axes = plt.subplots(n, 1, figsize=(10, 3.2 * n), squeeze=False)
        try:
            for i, metric in enumerate(table.metrics):
                ax = axes[i][0]
                labels, lines = _series(table, i)
                xs = list(range(len(labels)))
                width = 0.8 / max(1, len(lines))
                for j, (name, ys) in enumerate(lines.items()):
                    if chart is ReportChart.BAR:
                        ax.bar([x + j * width for x in xs], ys, width=width, label=name)
                    else:
                        ax.plot(xs, ys, label=name, linewidth=1.5)
                ax.set_title(f"{metric.title} ({metric.unit.value})", fontsize=10)
                step = max(1, len(labels) // 12)
                ax.set_xticks(xs[::step], labels[::step], rotation=30, ha="right", fontsize=7)
                ax.grid(alpha=0.3)
                if len(lines) > 1:
                    ax.legend(fontsize=7, loc="upper left")
            fig.suptitle(f"{table.title}: {table.start.isoformat()} to {table.end.isoformat()}", fontsize=11)
            fig.tight_layout()
            out = io.BytesIO()
            fig.savefig(out, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    return out.getvalue()
