"""Dense retrieval: a FAISS inner-product index over normalised embeddings, keyed by chunk id.

The index type is chosen by size when a whole catalog is loaded (`VectorIndex.build`): exact (flat)
below EXACT_BELOW chunks; above it an inverted file of float16 vectors (IVF-SQfp16): half the
memory, and an eighth of the vectors scanned per query. 8-bit codes lost 0.02 of recall@10 on
near-duplicate passages at the same speed, so float16 it is. HNSW was left out: it
cannot remove vectors, and a deleted reflection must leave the index at once.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from index.atomic import write_atomically


def _one_thread() -> None:
    """FAISS on one OpenMP thread, in the calling thread. One query against a flat index of tens of
    thousands of vectors takes about a millisecond on one thread; FAISS's OpenMP threads kept
    spinning after a search and fought torch's threads for the cores, which doubled the next query
    embedding (search p50 20 ms -> 10.5 ms without them). OpenMP's count is each thread's own: set
    only in the main thread, each of a server's forty request threads got a team of its own at its
    first search, one more thread each, kept for good (about 50 MB at 20 users). So every call into
    FAISS sets it first, in its own thread (a thread-local store, well under a microsecond)."""
    faiss.omp_set_num_threads(1)


# Flat search took 7 ms at 10,000 vectors and 97 ms at 100,000 (one thread, this machine loaded);
# below 10,000 it is exact for about the cost of an approximate search.
EXACT_BELOW = 10_000
TRAIN_PER_LIST = 40  # k-means sample: 40 vectors per inverted list is plenty for recall and quick
# One inverted list in 8 is scanned per query, and at least MIN_PROBE lists. On real embeddings of
# recombined passages (`python -m bench recall`) that found 0.956 of the exact top ten at 100,000
# chunks (1 in 4: 0.982; 1 in 16: 0.904). Below about 150,000 chunks the floor rules: at 32 lists
# recall fell from 0.958 (12,000 chunks) to 0.947 (65,000); at 48 it stays at 0.969 or more, for
# well under a millisecond more a query.
PROBE_SHARE = 8
MIN_PROBE = 48
# A filtered search over an approximate index scores up to this many allowed vectors exactly.
FILTERED_EXACT_UP_TO = 20_000


class VectorIndex:
    """Exact inner-product search (cosine on normalised vectors); ids are catalog chunk ids.

    A flat index is exact and, at this corpus's scale (thousands to tens of thousands of chunks),
    faster to update than any trained index; add and remove are incremental.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def build(cls, ids: list[int], vectors: np.ndarray) -> VectorIndex:
        """An index holding `vectors`, flat below EXACT_BELOW of them, IVF-SQfp16 above (module docstring)."""
        matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        index = cls(matrix.shape[1])
        if len(ids) >= EXACT_BELOW:
            index._index = _trained_ivf(matrix)
        index.add(ids, matrix)
        return index

    @property
    def exact(self) -> bool:
        return isinstance(self._index, faiss.IndexIDMap2)

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if not ids:
            return
        _one_thread()
        matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        self._index.add_with_ids(matrix, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> None:
        _one_thread()
        if ids:
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best `k` (chunk id, cosine) pairs, restricted to `allowed` ids when given."""
        if self._index.ntotal == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        _one_thread()
        vector = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        params = None
        if allowed is not None and not self.exact and len(allowed) <= FILTERED_EXACT_UP_TO:
            return self._search_among(vector[0], k, allowed)
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector) if self.exact else faiss.SearchParametersIVF(sel=selector, nprobe=self._index.nprobe)
        scores, ids = self._index.search(vector, min(k, self._index.ntotal), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def _search_among(self, query: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        """Exact search over a few allowed ids of an approximate index: the inverted lists it would
        scan may hold none of them."""
        scores = self.similarities(query, [int(i) for i in allowed])
        return sorted(scores.items(), key=lambda pair: -pair[1])[:k]

    def similarities(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of the query with each stored vector in `ids` (for support checks on chosen hits)."""
        if not ids:
            return {}
        _one_thread()
        stored = self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
        scores = stored @ np.asarray(query, dtype=np.float32).reshape(-1)
        return {int(i): float(s) for i, s in zip(ids, scores, strict=True)}

    def vector(self, chunk_id: int) -> np.ndarray:
        """The stored vector of one chunk (float16 above EXACT_BELOW: equal to about 1e-3)."""
        _one_thread()
        return self._index.reconstruct_batch(np.asarray([chunk_id], dtype=np.int64))[0]

    def save(self, path: Path) -> None:
        """Write the index atomically: a failed save (a full disk) leaves the previous file as it was."""
        write_atomically(path, lambda sink: faiss.write_index(self._index, faiss.PyCallbackIOWriter(sink)))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """The saved index, probing as many lists as this version would (a file keeps the count it was saved with)."""
        loaded = faiss.read_index(str(path))
        index = cls(loaded.d)
        index._index = loaded
        if not index.exact:
            loaded.nprobe = probes(loaded.nlist)
        return index

    def ids(self) -> set[int]:
        if self.exact:
            return set(faiss.vector_to_array(self._index.id_map).tolist())
        lists = self._index.invlists
        return {
            int(i)
            for number in range(lists.nlist)
            for i in faiss.rev_swig_ptr(lists.get_ids(number), lists.list_size(number))
        }


def _trained_ivf(matrix: np.ndarray) -> faiss.Index:
    """An empty IVF-SQfp16 index trained on a sample of `matrix`, with ids of its own (removal works)
    and a hash table from id to entry (so `similarities` can reconstruct any vector)."""
    count, dim = matrix.shape
    _one_thread()
    lists = max(16, int(np.sqrt(count)))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    sample = matrix[np.random.default_rng(0).choice(count, min(count, lists * TRAIN_PER_LIST), replace=False)]
    ivf.train(sample)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivf.nprobe = probes(lists)
    ivf.quantizer_trains_alone = 0
    ivf.own_fields = True
    quantizer.this.disown()
    return ivf


def probes(lists: int) -> int:
    """Inverted lists scanned per query: one in PROBE_SHARE, at least MIN_PROBE (all when there are fewer)."""
    return min(lists, max(MIN_PROBE, lists // PROBE_SHARE))
