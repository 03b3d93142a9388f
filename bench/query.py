"""Search and answer latency, in process and over HTTP; every figure is paired with its baseline.

Answers are timed twice: cold, with every answer cache cleared before each call (as for passages
never seen before), and warm, after every question has been answered once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from bench.common import alternate, clear_caches, compare, fresh_services, questions
from bot.http.app import create_app
from index import SearchFilters
from tests.conftest import LiveServer


def run(quick: bool) -> dict:
    asked = questions()[: 8 if quick else None]
    inputs = asked * (1 if quick else 3)
    with tempfile.TemporaryDirectory() as tmp:
        services = fresh_services(Path(tmp))
        searcher = services.searcher
        for q in asked[:5]:  # warm-up
            searcher.search(q, 5)

        def rank(mode: str):
            return lambda q: searcher.rank(q, 5, SearchFilters(), mode=mode)

        def answer(q: str) -> object:
            return services.answers.answer(q, surface="bench")

        result = {
            "questions": len(asked),
            "hybrid_vs_dense_only": compare(*alternate(rank("hybrid"), rank("dense"), inputs)),
            "hybrid_vs_without_late_interaction": compare(*alternate(rank("hybrid"), rank("dense+keyword"), inputs)),
        }
        with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=30) as client:

            def http_search(q: str) -> object:
                return client.get("/search", params={"q": q, "k": 5}).raise_for_status()

            def http_ask(q: str) -> object:
                return client.post("/ask", json={"question": q}).raise_for_status()

            for q in asked[:5]:  # warm-up
                http_search(q)
            result["http_search_vs_in_process"] = compare(*alternate(http_search, lambda q: searcher.search(q, 5), inputs))
            result["http_ask_vs_in_process_cold"] = compare(*alternate(http_ask, answer, inputs, before=clear_caches))
            for q in asked:
                answer(q)
            result["http_ask_vs_in_process_warm"] = compare(*alternate(http_ask, answer, inputs))
    return result
