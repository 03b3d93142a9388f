"""Dense retrieval: a FAISS inner-product index over normalised embeddings, keyed by chunk id."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from index.atomic import write_atomically

# One query against a flat index of tens of thousands of vectors takes about a millisecond on one
# thread. FAISS's OpenMP threads keep spinning after a search and fight torch's own threads for
# the cores, which doubled the next query embedding (search p50 20 ms -> 10.5 ms without them).
faiss.omp_set_num_threads(1)


class VectorIndex:
    """Exact inner-product search (cosine on normalised vectors); ids are catalog chunk ids.

    A flat index is exact and, at this corpus's scale (thousands to tens of thousands of chunks),
    faster to update than any trained index; add and remove are incremental.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if not ids:
            return
        matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        self._index.add_with_ids(matrix, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> None:
        if ids:
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """Best `k` (chunk id, cosine) pairs, restricted to `allowed` ids when given."""
        if self._index.ntotal == 0 or k <= 0 or allowed == []:
            return []
        vector = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        scores, ids = self._index.search(vector, min(k, self._index.ntotal), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def similarities(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of the query with each stored vector in `ids` (for support checks on chosen hits)."""
        if not ids:
            return {}
        stored = np.vstack([self._index.reconstruct(int(i)) for i in ids])
        scores = stored @ np.asarray(query, dtype=np.float32).reshape(-1)
        return {int(i): float(s) for i, s in zip(ids, scores, strict=True)}

    def save(self, path: Path) -> None:
        """Write the index atomically: a failed save (a full disk) leaves the previous file as it was."""
        write_atomically(path, lambda sink: faiss.write_index(self._index, faiss.PyCallbackIOWriter(sink)))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        loaded = faiss.read_index(str(path))
        index = cls(loaded.d)
        index._index = loaded
        return index

    def ids(self) -> set[int]:
        return set(faiss.vector_to_array(self._index.id_map).tolist())
