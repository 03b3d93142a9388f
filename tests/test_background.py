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
