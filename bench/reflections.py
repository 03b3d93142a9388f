"""POST /reflections latency (searchable on return) with 10,000 reflections stored, against the
bundled corpus alone: two servers side by side, posts alternated between them."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlmodel import Session

from bench.common import alternate, compare, fresh_services
from bot.http.app import create_app
from bot.records import Reflection
from bot.services import Services
from index.records import contextual_text
from ingest import encodings_of
from tests.conftest import LiveServer, clone_services


def lesson(i: int) -> dict:
    return {
        "what_happened": f"Team {i % 37} tried a weekly learning huddle with providers in area {i % 101}.",
        "what_we_learned": f"Huddle number {i} showed that trust grows when failures are shared early; codeword bx{i}q.",
        "tags": ["learning", f"area-{i % 11}"],
        "team": f"Team {i % 37}",
        "place": "Somewhere",
    }


def poster(client: httpx.Client) -> Callable[[int], tuple[httpx.Client, int]]:
    def post(i: int) -> tuple[httpx.Client, int]:
        client.post("/reflections", json=lesson(i)).raise_for_status()
        return client, i

    return post


def searchable(posted: tuple[httpx.Client, int]) -> bool:
    """Whether the reflection just posted is found by its codeword at once, before any background rebuild."""
    client, i = posted
    hits = client.get("/search", params={"q": f"bx{i}q", "source_type": "reflection", "k": 3}).raise_for_status().json()["hits"]
    return any(f"bx{i}q" in h["text"] for h in hits)


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


def run(quick: bool) -> dict:
    posts, stored = (6, 300) if quick else (40, 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        bundled = fresh_services(Path(tmp) / "bundled")
        large = clone_services(bundled, Path(tmp) / "large" / "var")
        preload_s = preload(large, stored)
        found: list[bool] = []
        with (
            LiveServer(create_app(bundled.settings, bundled)) as small_server, httpx.Client(base_url=small_server.url, timeout=60) as small,
            LiveServer(create_app(large.settings, large)) as large_server, httpx.Client(base_url=large_server.url, timeout=60) as big,
        ):
            times = alternate(poster(big), poster(small), range(posts), after=lambda posted: found.append(searchable(posted)))
    return {
        "stored_reflections": stored,
        "post_with_stored_vs_bundled_corpus": compare(*times),
        "all_searchable_on_return": all(found),
        "preload_s": preload_s,
    }
