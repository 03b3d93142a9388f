"""Coalescing background work (BM25 rebuilds, gap re-checks)."""

import threading
import time

from index.background import Coalescing

DEADLINE_S = 5


def test_coalescing_runs_once_more_after_a_burst_and_loses_no_request() -> None:
    runs: list[int] = []
    started = threading.Event()
    gate = threading.Event()

    def work() -> None:
        runs.append(len(runs))
        started.set()
        assert gate.wait(DEADLINE_S)

    worker = Coalescing(work, "test")
    worker.request()
    assert started.wait(DEADLINE_S)  # the first run is under way: the burst below arrives during it
    for _ in range(50):
        worker.request()
    gate.set()
    worker.wait(DEADLINE_S)
    assert len(runs) == 2
    worker.request()
    worker.wait(DEADLINE_S)
    assert len(runs) == 3


def test_a_duty_below_one_rests_between_runs_while_requests_keep_coming() -> None:
    starts: list[float] = []
    ends: list[float] = []
    first_started = threading.Event()
    second_requested = threading.Event()

    def work() -> None:
        starts.append(time.perf_counter())
        first_started.set()
        assert second_requested.wait(DEADLINE_S)  # the next request arrives while this run works
        time.sleep(0.1)  # the work itself: a run takes at least 0.1 s
        ends.append(time.perf_counter())

    worker = Coalescing(work, "test", duty=0.5)
    worker.request()
    assert first_started.wait(DEADLINE_S)
    worker.request()
    second_requested.set()
    worker.wait(DEADLINE_S)
    assert len(starts) == 2
    assert starts[1] - ends[0] >= 0.09  # rested about as long as it worked


def test_requests_made_while_it_settles_share_one_run() -> None:
    runs: list[float] = []
    worker = Coalescing(lambda: runs.append(time.perf_counter()), "test", settle=0.5)
    started = time.perf_counter()
    for _ in range(10):
        worker.request()
    burst_took = time.perf_counter() - started
    worker.wait(DEADLINE_S)
    assert burst_took < 0.5  # the burst did fit in the settle time, so it is the case this test names
    assert len(runs) == 1 and runs[0] - started >= 0.5
