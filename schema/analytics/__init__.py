"""The analytics contract: what build_schema takes (AnalyticsQuery, NODES)."""

from __future__ import annotations

from schema.analytics.queries import NODES, AnalyticsQuery

__all__ = ["NODES", "AnalyticsQuery"]
