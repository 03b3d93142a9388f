"""Learnloop's own Prometheus counters, one set per Services.

They are counted where the work is done (the answer and reflection services, the Slack responder,
the ingest pipeline), so every surface counts alike. The counters live in a registry of their own:
each HTTP app adds that registry to the one it serves at /metrics, so several apps (or tests) in
one process never clash over metric names. Every label value is fixed in code, never taken from a
request, so no caller can grow the number of series.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from ingest import IngestPipeline
from ingest.pipeline import IngestReport

OUTCOMES = ("answer", "related", "abstain")
SURFACES = ("api", "slack", "cli", "web", "eval", "other")
REFLECTION_EVENTS = ("created", "published", "rejected", "deleted")
SLACK_KINDS = ("event_callback", "block_actions", "view_submission", "view_closed", "shortcut", "message_action", "command", "other")
INGEST_RESULTS = ("ingested", "skipped", "failed")
QUEUE_EVENTS = ("queued", "done", "failed", "retried")


class Metrics:
    """The counters, created together in one registry with every known label set at zero (so a
    dashboard sees a series before its first event)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.answers = Counter("learnloop_answers", "Answers given, by outcome and by surface", ["outcome", "surface"], registry=self.registry)
        self.reflections = Counter("learnloop_reflections", "Reflections created, published, rejected and deleted", ["event"], registry=self.registry)
        self.slack_received = Counter("learnloop_slack_events_received", "Slack requests that passed the signature check, by kind", ["kind"], registry=self.registry)
        self.slack_handled = Counter("learnloop_slack_events_handled", "Slack work done for a user (an answer, a saved reflection, a refusal explained)", registry=self.registry)
        self.slack_failed = Counter("learnloop_slack_events_failed", "Slack work that failed and ended in an apology or a logged error", registry=self.registry)
        self.ingest_files = Counter("learnloop_ingest_files", "Files seen by ingest, by result", ["result"], registry=self.registry)
        self.ingest_chunks = Counter("learnloop_ingest_chunks", "Chunks stored by ingest", registry=self.registry)
        self.queue_jobs = Counter("learnloop_queue_jobs", "Ingest-queue jobs, by event (counted by the queue's workers)", ["event"], registry=self.registry)
        for outcome in OUTCOMES:
            for surface in SURFACES:
                self.answers.labels(outcome, surface)
        _zero(self.reflections, REFLECTION_EVENTS)
        _zero(self.slack_received, SLACK_KINDS)
        _zero(self.ingest_files, INGEST_RESULTS)
        _zero(self.queue_jobs, QUEUE_EVENTS)

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


def _zero(counter: Counter, labels: Iterable[str]) -> None:
    for label in labels:
        counter.labels(label)
