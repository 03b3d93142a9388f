"""Coalescing background work: one worker thread; requests made while it runs ask for one more run."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Coalescing:
    """Run `work` off the caller's thread, at most once at a time, and once more after a burst of
    requests: fifty requests during a run cost one extra run, not fifty. No request is lost.

    Work in a thread competes with the request threads: for the GIL, and on a 2-core machine with
    torch's own threads, so a query embedding that overlaps it can take four times as long. Two
    knobs keep that rare: each run waits `settle` seconds first, so the requests of a burst share
    one run; and while requests keep coming, a run of t seconds is followed by a rest of
    t * (1/duty - 1), so at most `duty` of the time goes to the work.
    """

    def __init__(self, work: Callable[[], object], name: str, settle: float = 0.0, duty: float = 1.0) -> None:
        self._work = work
        self._name = name
        self._settle = settle
        self._rest_factor = 1.0 / duty - 1.0
        self._lock = threading.Lock()
        self._pending = False
        self._running = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        with self._lock:
            self._pending = True
            if self._running:
                return
            self._running = True
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            if self._settle:
                time.sleep(self._settle)
            with self._lock:
                if not self._pending:
                    self._running = False
                    return
                self._pending = False
            started = time.perf_counter()
            try:
                self._work()
            except Exception:  # a background worker must survive one failed run; the cause is logged
                log.exception("background %s failed", self._name)
            with self._lock:
                more = self._pending
            if more and self._rest_factor:
                time.sleep((time.perf_counter() - started) * self._rest_factor)

    def wait(self, timeout: float = 30.0) -> None:
        """Block until no run is pending or running (tests and benchmarks)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
