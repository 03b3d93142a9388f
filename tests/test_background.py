"""Coalescing background work (BM25 rebuilds, gap re-checks)."""

import threading
import time

from index.background import Coalescing


def test_coalescing_runs_once_more_after_a_burst_and_loses_no_request() -> None:
    runs: list[int] = []
    gate = threading.Event()

    def work() -> None:
        runs.append(len(runs))
        gate.wait(2)

    worker = Coalescing(work, "test")
    worker.request()
    time.sleep(0.05)
    for _ in range(50):
        worker.request()
    gate.set()
    worker.wait(5)
    assert len(runs) == 2
    worker.request()
    worker.wait(5)
    assert len(runs) == 3


def test_a_duty_below_one_rests_between_runs_while_requests_keep_coming() -> None:
    starts: list[float] = []
    ends: list[float] = []

    def work() -> None:
        starts.append(time.perf_counter())
        time.sleep(0.1)
        ends.append(time.perf_counter())

    worker = Coalescing(work, "test", duty=0.5)
    worker.request()
    time.sleep(0.02)
    worker.request()
    worker.wait(5)
    assert len(starts) == 2
    assert starts[1] - ends[0] >= 0.09  # rested about as long as it worked


def test_requests_made_while_it_settles_share_one_run() -> None:
    runs: list[float] = []
    worker = Coalescing(lambda: runs.append(time.perf_counter()), "test", settle=0.2)
    started = time.perf_counter()
    for _ in range(10):
        worker.request()
        time.sleep(0.01)
    worker.wait(5)
    assert len(runs) == 1 and runs[0] - started >= 0.2
