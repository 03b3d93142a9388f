"""Faults: a PostgreSQL restart under a serving replica (503 with Retry-After, then recovery without a
restart, background work retried, Slack users told to try again), and index files that a failed
save (a full disk) leaves exactly as they were."""

from __future__ import annotations

import errno
import logging
import threading
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError

import index.atomic
import index.background
from bot.http.app import create_app
from bot.services import Services
from index import Searcher
from index.background import Coalescing
from index.records import ChunkDraft, DocumentDraft
from ingest import encodings_of
from tests.conftest import FakeEmbedder, LiveServer, small_services
from tests.pg_cluster import OwnCluster, wait_until
from tests.slack_standin import SlackStandIn
from tests.test_slack import SECRET, fixture, send_event, unique

REFLECTION = {"what_happened": "We met the providers monthly instead of asking for returns.", "what_we_learned": "Problems surfaced early once talk was not tied to payment."}
# Every endpoint that needs the database, as (name, call) pairs.
CALLS = {
    "healthz": lambda c: c.get("/healthz"),
    "search": lambda c: c.get("/search", params={"q": "collaboration"}),
    "ask": lambda c: c.post("/ask", json={"question": "What helps organisations collaborate?"}),
    "reflections": lambda c: c.get("/reflections"),
    "share": lambda c: c.post("/reflections", json=REFLECTION),
    "documents": lambda c: c.get("/documents"),
    "gaps": lambda c: c.get("/gaps"),
}


@pytest.mark.slow
@pytest.mark.postgres
def test_a_replica_answers_503_while_its_database_restarts_and_recovers_by_itself(tmp_path: Path) -> None:
    stand_in = SlackStandIn()
    with OwnCluster() as cluster, LiveServer(stand_in.app) as slack_api:
        slack = {"slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET), "slack_api_url": f"{slack_api.url}/api/"}
        services = small_services(tmp_path, cluster.create_database("learnloop"), **slack)
        attempts: list[bool] = []
        recovered = threading.Event()

        def count_chunks() -> None:
            try:
                services.catalog.counts()
            except OperationalError:
                attempts.append(False)
                raise
            attempts.append(True)
            recovered.set()

        background = Coalescing(count_chunks, "outage-probe")
        with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            assert {name: call(client).status_code for name, call in CALLS.items()} == {name: 201 if name == "share" else 200 for name in CALLS}

            cluster.stop()
            during = {name: call(client) for name, call in CALLS.items()}
            assert {name: r.status_code for name, r in during.items()} == dict.fromkeys(CALLS, 503)
            assert all(r.headers["retry-after"] == "5" and "try again" in r.json()["detail"] for r in during.values())

            background.request()  # background work asked for during the outage is retried, not lost
            wait_until(lambda: attempts.count(False) >= 2, timeout=10, what="background retries")
            event = unique(fixture("events/app_mention.json"), "<@W111> What helps organisations collaborate?")
            assert send_event(client, event).status_code == 200
            (apology,) = stand_in.wait_for("chat.postMessage")
            assert apology["thread_ts"] == event["event"]["ts"] and apology["text"] == services.prompts.text("slack", "error")

            cluster.start()
            wait_until(lambda: client.get("/healthz").status_code == 200, timeout=30, what="recovery")
            after = {name: call(client).status_code for name, call in CALLS.items()}
            assert after == {name: 201 if name == "share" else 200 for name in CALLS}
            assert recovered.wait(timeout=40) and attempts[-1] is True
            assert len(client.get("/reflections").json()) == 2  # one shared before the outage, one after; none during
        services.catalog.engine.dispose()


def test_background_work_retries_a_database_outage_and_drops_other_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.background, "OUTAGE_BACKOFF_FIRST_S", 0.01)
    outage = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    outcomes: list[Exception | None] = [outage, outage, None]
    done = threading.Event()

    def flaky() -> None:
        failure = outcomes.pop(0)
        if failure is not None:
            raise failure
        done.set()

    Coalescing(flaky, "flaky").request()
    assert done.wait(timeout=10) and outcomes == []

    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug, not an outage")

    worker = Coalescing(broken, "broken")
    worker.request()
    worker.wait(10)
    assert calls == [1]


