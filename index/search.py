"""Hybrid search: dense (FAISS) and keyword (BM25) candidates, reranked by late interaction
(token-level MaxSim), the three rankings fused by reciprocal rank.

The searcher keeps both indexes and the chunks' metadata in memory and catches up with the
catalog whenever its revision moves, so several processes can share one database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.catalog import Catalog
from index.errors import SearchError
from index.fusion import reciprocal_rank_fusion
from index.keyword import KeywordIndex
from index.late import TokenIndex
from index.records import ChunkMeta, Encoded, Hit, SearchFilters
from index.vectors import VectorIndex

CANDIDATES = 50
# Late interaction reads every token vector of every chunk it scores, so it reranks only the top
# 30 of each list (about 50 chunks): the eval sets scored the same as with all 50 of each.
LATE_CANDIDATES = 30
MODES = ("dense", "keyword", "late", "hybrid")
# Dense and late interaction are two views of one model: at equal weight they outvoted BM25 two to
# one, so a passage only BM25 finds (an exact name or code) lost to one both views liked. Dense
# counts half; any weight from 0.25 to 0.75 scored alike on the eval sets (README, Retrieval quality).
FUSION_WEIGHTS = (0.5, 1.0, 1.0)  # dense, late, keyword


class QueryEncoder(Protocol):
    """Anything that turns texts into normalised float32 vectors and token vectors (ingest's embedders do)."""

    dim: int

    def encode(self, texts: Sequence[str]) -> Encoded: ...


class Searcher:
    """Answers hybrid searches over the catalog's chunks."""

    def __init__(self, catalog: Catalog, encoder: QueryEncoder, cache_dir: Path | None = None, background_keyword: bool = True) -> None:
        self.catalog = catalog
        self.encoder = encoder
        self.cache_dir = cache_dir
        self._metas: dict[int, ChunkMeta] = {}
        self._vectors = VectorIndex(encoder.dim)
        self._keywords = KeywordIndex(background=background_keyword)
        self._tokens = TokenIndex(encoder.dim)
        self._revision = -1
        self._sync_lock = threading.Lock()

    @property
    def revision(self) -> int:
        return self._revision

    def __len__(self) -> int:
        return len(self._metas)

    def sync(self) -> None:
        """Catch up with the catalog: add new chunks, drop deleted ones (cheap when nothing moved)."""
        revision = self.catalog.revision()
        if revision == self._revision:
            return
        with self._sync_lock:
            if revision == self._revision:
                return
            if self._revision < 0 and self._load_cache(revision):
                return
            stored = self.catalog.chunk_ids()
            removed = [i for i in self._metas if i not in stored]
            added_ids = [i for i in stored if i not in self._metas]
            self._apply(added_ids, removed)
            self._revision = revision

    def _apply(self, added_ids: list[int], removed: list[int]) -> None:
        new_metas: dict[int, ChunkMeta] = {}
        vectors: list[np.ndarray] = []
        tokens: dict[int, bytes] = {}
        for meta, encoding in self.catalog.chunk_metas(added_ids):
            new_metas[meta.chunk_id] = meta
            vectors.append(np.frombuffer(encoding.vector, dtype=np.float32))
            tokens[meta.chunk_id] = encoding.tokens
        self._vectors.remove(removed)
        self._tokens.remove(removed)
        if new_metas:
            self._vectors.add(list(new_metas), np.vstack(vectors))
        self._tokens.add(tokens)
        self._keywords.update({i: m.contextual_text for i, m in new_metas.items()}, removed)
        for chunk_id in removed:
            self._metas.pop(chunk_id, None)
        self._metas.update(new_metas)

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        """The `k` best chunks for `query`, best first, each carrying its fused score."""
        if not query.strip():
            raise SearchError("The query is empty.")
        encoded = self.encoder.encode([query])
        ranked = self.rank(query, max(k, 1), filters or SearchFilters(), encoded=encoded)
        similarities = self._vectors.similarities(encoded.vectors[0], [i for i, _ in ranked[:k]])
        return [Hit.from_meta(self._metas[i], score, similarities.get(i)) for i, score in ranked[:k]]

    def rank(self, query: str, k: int, filters: SearchFilters, mode: str = "hybrid", encoded: Encoded | None = None) -> list[tuple[int, float]]:
        """Fused (chunk id, score) list; `mode` dense, keyword or late gives one ranking alone (for eval).

        Late interaction reranks the best dense and keyword candidates: scoring every chunk's
        tokens would cost a pass over all of them per query.
        """
        if mode not in MODES:
            raise SearchError(f"Unknown retrieval mode '{mode}': use one of {', '.join(MODES)}.")
        self.sync()
        allowed = None if filters.is_empty() else [i for i, m in self._metas.items() if filters.admits(m)]
        depth = max(CANDIDATES, k)
        keyword = self._keywords.search(query, depth, allowed) if mode != "dense" else []
        if mode == "keyword":
            return [(i, s) for i, s in keyword if i in self._metas][:k]
        encoded = encoded or self.encoder.encode([query])
        dense = self._vectors.search(encoded.vectors[0], depth, allowed)
        if mode == "dense":
            return dense[:k]
        late = self._tokens.rank(encoded.tokens[0], [i for i, _ in dense[:LATE_CANDIDATES] + keyword[:LATE_CANDIDATES]])
        if mode == "late":
            return late[:k]
        return reciprocal_rank_fusion([dense, late, keyword], weights=FUSION_WEIGHTS)[:k]

    def mentions(self, text: str) -> bool:
        """Whether the corpus uses any word of `text` at all (for names the corpus has never seen)."""
        self.sync()
        return self._keywords.mentions(text)

    def meta(self, chunk_id: int) -> ChunkMeta | None:
        self.sync()
        return self._metas.get(chunk_id)

    def save_cache(self) -> None:
        """Persist the FAISS index with the revision it reflects, so the next start skips re-reading vectors."""
        if self.cache_dir is None or self._revision < 0:
            return
        self._vectors.save(self.cache_dir / "vectors.faiss")
        (self.cache_dir / "vectors.json").write_text(json.dumps({"revision": self._revision, "dim": self._vectors.dim}))

    def _load_cache(self, revision: int) -> bool:
        """Start from the persisted FAISS index when it matches the catalog's revision."""
        if self.cache_dir is None:
            return False
        stamp = self.cache_dir / "vectors.json"
        try:
            saved = json.loads(stamp.read_text())
            if saved.get("revision") != revision or saved.get("dim") != self._vectors.dim:
                return False
            vectors = VectorIndex.load(self.cache_dir / "vectors.faiss")
        except (OSError, ValueError, RuntimeError):
            return False
        stored = list(self.catalog.chunk_metas())
        metas = {meta.chunk_id: meta for meta, _ in stored}
        if vectors.ids() != set(metas):
            return False
        self._vectors, self._metas = vectors, metas
        self._tokens.add({meta.chunk_id: encoding.tokens for meta, encoding in stored})
        self._keywords.update({i: m.contextual_text for i, m in metas.items()}, [])
        self._revision = revision
        return True

