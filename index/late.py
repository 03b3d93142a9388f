"""Late interaction: MaxSim over the embedding model's contextual token vectors (as in ColBERT).

One pooled vector per passage blurs a 150-word passage into its gist, so a question about one
line of it ("what does the Human bit of HLS mean?") can miss. Scoring each query token against
its best-matching passage token keeps that line visible. The token vectors come from the same
forward pass as the pooled vector, so ingest pays nothing extra for them; they rerank the best
dense and keyword candidates as a third list for fusion (README, Retrieval quality).

Each token vector is stored as int8 with one float scale per token, a quarter of float32, which
scored the eval sets exactly as float32 did.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
from threadpoolctl import threadpool_limits

_SCALE = np.dtype("<f4")

# A MaxSim is a few million multiply-adds, done in about a millisecond on one thread. OpenBLAS's
# second thread kept spinning after each one and fought torch for the two cores, which slowed
# the next query embedding: an answer took 28 ms with it, 19 ms without (bench/slack.py).
threadpool_limits(limits=1, user_api="blas")


def pack_tokens(vectors: np.ndarray) -> bytes:
    """(tokens, dim) float vectors as bytes: per-token float32 scales, then the int8 codes."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.size == 0:
        return b""
    scales = np.abs(matrix).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    codes = np.clip(np.rint(matrix / scales[:, None]), -127, 127).astype(np.int8)
    return scales.astype(_SCALE).tobytes() + codes.tobytes()


def unpack_tokens(blob: bytes, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The (codes, scales) that `pack_tokens` wrote; empty arrays for an empty blob."""
    count = len(blob) // (dim + _SCALE.itemsize)
    if count * (dim + _SCALE.itemsize) != len(blob):
        raise ValueError(f"a token blob of {len(blob)} bytes does not hold {dim}-dimensional vectors")
    scales = np.frombuffer(blob, dtype=_SCALE, count=count)
    codes = np.frombuffer(blob, dtype=np.int8, offset=count * _SCALE.itemsize).reshape(count, dim)
    return codes, scales


class TokenIndex:
    """Token vectors of each chunk, kept in memory, scored against a query's token vectors."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._chunks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._chunks)

    def add(self, blobs: dict[int, bytes]) -> None:
        """Store chunks' packed token vectors; a chunk without any (empty blob) is left out."""
        unpacked = {i: unpack_tokens(blob, self.dim) for i, blob in blobs.items() if blob}
        with self._lock:
            self._chunks.update(unpacked)

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for chunk_id in ids:
                self._chunks.pop(chunk_id, None)

    def rank(self, query_tokens: np.ndarray, candidates: Iterable[int]) -> list[tuple[int, float]]:
        """Candidates best first by MaxSim: the mean over query tokens of the best cosine in the chunk."""
        if len(query_tokens) == 0:
            return []
        with self._lock:
            stored = [(i, self._chunks[i]) for i in dict.fromkeys(candidates) if i in self._chunks]
        if not stored:
            return []
        codes = np.concatenate([c for _, (c, _) in stored]).astype(np.float32)
        scales = np.concatenate([s for _, (_, s) in stored])
        cosines = (np.asarray(query_tokens, dtype=np.float32) @ codes.T) * scales
        starts = np.cumsum([0] + [len(c) for _, (c, _) in stored[:-1]])
        best = np.maximum.reduceat(cosines, starts, axis=1)
        scores = best.mean(axis=0)
        order = np.argsort(-scores, kind="stable")
        return [(stored[p][0], float(scores[p])) for p in order]
