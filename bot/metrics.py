"""Learnloop's own Prometheus counters, one set per Services.

They are counted where the work is done (the answer and reflection services, the Slack responder,
the ingest pipeline), so every surface counts alike. The ingest queue's workers are processes of
their own, so the queue is shown as it stands in the shared database, read at each scrape. The counters live in a registry of their own:
each HTTP app adds that registry to the one it serves at /metrics, so several apps (or tests) in
one process never clash over metric names. Every label value is fixed in code, never taken from a
request, so no caller can grow the number of series.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ingest import IngestPipeline
from ingest.pipeline import IngestReport

log = logging.getLogger(__name__)

OUTCOMES = ("answer", "related", "abstain")
SURFACES = ("api", "slack", "cli", "web", "eval", "other")
REFLECTION_EVENTS = ("created", "published", "rejected", "deleted")
SLACK_KINDS = ("event_callback", "block_actions", "view_submission", "view_closed", "shortcut", "message_action", "command", "other")
INGEST_RESULTS = ("ingested", "skipped", "failed")
QUEUE_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")  # procrastinate's job statuses
QUEUE_COUNTS = text("SELECT status::text, count(*) FROM procrastinate_jobs WHERE queue_name = :queue GROUP BY status")


class Metrics:
    """The counters, created together in one registry with every known label set at zero (so a
    dashboard sees a series before its first event)."""

    def __init__(self, engine: Engine | None = None) -> None:
        """With the catalog's `engine`, the ingest queue's jobs are reported too (PostgreSQL only)."""
        self.registry = CollectorRegistry()
        self.answers = Counter("learnloop_answers", "Answers given, by outcome and by surface", ["outcome", "surface"], registry=self.registry)
        self.reflections = Counter("learnloop_reflections", "Reflections created, published, rejected and deleted", ["event"], registry=self.registry)
        self.slack_received = Counter("learnloop_slack_events_received", "Slack requests that passed the signature check, by kind", ["kind"], registry=self.registry)
        self.slack_handled = Counter("learnloop_slack_events_handled", "Slack work done for a user (an answer, a saved reflection, a refusal explained)", registry=self.registry)
        self.slack_failed = Counter("learnloop_slack_events_failed", "Slack work that failed and ended in an apology or a logged error", registry=self.registry)
        self.ingest_files = Counter("learnloop_ingest_files", "Files seen by ingest, by result", ["result"], registry=self.registry)
        self.ingest_chunks = Counter("learnloop_ingest_chunks", "Chunks stored by ingest", registry=self.registry)
        for outcome in OUTCOMES:
            for surface in SURFACES:
                self.answers.labels(outcome, surface)
        _zero(self.reflections, REFLECTION_EVENTS)
        _zero(self.slack_received, SLACK_KINDS)
        _zero(self.ingest_files, INGEST_RESULTS)
        if engine is not None and engine.dialect.name == "postgresql":
            self.registry.register(QueueJobs(engine))

    def answered(self, outcome: str, surface: str) -> None:
        self.answers.labels(outcome, surface if surface in SURFACES else "other").inc()

    def slack_request(self, body: dict) -> None:
        """Count one Slack request by its kind (events, commands, interactions)."""
        kind = "command" if "command" in body else str(body.get("type", ""))
        self.slack_received.labels(kind if kind in SLACK_KINDS else "other").inc()

    def ingested(self, report: IngestReport) -> None:
        self.ingest_files.labels("ingested").inc(report.documents)
        self.ingest_files.labels("skipped").inc(report.skipped)
        self.ingest_files.labels("failed").inc(len(report.failed))
        self.ingest_chunks.inc(report.chunks)


class MeteredPipeline(IngestPipeline):
    """The ingest pipeline, counting each run's report."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    def run(self, paths: Iterable[Path] = (), *args: Any, **kwargs: Any) -> IngestReport:
        report = super().run(paths, *args, **kwargs)
        self.metrics.ingested(report)
        return report


class QueueJobs:
    """A gauge of the ingest queue's jobs by status, read from procrastinate's table at each scrape;
    nothing when the queue was never set up, or when the database does not answer (the rest of
    /metrics is still served)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        from ingest.queue import QUEUE  # here, not at import: procrastinate is slow to import and most processes never scrape

        try:
            with self.engine.connect() as connection:
                if connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
                    return
                counts: dict[str, int] = {status: n for status, n in connection.execute(QUEUE_COUNTS, {"queue": QUEUE})}
        except SQLAlchemyError as error:
            log.warning("metrics: the ingest queue could not be read (%s)", type(error).__name__)
            return
        gauge = GaugeMetricFamily("learnloop_queue_jobs", "Ingest-queue jobs by status (todo: waiting for a worker)", labels=["status"])
        for status in QUEUE_STATUSES:
            gauge.add_metric([status], counts.get(status, 0))
        yield gauge


def _zero(counter: Counter, labels: Iterable[str]) -> None:
    for label in labels:
        counter.labels(label)
