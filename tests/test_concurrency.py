"""Searches read one consistent snapshot while reflections are published and erased beside them."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bot.reflection_models import ReflectionCreate
from bot.services import Services
from index import SearchFilters
from index.keyword import KeywordIndex
from index.terms import text_term_ids
from ingest import REFLECTION_SOURCE_PREFIX
from tests.conftest import small_services

WRITERS = 3
READERS = 9
REFLECTIONS_PER_WRITER = 30
SEARCHES_PER_READER = 60
CODEWORD = re.compile(r"\bzq\d+x\d+\b")


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Services:
    return small_services(tmp_path, database_url)


@pytest.fixture
def busy_interpreter() -> Iterator[None]:
    """Switch threads often, so readers and writers interleave within each other's steps."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


def lesson(codeword: str) -> ReflectionCreate:
    return ReflectionCreate(
        what_happened=f"The {codeword} team met commissioners every week about housing and collaboration.",
        what_we_learned=f"Working across boundaries in {codeword} needed shared outcomes and trust.",
        tags=["stress"],
        team="Outreach",
    )


def test_searches_never_see_half_applied_changes(services: Services, busy_interpreter: None) -> None:
    codewords: dict[str, str] = {}  # reflection id -> its codeword, recorded once its POST returned
    recorded = threading.Lock()

    def write(writer: int) -> None:
        mine: list[str] = []
        for n in range(REFLECTIONS_PER_WRITER):
            codeword = f"zq{writer}x{n}"
            reflection = services.reflections.create(lesson(codeword))
            with recorded:
                codewords[reflection.id] = codeword
            mine.append(reflection.id)
            if n % 2:
                assert services.reflections.delete(mine.pop(0))

    def read(reader: int) -> int:
        filters = (
            SearchFilters(source_type="reflection"),
            SearchFilters(source_type="report"),
            SearchFilters(source_type="reflection", tag="stress"),
        )
        checked = 0
        for n in range(SEARCHES_PER_READER):
            wanted = filters[(reader + n) % len(filters)]
            for hit in services.searcher.search(f"collaboration outcomes trust zq{n % WRITERS}x{n % REFLECTIONS_PER_WRITER}", 8, wanted):
                assert hit.source_type == wanted.source_type and hit.similarity is not None
                if hit.source_type == "reflection":  # title and text come from one reflection
                    assert CODEWORD.findall(hit.title) == CODEWORD.findall(hit.text)[:1]
                checked += 1
        return checked

    with ThreadPoolExecutor(max_workers=WRITERS + READERS) as pool:
        writes = [pool.submit(write, w) for w in range(WRITERS)]
        reads = [pool.submit(read, r) for r in range(READERS)]
        for future in writes:
            future.result()
        assert sum(future.result() for future in reads) > 0

    kept = {i: c for i, c in codewords.items() if services.reflections.get(i) is not None}
    assert len(kept) == WRITERS * REFLECTIONS_PER_WRITER // 2
    for reflection_id, codeword in codewords.items():
        hits = services.searcher.search(codeword, 3, SearchFilters(source_type="reflection"))
        found = any(h.source == f"{REFLECTION_SOURCE_PREFIX}{reflection_id}" for h in hits)
        assert found == (reflection_id in kept), codeword


def test_a_reused_chunk_id_is_found_by_its_new_text_only_before_and_after_the_merge() -> None:
    texts = {1: "Salami slicing cuts every budget alike.", 2: "Peer mentors helped rough sleepers."}
    index = KeywordIndex(lambda ids: [(int(i), text_term_ids([texts[int(i)]])[0]) for i in ids if int(i) in texts], lambda: np.array(sorted(texts)), background=True)
    index.start(np.array([1, 2]))
    index.update({}, [1])
    texts[1] = "Total Place pilots in Gateshead."  # the catalog never does this; the index copes if it does
    index.update({1: texts[1]}, [])
    for _ in ("before the merge", "after the merge"):
        assert index.search("salami slicing budget", 5) == []
        assert [i for i, _ in index.search("Gateshead Total Place", 5)] == [1]
        index.wait_until_merged()
