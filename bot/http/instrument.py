"""Prometheus for one app: HTTP latency and counts (prometheus-fastapi-instrumentator) and the
services' own counters, in a registry per app, so two apps in one process never clash."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_fastapi_instrumentator import Instrumentator


class _ServiceCounters:
    """Collects the counters of whatever services the lifespan has loaded (none before it runs)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        services = getattr(self.app.state, "services", None)
        if services is not None:
            yield from services.metrics.registry.collect()


def instrument(app: FastAPI) -> None:
    """Measure every request but scrapes (handler label: the route's template, so ids in paths add no
    series), and keep the registry /metrics serves on `app.state.metrics_registry`."""
    registry = CollectorRegistry()
    registry.register(_ServiceCounters(app))
    Instrumentator(should_group_status_codes=False, excluded_handlers=["^/metrics$"], registry=registry).instrument(app)
    app.state.metrics_registry = registry
