"""Stress over real HTTP: reflections posted, published, unpublished and erased while others search
and ask with every filter, on SQLite and PostgreSQL. No 5xx, nothing lost, nothing erased lingers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bot.http.app import create_app
from bot.services import Services
from tests.conftest import LiveServer, small_services

pytestmark = pytest.mark.slow

WRITERS = 3
ROUNDS = 18  # per writer: a POST and a PATCH each, a reject and re-publish every 4th, a DELETE every 3rd
READERS = 8
READS = 40  # per reader, half searches and half questions


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Services:
    """Review on, so a PATCH publishes; no API keys (open), so the test does not depend on scopes."""
    return small_services(tmp_path, database_url, review=True)


@pytest.fixture
def server(services: Services) -> Iterator[LiveServer]:
    with LiveServer(create_app(services.settings, services)) as live:
        yield live


class Calls:
    """Every response's status, from all threads, so the test can insist none was a 5xx."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failures: list[str] = []
        self.count = 0

    def check(self, response: httpx.Response, *expected: int) -> httpx.Response:
        with self._lock:
            self.count += 1
            if response.status_code not in expected:
                self.failures.append(
                    f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text[:200]}"
                )
        return response


def lesson(codeword: str) -> dict:
    return {
        "what_happened": f"The {codeword} team met commissioners every week about housing and collaboration.",
        "what_we_learned": f"Working across boundaries in {codeword} needed shared outcomes and trust.",
        "tags": ["stress"],
        "team": "Outreach",
    }


def test_no_5xx_and_nothing_lost_under_concurrent_writes_and_reads(server: LiveServer, services: Services) -> None:
    calls = Calls()
    kept: dict[str, str] = {}  # reflection id -> codeword
    erased: dict[str, str] = {}
    recorded = threading.Lock()
    report_id = services.catalog.list_documents(source_type="report")[0].id

    def write(writer: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            mine: list[str] = []
            for n in range(ROUNDS):
                codeword = f"zq{writer}x{n:02d}"  # fixed width: no codeword is part of another
                created = calls.check(client.post("/reflections", json=lesson(codeword)), 201)
                if created.status_code != 201:
                    continue
                reflection_id = created.json()["id"]
                with recorded:
                    kept[reflection_id] = codeword
                mine.append(reflection_id)
                if n % 4 == 1:  # unpublish, then publish again: chunks leave and come back
                    calls.check(client.patch(f"/reflections/{reflection_id}", json={"status": "rejected"}), 200)
                calls.check(client.patch(f"/reflections/{reflection_id}", json={"status": "published"}), 200)
                if n % 3 == 2:
                    gone = mine.pop(0)
                    if calls.check(client.delete(f"/reflections/{gone}"), 204).status_code == 204:
                        with recorded:
                            erased[gone] = kept.pop(gone)

    def read(reader: int) -> None:
        filters = [
            {"source_type": "reflection"},
            {"source_type": "report"},
            {"document_id": report_id},
            {"tag": "stress"},
            {"year_from": 2020},
            {"year_to": 2016},
            {"source_type": "reflection", "tag": "stress", "year_from": 2000, "year_to": 2200},
        ]
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for n in range(READS):
                chosen = filters[(reader + n) % len(filters)]
                query = f"collaboration outcomes trust zq{n % WRITERS}x{n % ROUNDS:02d}"
                if n % 2:
                    calls.check(client.post("/ask", json={"question": f"What helped {query}?", "filters": chosen}), 200)
                    continue
                found = calls.check(client.get("/search", params={"q": query, "k": 8, **chosen}), 200)
                hits = found.json()["hits"] if found.status_code == 200 else []
                assert all(admits(chosen, hit) for hit in hits), (chosen, hits)

    with ThreadPoolExecutor(max_workers=WRITERS + READERS) as pool:
        futures = [pool.submit(write, w) for w in range(WRITERS)] + [pool.submit(read, r) for r in range(READERS)]
        for future in futures:
            future.result()

    assert calls.failures == []
    assert calls.count >= WRITERS * ROUNDS * 2 + READERS * READS
    assert len(kept) + len(erased) == WRITERS * ROUNDS and erased
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for reflection_id, codeword in kept.items():
            stored = client.get(f"/reflections/{reflection_id}")
            assert stored.status_code == 200 and stored.json()["status"] == "published", codeword
            assert stored.json()["document_id"] in found_documents(client, codeword), codeword
        for reflection_id, codeword in erased.items():
            assert client.get(f"/reflections/{reflection_id}").status_code == 404, codeword
            assert found_documents(client, codeword) == set(), codeword


def found_documents(client: httpx.Client, codeword: str) -> set[int]:
    """Documents of the reflection hits whose text holds `codeword`."""
    hits = client.get("/search", params={"q": codeword, "k": 5, "source_type": "reflection"}).json()["hits"]
    return {hit["document_id"] for hit in hits if codeword in hit["text"]}


def admits(filters: dict, hit: dict) -> bool:
    """Whether a hit satisfies the filters it was searched with (tags are not on a hit)."""
    year = hit["year"]
    return (
        filters.get("source_type", hit["source_type"]) == hit["source_type"]
        and filters.get("document_id", hit["document_id"]) == hit["document_id"]
        and ("year_from" not in filters or (year is not None and year >= filters["year_from"]))
        and ("year_to" not in filters or (year is not None and year <= filters["year_to"]))
    )
