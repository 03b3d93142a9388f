"""Hybrid search: dense (FAISS) and keyword (BM25) candidates, reranked by late interaction
(token-level MaxSim), the three rankings fused by reciprocal rank.

The searcher keeps both indexes and the chunks' metadata in memory and catches up with the
catalog whenever its revision moves, so several processes can share one database.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from readerwriterlock import rwlock

from index.atomic import write_bytes_atomically
from index.catalog import Catalog
from index.errors import SearchError
from index.fusion import reciprocal_rank_fusion
from index.keyword import KeywordIndex, index_terms
from index.late import TokenFile, TokenIndex
from index.records import ChunkMeta, Encoded, Hit, SearchFilters
from index.vectors import VectorIndex

CANDIDATES = 50
# Late interaction reads every token vector of every chunk it scores, so it reranks only the top
# 30 of each list (about 50 chunks): the eval sets scored the same as with all 50 of each.
LATE_CANDIDATES = 30
# "dense+keyword" is hybrid without late interaction (equal-weight RRF of the two lists, the earlier
# hybrid): the baseline that shows what late interaction adds, in quality (eval) and in time (bench).
MODES = ("dense", "keyword", "late", "hybrid", "dense+keyword")
# Dense and late interaction are two views of one model: at equal weight they outvoted BM25 two to
# one, so a passage only BM25 finds (an exact name or code) lost to one both views liked. Dense
# counts half; any weight from 0.25 to 0.75 scored alike on the eval sets (README, Retrieval quality).
FUSION_WEIGHTS = (0.5, 1.0, 1.0)  # dense, late, keyword

log = logging.getLogger(__name__)


class QueryEncoder(Protocol):
    """Anything that turns texts into normalised float32 vectors and token vectors (ingest's embedders do)."""

    dim: int

    def encode(self, texts: Sequence[str]) -> Encoded: ...


@dataclass(frozen=True)
class _Loaded:
    """Chunks read from the catalog and prepared for every index before the write lock is taken."""

    metas: dict[int, ChunkMeta]
    vectors: np.ndarray | None  # None when the vector index already holds them (the cache)
    tokens: dict[int, bytes]
    terms: dict[int, list[str]]


class Searcher:
    """Answers hybrid searches over the catalog's chunks.

    Every search reads one consistent snapshot: it holds the read side of a readers-writer lock
    from its filters to its hits' metadata and similarities, while `sync` holds the write side
    only to apply chunks it has already read and prepared. So a search sees a chunk in all four
    structures (metadata, vectors, token vectors, BM25 terms) or in none, searches run side by
    side, and none waits on the database or on a query embedding.
    """

    def __init__(self, catalog: Catalog, encoder: QueryEncoder, cache_dir: Path | None = None, background_keyword: bool = True) -> None:
        self.catalog = catalog
        self.encoder = encoder
        self.cache_dir = cache_dir
        self._metas: dict[int, ChunkMeta] = {}
        self._vectors = VectorIndex(encoder.dim)
        self._keywords = KeywordIndex(background=background_keyword)
        self._tokens = TokenIndex(encoder.dim)
        self._revision = -1
        self._sync_lock = threading.Lock()  # one sync reads the catalog at a time
        # Writers first: a sync waits for the searches already running, not for every later one.
        self._snapshot = rwlock.RWLockWrite()

    @property
    def revision(self) -> int:
        return self._revision

    def __len__(self) -> int:
        return len(self._metas)

    def sync(self) -> None:
        """Catch up with the catalog: add new chunks, drop deleted ones (cheap when nothing moved).

        Chunk ids are trusted to name one chunk for good: the catalog never reuses them
        (AUTOINCREMENT on SQLite, sequences on PostgreSQL).
        """
        revision = self.catalog.revision()
        if revision == self._revision:
            return
        with self._sync_lock:
            if revision == self._revision:
                return
            if self._revision < 0:
                self._start(revision)
                return
            stored = self.catalog.chunk_ids()
            removed = [i for i in self._metas if i not in stored]  # only sync writes _metas, under _sync_lock
            loaded = self._load([i for i in stored if i not in self._metas])
            with self._snapshot.gen_wlock():
                self._apply(loaded, removed)
                self._revision = revision

    def _start(self, revision: int) -> None:
        """Load the whole catalog: token vectors into a memory-mapped file (kept from the last start
        when the revision has not moved), the vector index from its saved copy when that matches,
        else built for the catalog's size; then metadata and BM25 terms."""
        token_file = self._token_file(revision)
        vectors = self._saved_vectors(revision)
        loaded = self._load(None, with_vectors=vectors is None, token_file=token_file)
        if vectors is None or vectors.ids() != set(loaded.metas):
            if loaded.vectors is None:  # the saved index did not hold these chunks after all
                loaded = self._load(None, token_file=token_file)
            vectors = VectorIndex.build(list(loaded.metas), loaded.vectors) if loaded.metas else VectorIndex(self.encoder.dim)
        loaded = _Loaded(loaded.metas, None, loaded.tokens, loaded.terms)
        with self._snapshot.gen_wlock():
            self._vectors = vectors
            self._tokens.replace_file(token_file)
            self._apply(loaded, [])
            self._revision = revision

    def _token_file(self, revision: int) -> TokenFile:
        """The token file written at `revision` when there is one, else a new one from the catalog."""
        path = None if self.cache_dir is None else self.cache_dir / "tokens.bin"
        if path is not None and (kept := TokenFile.open(path, self._tokens.dim, revision)) is not None:
            return kept
        try:
            return TokenFile.write(path, self._tokens.dim, self.catalog.token_blobs(), revision)
        except OSError as error:  # a full disk: serve from an anonymous file instead and say so
            log.error("The token file was not written in %s (%s): using a temporary one.", self.cache_dir, error.strerror or error)
            return TokenFile.write(None, self._tokens.dim, self.catalog.token_blobs(), revision)

    def _load(self, ids: list[int] | None, with_vectors: bool = True, token_file: TokenFile | None = None) -> _Loaded:
        """Read chunks (all of them for None) and prepare them: vectors stacked, texts tokenised.

        With a `token_file`, token vectors are read only for chunks it lacks (added since it was written)."""
        metas: dict[int, ChunkMeta] = {}
        vectors: list[np.ndarray] = []
        tokens: dict[int, bytes] = {}
        for meta, encoding in self.catalog.chunk_metas(ids, with_tokens=token_file is None):
            metas[meta.chunk_id] = meta
            if with_vectors:
                vectors.append(np.frombuffer(encoding.vector, dtype=np.float32))
            tokens[meta.chunk_id] = encoding.tokens
        if token_file is not None:
            lacking = [i for i in metas if token_file.get(i) is None]
            tokens = {meta.chunk_id: encoding.tokens for meta, encoding in self.catalog.chunk_metas(lacking)} if lacking else {}
        terms = dict(zip(metas, index_terms([m.contextual_text for m in metas.values()]), strict=True))
        matrix = np.vstack(vectors) if with_vectors and vectors else None
        return _Loaded(metas, matrix, tokens, terms)

    def _apply(self, loaded: _Loaded, removed: list[int]) -> None:
        """Change every structure; the caller holds the write lock."""
        self._vectors.remove(removed)
        self._tokens.remove(removed)
        if loaded.vectors is not None:
            self._vectors.add(list(loaded.metas), loaded.vectors)
        self._tokens.add(loaded.tokens)
        self._keywords.apply(loaded.terms, removed)
        for chunk_id in removed:
            self._metas.pop(chunk_id, None)
        self._metas.update(loaded.metas)

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        """The `k` best chunks for `query`, best first, each carrying its fused score."""
        if not query.strip():
            raise SearchError("The query is empty.")
        self.sync()
        encoded = self.encoder.encode([query])
        with self._snapshot.gen_rlock():
            ranked = self._rank(query, max(k, 1), filters or SearchFilters(), "hybrid", encoded)[:k]
            similarities = self._vectors.similarities(encoded.vectors[0], [i for i, _ in ranked])
            return [Hit.from_meta(self._metas[i], score, similarities.get(i)) for i, score in ranked]

    def rank(self, query: str, k: int, filters: SearchFilters, mode: str = "hybrid") -> list[tuple[int, float]]:
        """Fused (chunk id, score) list; `mode` dense, keyword or late gives one ranking alone, dense+keyword fuses without late interaction (for eval and bench)."""
        if mode not in MODES:
            raise SearchError(f"Unknown retrieval mode '{mode}': use one of {', '.join(MODES)}.")
        self.sync()
        encoded = None if mode == "keyword" else self.encoder.encode([query])
        with self._snapshot.gen_rlock():
            return self._rank(query, k, filters, mode, encoded)

    def _rank(self, query: str, k: int, filters: SearchFilters, mode: str, encoded: Encoded | None) -> list[tuple[int, float]]:
        """`rank` within one snapshot (the caller holds the read lock); `encoded` is None only for keyword mode.

        Late interaction reranks the best dense and keyword candidates: scoring every chunk's
        tokens would cost a pass over all of them per query.
        """
        allowed = None if filters.is_empty() else [i for i, m in self._metas.items() if filters.admits(m)]
        depth = max(CANDIDATES, k)
        keyword = self._keywords.search(query, depth, allowed) if mode != "dense" else []
        if encoded is None:
            return keyword[:k]
        dense = self._vectors.search(encoded.vectors[0], depth, allowed)
        if mode == "dense":
            return dense[:k]
        if mode == "dense+keyword":
            return reciprocal_rank_fusion([dense, keyword])[:k]
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
        with self._snapshot.gen_rlock():
            return self._metas.get(chunk_id)

    def save_cache(self) -> bool:
        """Persist the FAISS index with the revision it reflects, so the next start skips re-reading vectors.

        Each file is replaced atomically, the index before the stamp naming its revision, so a save
        that fails part way (a full disk) leaves files that are either the old pair or ignored at the
        next start (the stamp no longer matches). The failure is logged and False returned: the
        index is derived data, and this process goes on serving from memory.
        """
        if self.cache_dir is None or self._revision < 0:
            return False
        with self._snapshot.gen_rlock():
            try:
                self._vectors.save(self.cache_dir / "vectors.faiss")
                write_bytes_atomically(self.cache_dir / "vectors.json", json.dumps({"revision": self._revision, "dim": self._vectors.dim}).encode())
            except OSError as error:
                log.error(
                    "The vector index was not saved in %s (%s): the previous index file is kept, and this process goes on serving from memory.",
                    self.cache_dir,
                    error.strerror or error,
                )
                return False
        return True

    def drop_cache(self) -> None:
        """Delete the persisted FAISS index and token file: after an erasure they hold vectors that must not outlive it."""
        if self.cache_dir is not None:
            for name in ("vectors.faiss", "vectors.json", "tokens.bin", "tokens.index", "tokens.json"):
                (self.cache_dir / name).unlink(missing_ok=True)

    def _saved_vectors(self, revision: int) -> VectorIndex | None:
        """The persisted FAISS index when it matches the catalog's revision, else None."""
        if self.cache_dir is None:
            return None
        stamp = self.cache_dir / "vectors.json"
        try:
            saved = json.loads(stamp.read_text())
            if saved.get("revision") != revision or saved.get("dim") != self._vectors.dim:
                return None
            return VectorIndex.load(self.cache_dir / "vectors.faiss")
        except (OSError, ValueError, RuntimeError):
            return None