def test_background_work_gives_up_on_an_outage_that_lasts(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(index.background, "OUTAGE_BACKOFF_FIRST_S", 0.01)
    monkeypatch.setattr(index.background, "OUTAGE_GIVE_UP_S", 0.2)
    tries: list[float] = []

    def database_gone() -> None:
        tries.append(time.monotonic())
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    worker = Coalescing(database_gone, "gone")
    with caplog.at_level(logging.WARNING, logger="index.background"):
        worker.request()
        worker.wait(10)
    assert "gone" not in {t.name for t in threading.enumerate()}  # the thread ended: no retrying for ever
    assert len(tries) >= 3 and tries[-1] - tries[0] > 0.2 and "this run is dropped" in caplog.text


def test_a_database_s_workers_are_closed_by_name_and_stop_retrying_at_once(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(index.background, "OUTAGE_BACKOFF_FIRST_S", 30.0)  # a close must cut this wait short
    tries: list[int] = []
    retrying = threading.Event()

    def database_gone() -> None:
        tries.append(1)
        retrying.set()
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    worker = Coalescing(database_gone, "closing", database="dropped_db")
    ran = threading.Event()
    bystander = Coalescing(ran.set, "bystander", database="other_db")
    with caplog.at_level(logging.WARNING, logger="index.background"):
        worker.request()
        assert retrying.wait(10)  # now backing off from an outage that would last past OUTAGE_GIVE_UP_S
        closed_at = time.monotonic()
        index.background.close_workers_of("dropped_db")
        worker.wait(10)
        assert time.monotonic() - closed_at < 10 and "closing" not in {t.name for t in threading.enumerate()}
        worker.request()
        worker.wait(10)
    assert tries == [1] and "this run is dropped" not in caplog.text
    bystander.request()  # another database's worker still runs
    assert ran.wait(10)


def _add_document(services: Services, name: str) -> None:
    """Store one more document directly, so the in-memory index differs from the saved one."""
    text = f"{name} passage about dashboards"
    draft = DocumentDraft(source=f"{name}.md", content_hash=name, title=name, source_type="report")
    chunk = ChunkDraft(ordinal=0, text=text, section="", page_start=None, page_end=None, char_start=0, char_end=len(text), content_hash=f"{name}-0")
    services.catalog.replace_document(draft, [chunk], encodings_of(FakeEmbedder().encode([text])))


def test_a_full_disk_on_index_save_keeps_the_old_index_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    services = small_services(tmp_path, f"sqlite:///{tmp_path / 'learnloop.db'}")
    folder = services.searcher.cache_dir
    assert services.searcher.save_cache()
    saved = _files(folder)
    assert {"vectors.faiss", "vectors.json", "bm25.json"} <= set(saved)  # beside the token file and BM25 tier written at start-up

    _add_document(services, "zanzibar")
    services.searcher.sync()
    writes: list[int] = []

    def disk_fills_up(fd: int, data: bytes) -> None:
        writes.append(len(data))
        if len(writes) > 1:  # the first piece is written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(fd, data)

    real_write = index.atomic._write_all
    monkeypatch.setattr(index.atomic, "_write_all", disk_fills_up)
    with caplog.at_level(logging.ERROR, logger="index.search"):
        assert services.searcher.save_cache() is False
    assert "No space left on device" in caplog.text and "previous index file is kept" in caplog.text
    assert _files(folder) == saved  # byte-identical, and no temporary file left
    assert services.searcher.search("zanzibar dashboards", k=1)[0].title == "zanzibar"  # still serving from memory

    monkeypatch.setattr(index.atomic, "_write_all", real_write)
    assert services.searcher.save_cache()
    assert (folder / "vectors.faiss").read_bytes() != saved["vectors.faiss"] and sorted(_files(folder)) == sorted(saved)
    fresh = Searcher(services.catalog, services.embedder, cache_dir=folder)
    fresh.sync()
    assert fresh.search("zanzibar dashboards", k=1)[0].title == "zanzibar"
    services.catalog.engine.dispose()


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (the BM25 tier is a directory of its own) by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "index.bin"
    index.atomic.write_bytes_atomically(target, b"old contents")

    def half_then_crash(sink) -> None:  # noqa: ANN001 - the atomic writer's sink
        sink(b"new con")
        raise KeyboardInterrupt  # any interruption, not only OSError

    with pytest.raises(KeyboardInterrupt):
        index.atomic.write_atomically(target, half_then_crash)
    assert target.read_bytes() == b"old contents" and [p.name for p in tmp_path.iterdir()] == ["index.bin"]
