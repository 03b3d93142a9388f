"""/metrics through a real server: parsed with prometheus_client's own parser after real traffic
(HTTP asks, the reflection life cycle, a signed Slack event against the stand-in), each counter
moved by exactly the expected amount."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.http.app import create_app
from bot.metrics import Metrics
from bot.services import Services
from ingest.queue import enqueue, prepare_queue, queue_app, queue_conninfo
from tests.conftest import LiveServer, small_services, throwaway_database
from tests.slack_standin import SlackStandIn, serve_standin
from tests.test_slack import SECRET, fixture, send_event, unique

Samples = dict[tuple[str, frozenset], float]


def scrape(client: httpx.Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for_value(client: httpx.Client, name: str, expected: float, timeout: float = 15.0, **labels: str) -> Samples:
    """Scrape until `name` reaches `expected` (Slack work finishes after the event is acknowledged)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(client)
        if value(samples, name, **labels) >= expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.05)


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with serve_standin() as stand_in:
        yield stand_in


@pytest.fixture
def served(tmp_path: Path, standin: SlackStandIn) -> Iterator[tuple[httpx.Client, Services]]:
    services = small_services(
        tmp_path, f"sqlite:///{tmp_path / 'metrics.db'}",
        slack_bot_token=SecretStr("xoxb-test"), slack_signing_secret=SecretStr(SECRET), slack_api_url=f"{standin.url}/api/",
    )
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, services
    services.catalog.engine.dispose()


@pytest.mark.slow
def test_counters_move_by_exactly_the_traffic(served, standin) -> None:
    client, services = served
    before = scrape(client)

    outcomes = Counter()
    for question in ("What makes collaboration across a system work?", "What is the boiling point of mercury at sea level?"):
        response = client.post("/ask", json={"question": question})
        assert response.status_code == 200
        outcomes[response.json()["outcome"]] += 1
    assert client.post("/ask", json={"question": "   "}).status_code == 422  # refused: no answer counted

    created = client.post("/reflections", json={"what_happened": "We pooled budgets across two teams.", "what_we_learned": "Shared budgets need one owner."})
    assert created.status_code == 201
    reflection_id = created.json()["id"]
    assert client.patch(f"/reflections/{reflection_id}", json={"status": "rejected"}).status_code == 200
    assert client.patch(f"/reflections/{reflection_id}", json={"status": "published"}).status_code == 200
    assert client.delete(f"/reflections/{reflection_id}").status_code == 204

    mention = unique(fixture("events/app_mention.json"), "<@W111> What does collaboration need from leaders?")
    assert send_event(client, mention).status_code == 200
    standin.wait_for("chat.postMessage")
    after = wait_for_value(client, "learnloop_slack_events_handled_total", value(before, "learnloop_slack_events_handled_total") + 1)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    for outcome in ("answer", "related", "abstain"):
        assert moved("learnloop_answers_total", outcome=outcome, surface="api") == outcomes[outcome]
    assert sum(moved("learnloop_answers_total", outcome=o, surface="slack") for o in ("answer", "related", "abstain")) == 1
    assert [moved("learnloop_reflections_total", event=e) for e in ("created", "published", "rejected", "deleted")] == [1, 2, 1, 1]
    assert moved("learnloop_slack_events_received_total", kind="event_callback") == 1
    assert moved("learnloop_slack_events_handled_total") == 1
    assert moved("learnloop_slack_events_failed_total") == 0
    assert moved("http_requests_total", handler="/ask", method="POST", status="200") == 2
    assert moved("http_requests_total", handler="/ask", method="POST", status="422") == 1
    assert moved("http_request_duration_seconds_count", handler="/ask", method="POST") == 3
    assert moved("http_requests_total", handler="/reflections/{reflection_id}", method="PATCH", status="200") == 2
    assert not any(name == "http_requests_total" and ("handler", "/metrics") in labels for name, labels in after), "scrapes are not counted"


