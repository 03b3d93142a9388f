"""Micro-batching: concurrent callers share one encoding thread by joining its next call.

A model encodes eight short queries in one call in little more than the time of one, so a
thread that takes everything waiting (up to `max_texts`) and encodes it together serves eight
concurrent searches far sooner than one that encodes them one by one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from index.records import Encoded


@dataclass(frozen=True)
class _Job:
    texts: list[str]
    tokens: bool
    future: Future[Encoded] = field(default_factory=Future)


class MicroBatcher:
    """Runs `encode(texts, tokens)` on one dedicated thread for the jobs of every caller.

    One thread, not a pool: torch's OpenMP gives each calling thread its own team of worker
    threads, so a web server's request threads would grow many teams that spin against each other
    on a small machine (ONNX Runtime's session likewise keeps one pool). A call whose jobs all
    asked for pooled vectors only is made with `tokens=False`.
    """

    def __init__(self, encode: Callable[[list[str], bool], Encoded], max_texts: int, name: str = "embed") -> None:
        self._encode = encode
        self.max_texts = max_texts
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def submit(self, texts: list[str], tokens: bool) -> Encoded:
        """Encode `texts` in the thread's next call, joined by whatever else is waiting then."""
        job = _Job(texts, tokens)
        self._queue.put(job)
        return job.future.result()

    def _serve(self) -> None:
        while True:
            jobs = self._take()
            try:
                encoded = self._encode([text for job in jobs for text in job.texts], any(job.tokens for job in jobs))
            except Exception as error:  # every waiting caller hears of it, and the thread lives on
                for job in jobs:
                    job.future.set_exception(error)
                continue
            start = 0
            for job in jobs:
                end = start + len(job.texts)
                job.future.set_result(Encoded(encoded.vectors[start:end], encoded.tokens[start:end] if job.tokens else []))
                start = end

    def _take(self) -> list[_Job]:
        """The first job to arrive (waiting for one), then those queued behind it until `max_texts` is reached."""
        jobs = [self._queue.get()]
        count = len(jobs[0].texts)
        while count < self.max_texts:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            jobs.append(job)
            count += len(job.texts)
        return jobs


def empty(dim: int) -> Encoded:
    """What encoding no texts gives."""
    return Encoded(np.zeros((0, dim), dtype=np.float32), [])
