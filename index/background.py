"""Coalescing background work: one worker thread; requests made while it runs ask for one more run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Coalescing:
    """Run `work` off the caller's thread, at most once at a time, and once more after a burst of
    requests: fifty requests during a run cost one extra run, not fifty. No request is lost."""

    def __init__(self, work: Callable[[], object], name: str) -> None:
        self._work = work
        self._name = name
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
            with self._lock:
                if not self._pending:
                    self._running = False
                    return
                self._pending = False
            try:
                self._work()
            except Exception:  # a background worker must survive one failed run; the cause is logged
                log.exception("background %s failed", self._name)

    def wait(self, timeout: float = 30.0) -> None:
        """Block until no run is pending or running (tests and benchmarks)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
