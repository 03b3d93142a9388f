"""Each web page against the API call that fetches the same data, over HTTP on one server, call by
call alternated (bench.common.alternate). The issue's target: every page within 1.5x of its call.

Answers are timed warm (every question answered once first), so both sides pay the same search and
composition; the pages' extra cost is rendering, which is what this measures."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.common import alternate, compare, fresh_services, questions
from bot.http.app import create_app
from bot.reflection_models import ReflectionCreate
from tests.conftest import LiveServer

TARGET = 1.5


def run(quick: bool) -> dict:
    asked = questions()[: 6 if quick else 30]
    with tempfile.TemporaryDirectory() as tmp:
        services = fresh_services(Path(tmp))
        lesson = ReflectionCreate(what_happened="We ran a quarterly learning conversation with providers.", what_we_learned="Failures surfaced early.", team="Commissioning")
        for _ in range(5):
            services.reflections.create(lesson, "api")
        chunks = [services.searcher.search(q, 1)[0].chunk_id for q in asked]
        with LiveServer(create_app(services.settings, services)) as server, httpx.Client(base_url=server.url, timeout=60) as client:

            def get(path: str) -> object:
                return client.get(path).raise_for_status()

            for q in asked:  # warm: every answer once, so page and API pay the same from here on
                get(f"/answer?q={quote(q)}")
            pairs = {
                "home_vs_reflections": (lambda _: get("/"), lambda _: get("/reflections?limit=5"), asked),
                "answer_vs_ask": (lambda q: get(f"/answer?q={quote(q)}"), lambda q: client.post("/ask", json={"question": q}).raise_for_status(), asked),
                "precedents_vs_search": (lambda q: get(f"/precedents?q={quote(q)}"), lambda q: get(f"/search?k=50&q={quote(q)}"), asked),
                "passage_vs_chunk": (lambda c: get(f"/passages/{c}"), lambda c: get(f"/chunks/{c}"), chunks),
                "learning_vs_reflections": (lambda _: get("/learning"), lambda _: get("/reflections?limit=50"), asked),
                "knowledge_gaps_vs_gaps": (lambda _: get("/knowledge-gaps"), lambda _: get("/gaps"), asked[:10]),
                "review_vs_pending": (lambda _: get("/review"), lambda _: get("/reflections?status=pending"), asked),
            }
            result: dict = {"questions": len(asked), "target_ratio": TARGET}
            for name, (page, api, inputs) in pairs.items():
                for x in inputs[:3]:  # templates compiled, connections open
                    page(x), api(x)
                result[name] = compare(*alternate(page, api, inputs * (1 if quick else 2)))
                result[name]["within_target"] = result[name]["ratio"] <= TARGET
    return result
