"""Query latency in process and over HTTP, with a dense-only search as the in-run baseline."""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.common import questions, timed
from bot.http.app import create_app
from bot.services import build_services
from bot.settings import Settings
from index import SearchFilters
from tests.conftest import LiveServer

REPO = Path(__file__).resolve().parent.parent


def run() -> dict:
    asked = questions()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(REPO / "corpus", Path(tmp) / "corpus")
        settings = Settings(home=Path(tmp) / "var", corpus=Path(tmp) / "corpus")
        services = build_services(settings)
        services.pipeline.run()
        services.searcher.sync()
        for q in asked[:5]:
            services.searcher.search(q, 5)
        services.searcher._keywords.wait_until_merged()
        dense, hybrid = [], []
        for q in asked * 3:  # alternated, so drift in the machine's speed hits both alike
            dense.append(timed(lambda q=q: services.searcher.rank(q, 5, SearchFilters(), mode="dense")))
            hybrid.append(timed(lambda q=q: services.searcher.search(q, 5)))
        answer = [timed(lambda q=q: services.answers.answer(q, surface="bench")) for q in asked * 2]  # as often as over HTTP
        with LiveServer(create_app(settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            for q in asked[:5]:
                client.get("/search", params={"q": q})
            http_search, http_ask = [], []
            for q in asked * 2:
                http_search.append(timed(lambda q=q: client.get("/search", params={"q": q, "k": 5}).raise_for_status()))
                http_ask.append(timed(lambda q=q: client.post("/ask", json={"question": q}).raise_for_status()))
    med = lambda values: round(statistics.median(values), 2)  # noqa: E731
    return {
        "queries": len(asked),
        "dense_only_search_ms_p50": med(dense),
        "hybrid_search_ms_p50": med(hybrid),
        "hybrid_vs_dense_ratio": round(med(hybrid) / med(dense), 2),
        "answer_in_process_ms_p50": med(answer),
        "http_search_ms_p50": med(http_search),
        "http_ask_ms_p50": med(http_ask),
        "http_search_vs_in_process_ratio": round(med(http_search) / med(hybrid), 2),
        "http_ask_vs_in_process_ratio": round(med(http_ask) / med(answer), 2),
    }
