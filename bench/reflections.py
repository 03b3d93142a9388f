"""POST /reflections latency (searchable on return): bundled corpus, then with 10,000 reflections stored."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlmodel import Session

from bench.common import timed
from bot.http.app import create_app
from bot.records import Reflection
from bot.services import Services, build_services
from bot.settings import Settings
from index.records import contextual_text
from ingest import encodings_of
from tests.conftest import LiveServer

REPO = Path(__file__).resolve().parent.parent
POSTS = 40
STORED = 10_000


def lesson(i: int) -> dict:
    return {
        "what_happened": f"Team {i % 37} tried a weekly learning huddle with providers in area {i % 101}.",
        "what_we_learned": f"Huddle number {i} showed that trust grows when failures are shared early; codeword bx{i}q.",
        "tags": ["learning", f"area-{i % 11}"],
        "team": f"Team {i % 37}",
        "place": "Somewhere",
    }


def post_p50(client: httpx.Client, offset: int) -> tuple[float, bool]:
    times, found = [], True
    for i in range(offset, offset + POSTS):
        times.append(timed(lambda i=i: client.post("/reflections", json=lesson(i)).raise_for_status()))
        hits = client.get("/search", params={"q": f"bx{i}q", "source_type": "reflection", "k": 3}).json()["hits"]
        found = found and any(f"bx{i}q" in h["text"] for h in hits)
    return round(statistics.median(times), 2), found


def preload(services: Services, count: int) -> float:
    """Store `count` published reflections through the service's own drafting, embedding in one batch."""
    start = time.perf_counter()
    rows = [Reflection(**lesson(100_000 + i)) for i in range(count)]
    with Session(services.catalog.engine) as session:
        session.add_all(rows)
        session.commit()
        for row in rows:
            session.refresh(row)
    drafts = [services.reflections.draft(row) for row in rows]
    texts = [contextual_text(doc.title, c.section, c.text) for doc, chunks in drafts for c in chunks]
    encodings = iter(encodings_of(services.embedder.encode(texts)))
    for document, chunks in drafts:
        services.catalog.replace_document(document, chunks, [next(encodings) for _ in chunks])
    services.searcher.sync()
    services.searcher._keywords.wait_until_merged()
    return round(time.perf_counter() - start, 1)


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(REPO / "corpus", Path(tmp) / "corpus")
        settings = Settings(home=Path(tmp) / "var", corpus=Path(tmp) / "corpus")
        services = build_services(settings)
        services.pipeline.run()
        with LiveServer(create_app(settings, services)) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            small, small_found = post_p50(client, 0)
            preload_s = preload(services, STORED)
            large, large_found = post_p50(client, 1000)
    return {
        "post_ms_p50_bundled_corpus": small,
        "post_ms_p50_with_10k_reflections": large,
        "ratio_10k_vs_bundled": round(large / small, 2),
        "all_searchable_on_return": small_found and large_found,
        "preload_10k_s": preload_s,
    }
