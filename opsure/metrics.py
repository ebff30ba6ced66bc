"""Prometheus metrics of the HTTP and GraphQL layers and the event stream (``/metrics``)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from core.event_stream import process_tail

__all__ = ["CONTENT_TYPE_LATEST", "EventStreamCollector", "Metrics"]


class EventStreamCollector(Collector):
    """Domain events by type, as this process's tail read them (every process reads every event)."""

    def collect(self) -> Iterator[Metric]:
        """``opsure_events_total{type}`` since the tail started, and the tail's position."""
        try:
            tail = process_tail()
        except RuntimeError:  # no tail in this process (yet): nothing to show
            return
        events = CounterMetricFamily("opsure_events", "Domain events committed since this process's tail started",
                                     labels=["type"])
        for event_type, count in sorted(tail.counts().items()):
            events.add_metric([event_type], count)
        yield events
        yield GaugeMetricFamily("opsure_event_tail_position", "Id of the last event this process's tail read",
                                value=tail.position)


class Metrics:
    """One registry per app, so tests and multiple apps do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "opsure_http_requests_total",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "opsure_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.operations = Counter(
            "opsure_graphql_operations_total",
            "GraphQL operations",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.registry.register(EventStreamCollector())

    def render(self) -> bytes:
        """The registry in Prometheus text exposition format."""
        return generate_latest(self.registry)
