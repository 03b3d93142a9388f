"""Coalescing background work: one worker thread; requests made while it runs ask for one more run."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable

from index.outage import is_database_unavailable

log = logging.getLogger(__name__)
# A run that failed because the database is down is tried again after 0.5 s, then 1, 2 ... 30 s,
# for up to five minutes of outage.
OUTAGE_BACKOFF_FIRST_S = 0.5
OUTAGE_BACKOFF_MAX_S = 30.0
OUTAGE_GIVE_UP_S = 300.0
# Every worker not yet garbage, by the database it works on, so whoever ends a database's life
# can close its workers first (the tests' fixtures drop a database while a worker may still be
# retrying against it, and its give-up error would land in a later test).
_LIVE: weakref.WeakSet[Coalescing] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def close_workers_of(database: str) -> None:
    """Close every live worker made for `database` (its name, as in the engine's URL)."""
    with _LIVE_LOCK:
        workers = [worker for worker in _LIVE if worker.database == database]
    for worker in workers:
        worker.close()


class Coalescing:
    """Run `work` off the caller's thread, at most once at a time, and once more after a burst of
    requests: fifty requests during a run cost one extra run, not fifty. No request is lost.

    Work in a thread competes with the request threads: for the GIL, and on a 2-core machine with
    torch's own threads, so a query embedding that overlaps it can take four times as long. Two
    knobs keep that rare: each run waits `settle` seconds first, so the requests of a burst share
    one run; and while requests keep coming, a run of t seconds is followed by a rest of
    t * (1/duty - 1), so at most `duty` of the time goes to the work.

    A run that fails because the database is not answering is not dropped: it is tried again with
    a growing back-off until the database is back (for up to OUTAGE_GIVE_UP_S). Any other failure
    is logged and the run dropped.
    """

    def __init__(self, work: Callable[[], object], name: str, settle: float = 0.0, duty: float = 1.0, database: str = "") -> None:
        self._work = work
        self._name = name
        self.database = database
        self._settle = settle
        self._rest_factor = 1.0 / duty - 1.0
        self._lock = threading.Lock()
        self._pending = False
        self._running = False
        self._thread: threading.Thread | None = None
        self._backoff = OUTAGE_BACKOFF_FIRST_S
        self._outage_since: float | None = None
        self._closed = threading.Event()  # set once: no more runs, and any wait ends now
        with _LIVE_LOCK:
            _LIVE.add(self)

    def close(self) -> None:
        """Run no more: requests are ignored, and a run owed (or waiting out an outage) is dropped
        at once; a run under way finishes."""
        with self._lock:
            self._closed.set()
            self._pending = False

    def request(self) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            self._pending = True
            if self._running:
                return
            self._running = True
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            if self._settle:
                self._closed.wait(self._settle)
            with self._lock:
                if not self._pending:
                    self._running = False
                    return
                self._pending = False
            started = time.perf_counter()
            outage = self._run_once()
            if outage is not None:
                self._wait_out(outage)
                continue
            self._backoff, self._outage_since = OUTAGE_BACKOFF_FIRST_S, None
            with self._lock:
                more = self._pending
            if more and self._rest_factor:
                self._closed.wait((time.perf_counter() - started) * self._rest_factor)

    def _run_once(self) -> Exception | None:
        """Run the work; the error when it failed because the database is not answering, else None."""
        try:
            self._work()
        except Exception as error:  # a background worker must survive a failed run; the cause is logged
            if is_database_unavailable(error):
                return error
            log.exception("background %s failed", self._name)
        return None

    def _wait_out(self, outage: Exception) -> None:
        """Owe the failed run again after a growing back-off; once the database has been away for
        OUTAGE_GIVE_UP_S, drop it instead (the next request starts afresh), so no thread retries for ever."""
        if self._closed.is_set():
            return
        now = time.monotonic()
        self._outage_since = self._outage_since or now
        if now - self._outage_since > OUTAGE_GIVE_UP_S:
            log.error("background %s: the database has not answered for %.0f s; this run is dropped", self._name, now - self._outage_since)
            self._backoff, self._outage_since = OUTAGE_BACKOFF_FIRST_S, None
            return
        log.warning("background %s: the database is not answering (%s); retrying in %.1f s", self._name, outage, self._backoff)
        with self._lock:
            self._pending = not self._closed.is_set()
        self._closed.wait(self._backoff)
        self._backoff = min(self._backoff * 2, OUTAGE_BACKOFF_MAX_S)

    def wait(self, timeout: float = 30.0) -> None:
        """Block until no run is pending or running (tests and benchmarks)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
