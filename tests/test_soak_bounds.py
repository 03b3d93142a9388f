"""What the soak (bench/soak.py) found and bounded: gap re-checks embed each open question once and keep
a bounded number of vectors; a served process gives torch the threads it is told and keeps large
freed blocks out of its heap, so RSS does not grow with the number of request threads."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from sqlmodel import Session

from bot import gaps
from bot.gaps import GapFinder
from bot.records import QueryLog
from bot.serving import SERVING_ARENAS
from bot.settings import Settings
from index.vectors import VectorIndex
from tests.conftest import REPO, FakeEmbedder, small_services


def test_gap_vectors_embed_each_question_once_in_slices_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gaps, "VECTORS_KEPT", 40)
    embedder = FakeEmbedder()
    finder = GapFinder(engine=None, embedder=embedder)  # vectors() never reads the database

    first = finder.vectors(["care rates", "board review", "care rates"])
    assert (embedder.calls, embedder.texts) == (1, 2)
    assert (first[0] == first[2]).all() and not (first[0] == first[1]).all()

    finder.vectors(["board review", "care rates"])
    assert (embedder.calls, embedder.texts) == (1, 2)  # kept from the first call

    many = [f"question number {i}" for i in range(70)]
    assert len(finder.vectors(many)) == 70
    assert (embedder.calls, embedder.texts) == (1 + 3, 2 + 70)  # 32 + 32 + 6: a query waits for one slice at most
    assert len(finder._vectors) == 40  # the least recently used went first
    finder.vectors(["care rates"])
    assert embedder.texts == 73  # evicted, so embedded again


def test_gaps_seen_again_are_not_embedded_again(tmp_path: Path) -> None:
    services = small_services(tmp_path, f"sqlite:///{tmp_path / 'gaps.db'}")
    embedder = services.gaps.embedder
    with Session(services.catalog.engine) as session:
        for i in range(30):
            session.add(QueryLog(id=f"q{i}", question=f"What is the hourly rate for home care in area {i % 3}?", answered=False, abstained=True, latency_ms=1))
        session.commit()
    before = embedder.texts
    assert sum(group.count for group in services.gaps.gaps()) == 30
    assert embedder.texts - before == 3  # three distinct wordings
    services.gaps.gaps()
    assert embedder.texts - before == 3
    services.catalog.engine.dispose()


def test_embed_threads_setting_is_bounded() -> None:
    assert Settings(serve_embed_threads=2).serve_embed_threads == 2
    with pytest.raises(ValidationError):
        Settings(serve_embed_threads=0)


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_serving_gives_torch_the_threads_it_is_told() -> None:
    assert _run("""
        import torch
        from bot.serving import tune_for_serving
        tune_for_serving(3)
        print(torch.get_num_threads())
    """) == "3"


_ARENAS_AFTER_16_THREADS = """
    import ctypes, os, sys, threading
    from bot.serving import limit_arenas
    print(limit_arenas() if sys.argv[1:] == ["limit"] else "unlimited")
    barrier = threading.Barrier(16)

    def allocate():
        held = [bytes(200) for _ in range(2000)]  # small blocks, from the thread's arena
        barrier.wait()

    threads = [threading.Thread(target=allocate) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sys.stderr.flush()
    ctypes.CDLL(None).malloc_stats()  # one "Arena n:" block an arena, on stderr
"""


def _arenas(*args: str, env: dict | None = None) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_ARENAS_AFTER_16_THREADS), *args], cwd=REPO, capture_output=True, text=True, timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr.count("Arena ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and malloc_stats")
def test_serving_shares_two_heap_arenas_among_all_threads_unless_the_operator_chose() -> None:
    """Sixteen threads holding small blocks at once: glibc gives them up to eight arenas a core, each
    keeping its high-water mark; a served process limits them to two."""
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    assert _arenas(env=env)[1] > SERVING_ARENAS
    assert _arenas("limit", env=env) == ("True", SERVING_ARENAS)
    assert _arenas("limit", env=env | {"MALLOC_ARENA_MAX": "3"}) == ("False", 3)
    assert _arenas("limit", env=env | {"GLIBC_TUNABLES": "glibc.malloc.arena_max=3"}) == ("False", 3)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and /proc/self/statm")
def test_large_blocks_freed_by_many_threads_leave_rss_where_it_was() -> None:
    """Eight threads each hold a 9 MB array at once (a search's late-interaction temporaries), then free it, ten times.

    With glibc's sliding threshold each thread's arena keeps its 9 MB after the first round; with the
    threshold fixed the blocks are mapped and returned.
    """
    growth_mb = _run("""
        import os, threading
        import numpy as np
        from bot.serving import fix_mmap_threshold

        assert fix_mmap_threshold()
        rss = lambda: int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        barrier = threading.Barrier(8)

        def hold():
            for _ in range(10):
                block = np.ones(9 * 2**20 // 8)
                barrier.wait()
                del block
                barrier.wait()

        start = rss()
        threads = [threading.Thread(target=hold) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(round(rss() - start))
    """)
    assert int(growth_mb) < 20


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_request_threads_searching_at_once_start_no_openmp_threads_of_their_own() -> None:
    """OpenMP's thread count is per calling thread: set in the main thread only, each request thread
    that searched got a FAISS team of two, its extra thread kept for good."""
    index = VectorIndex.build(list(range(2000)), np.random.default_rng(0).random((2000, 16), dtype=np.float32))
    before = _os_threads()
    searched = threading.Barrier(11)

    def search() -> None:
        index.search(np.ones(16, dtype=np.float32), 5)
        index.similarities(np.ones(16, dtype=np.float32), [1, 2])
        searched.wait(30)
        searched.wait(30)

    callers = [threading.Thread(target=search) for _ in range(10)]
    for caller in callers:
        caller.start()
    searched.wait(30)  # every caller has searched and is still alive
    alive = _os_threads() - before
    searched.wait(30)
    for caller in callers:
        caller.join()
    assert alive <= 10, alive
