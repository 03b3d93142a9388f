"""Process-wide tuning for a long-running server (`learnloop serve`), applied once before it starts.

Two things a soak at 10-20 users showed (README, Load):

- Torch's intra-op team of two threads, sharing two cores with the request threads (BM25, late
  interaction, JSON) and anything else on the machine, waits on a descheduled partner: a query
  embedding took 860 ms instead of 15 ms on one thread. One thread per embedding is the default.
- glibc raises its mmap threshold to the largest block freed so far, so after the first few
  multi-megabyte temporaries of a search (late interaction's candidate matrix) later ones come
  from the heap of whichever request thread asked, and each thread's arena keeps its high-water
  mark: RSS grew with concurrency, not with data. A fixed threshold keeps large blocks mapped,
  and returned to the system when freed.
- Small blocks went the same way: glibc gives each new thread its own heap arena, up to eight a
  core, and the forty request threads' arenas each kept what they had once held (RSS +90 MB over a
  minute of searches at 20 users, after the first minute). Two arenas, shared by every thread, keep
  RSS flat under the same traffic; an operator's MALLOC_ARENA_MAX wins.
- A second ONNX Runtime session (another copy of the weights, about 90 MB) was opened for the first
  large embedding call, a gap re-check's 32 questions: a served process embeds on its one thread only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameter numbers, from glibc's malloc.h
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, now kept instead of raised
SERVING_ARENAS = 2


def tune_for_serving(embed_threads: int) -> None:
    """Bound glibc's heap (arenas few, mmap threshold fixed), give torch `embed_threads` threads, and
    keep ONNX Runtime to its one query session when that is 1. Called before the server starts any
    thread: glibc settles its arena limit when a ninth arena would be made."""
    limit_arenas()  # first: no thread of torch's or ONNX Runtime's yet
    fix_mmap_threshold()
    import torch

    from ingest.onnx_embed import limit_embedding_threads

    torch.set_num_threads(embed_threads)
    limit_embedding_threads(embed_threads)


def _mallopt(parameter: int, value: int) -> bool:
    """glibc's mallopt; False where the C library has none (the setting is then left as it is)."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not hasattr(libc, "mallopt"):
        log.info("no mallopt in this C library: malloc parameter %d is left as it is", parameter)
        return False
    return bool(libc.mallopt(parameter, value))


def fix_mmap_threshold() -> bool:
    """Keep blocks of MMAP_THRESHOLD_BYTES and more mapped for good."""
    return _mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def limit_arenas() -> bool:
    """Ask for at most SERVING_ARENAS heap arenas, unless the operator chose a number (MALLOC_ARENA_MAX,
    or glibc.malloc.arena_max in GLIBC_TUNABLES). True when glibc took the setting; it holds if no
    ninth arena was ever needed before (glibc settles its limit then, once)."""
    if os.environ.get("MALLOC_ARENA_MAX") or "arena_max" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    return _mallopt(M_ARENA_MAX, SERVING_ARENAS)
