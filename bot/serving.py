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
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameter number, from glibc's malloc.h
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, now kept instead of raised


def tune_for_serving(embed_threads: int) -> None:
    """Give torch `embed_threads` intra-op threads and fix glibc's mmap threshold (a no-op off glibc)."""
    import torch

    torch.set_num_threads(embed_threads)
    fix_mmap_threshold()


def fix_mmap_threshold() -> bool:
    """Keep blocks of MMAP_THRESHOLD_BYTES and more mapped for good; False where the C library has no mallopt."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not hasattr(libc, "mallopt"):
        log.info("no mallopt in this C library: the mmap threshold is left as it is")
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