@pytest.mark.slow
def test_ingest_is_counted_where_it_runs(served) -> None:
    """small_services ran the pipeline once: one file stored, all of its chunks."""
    client, services = served
    samples = scrape(client)
    assert value(samples, "learnloop_ingest_files_total", result="ingested") == 1
    assert value(samples, "learnloop_ingest_chunks_total") == services.catalog.counts()[1] > 0
    assert value(samples, "learnloop_ingest_files_total", result="failed") == 0
    services.pipeline.run()  # unchanged: skipped
    assert value(scrape(client), "learnloop_ingest_files_total", result="skipped") == 1


@pytest.mark.slow
def test_a_failed_slack_reply_is_counted_as_failed(served, standin) -> None:
    client, _ = served
    before = scrape(client)
    standin.fail_next["chat.postMessage"] = "internal_error"
    assert send_event(client, unique(fixture("events/app_mention.json"), "<@W111> What do leaders need?")).status_code == 200
    standin.wait_for("chat.postMessage")  # the apology, after the failed answer
    after = wait_for_value(client, "learnloop_slack_events_failed_total", value(before, "learnloop_slack_events_failed_total") + 1)
    assert value(after, "learnloop_slack_events_failed_total") - value(before, "learnloop_slack_events_failed_total") == 1
    assert value(after, "learnloop_slack_events_handled_total") == value(before, "learnloop_slack_events_handled_total")


@pytest.mark.slow
def test_two_apps_on_one_services_share_its_counters_but_not_http_metrics(served) -> None:
    first, services = served
    with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as second:
        before_first, before_second = scrape(first), scrape(second)
        assert second.post("/ask", json={"question": "What makes collaboration work?"}).status_code == 200
        after_first, after_second = scrape(first), scrape(second)

    def asked(before: Samples, after: Samples) -> float:
        return sum(value(after, "learnloop_answers_total", outcome=o, surface="api") - value(before, "learnloop_answers_total", outcome=o, surface="api") for o in ("answer", "related", "abstain"))

    assert asked(before_first, after_first) == asked(before_second, after_second) == 1
    ask_requests = {"handler": "/ask", "method": "POST", "status": "200"}
    assert value(after_second, "http_requests_total", **ask_requests) - value(before_second, "http_requests_total", **ask_requests) == 1
    assert value(after_first, "http_requests_total", **ask_requests) == value(before_first, "http_requests_total", **ask_requests)


def test_label_values_never_come_from_callers() -> None:
    """Slack kinds and answer surfaces outside the known sets share one 'other' series."""
    metrics = Metrics()
    metrics.slack_request({"type": "x" * 500})
    metrics.slack_request({"command": "/ask", "type": "ignored"})
    metrics.answered("abstain", "telegram")
    samples = {(s.name, frozenset(s.labels.items())): s.value for f in metrics.registry.collect() for s in f.samples}
    assert value(samples, "learnloop_slack_events_received_total", kind="other") == 1
    assert value(samples, "learnloop_slack_events_received_total", kind="command") == 1
    assert value(samples, "learnloop_answers_total", outcome="abstain", surface="other") == 1
    assert not any("x" * 20 in str(labels) or "telegram" in str(labels) for _, labels in samples)


@pytest.mark.postgres
def test_the_ingest_queue_is_read_at_each_scrape(tmp_path: Path) -> None:
    """Workers are other processes: the queue is shown as it stands in the shared database."""
    with throwaway_database("postgresql", tmp_path) as url:
        services = small_services(tmp_path, url)
        assert "learnloop_queue_jobs" not in {f.name for f in services.metrics.registry.collect()}, "no queue set up yet"
        prepare_queue(services.catalog.engine)
        assert enqueue(queue_app(queue_conninfo(url)), ["reports/a.md", "reports/b.md"]).queued == 2
        samples = {(s.name, frozenset(s.labels.items())): s.value for f in services.metrics.registry.collect() for s in f.samples}
        assert value(samples, "learnloop_queue_jobs", status="todo") == 2
        assert value(samples, "learnloop_queue_jobs", status="doing") == value(samples, "learnloop_queue_jobs", status="failed") == 0
        services.catalog.engine.dispose()


def test_no_queue_gauge_on_sqlite(tmp_path: Path) -> None:
    services = small_services(tmp_path, f"sqlite:///{tmp_path / 'q.db'}")
    assert "learnloop_queue_jobs" not in {f.name for f in services.metrics.registry.collect()}
    services.catalog.engine.dispose()
