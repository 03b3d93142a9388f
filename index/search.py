"""Hybrid search: dense (FAISS) and keyword (BM25) candidates, reranked by late interaction
(token-level MaxSim), the three rankings fused by reciprocal rank.

The searcher keeps both indexes and the chunks' metadata in memory and catches up with the
catalog whenever its revision moves, so several processes can share one database.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from filelock import FileLock, Timeout
from readerwriterlock import rwlock

from index.atomic import index_files_lock, write_bytes_atomically
from index.background import Coalescing
from index.catalog import Catalog
from index.errors import SearchError
from index.fusion import reciprocal_rank_fusion
from index.keyword import KeywordIndex
from index.keyword_helper import start_keyword_helper
from index.late import TokenFile, TokenIndex, pack_codes
from index.records import ChunkMeta, Encoded, Hit, SearchFilters
from index.table import ChunkTable
from index.terms import text_term_ids
from index.vectors import EXACT_BELOW, VectorIndex

TOKEN_COPY = ".tokens-copy-"  # a token file being written behind, before it is renamed to tokens.bin
# A first start below this many chunks writes its token file before it serves: at 18 KB a chunk
# that takes well under a second, and searches never read token vectors from the catalog.
TOKENS_BEHIND_FROM = 20_000
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
# Chunks compared with the catalog before saved index files are trusted at a start.
AGREEMENT_SAMPLE = 16

log = logging.getLogger(__name__)


class QueryEncoder(Protocol):
    """Anything that turns texts into normalised float32 vectors and token vectors (ingest's embedders do)."""

    dim: int

    def encode(self, texts: Sequence[str]) -> Encoded: ...


@dataclass(frozen=True)
class _Loaded:
    """New chunks read from the catalog and prepared for every index before the write lock is taken."""

    table: ChunkTable  # the catalog's chunks as of this read
    ids: list[int]
    vectors: np.ndarray | None
    tokens: dict[int, bytes]
    terms: dict[int, np.ndarray]  # term ids (index.terms)


class Searcher:
    """Answers hybrid searches over the catalog's chunks.

    Every search ranks one consistent snapshot: it holds the read side of a readers-writer lock
    while it ranks, while `sync` holds the write side only to apply chunks it has already read and
    prepared. So a search sees a chunk in all four structures (chunk table, vectors, token
    vectors, BM25 terms) or in none, searches run side by side, and none waits on a query
    embedding. A passage's text and details are read from the catalog for the hits returned only.

    With a `cache_dir`, every structure is saved there (the vector index, the BM25 main tier, the
    token file) and a start loads them and applies only what changed since they were written. A
    serving process (`tokens_behind`) that must write a large token file anew serves first and
    writes it in a background thread; a command that ends soon after writes it before it goes on.
    """

    def __init__(
        self, catalog: Catalog, encoder: QueryEncoder, cache_dir: Path | None = None, background_keyword: bool = True, tokens_behind: bool = False
    ) -> None:
        self.catalog = catalog
        self.encoder = encoder
        self.cache_dir = cache_dir
        self._may_write_tokens_behind = tokens_behind
        self._table = ChunkTable.empty()
        self._vectors = VectorIndex(encoder.dim)
        self._keywords = KeywordIndex(catalog.term_ids, catalog.chunk_id_array, cache_dir, background=background_keyword, database=catalog.database)
        self._tokens = TokenIndex(encoder.dim)
        self._revision = -1
        # a removal is saved soon after (the saved vector index must not keep an erased chunk),
        # at most a tenth of the time while removals keep coming
        self._saver = Coalescing(self.save_cache, "index-save", settle=1.0, duty=0.1, database=catalog.database)
        # A first start serves before its token file is written, reading token vectors from the catalog meanwhile.
        self._token_writer = Coalescing(self._write_tokens_behind, "tokens-write", database=catalog.database)
        self._tokens_behind: tuple[np.ndarray, int] | None = None  # the chunk ids and revision that file is written for
        self._sync_lock = threading.Lock()  # one sync reads the catalog at a time
        # Writers first: a sync waits for the searches already running, not for every later one.
        self._snapshot = rwlock.RWLockWrite()

    @property
    def revision(self) -> int:
        return self._revision

    def __len__(self) -> int:
        return len(self._table)

    def sync(self) -> None:
        """Catch up with the catalog: add new chunks, drop deleted ones (cheap when nothing moved).

        Chunk ids are trusted to name one chunk for good: the catalog never reuses them
        (AUTOINCREMENT on SQLite, sequences on PostgreSQL).
        """
        if self._tokens_behind is not None:
            self._token_writer.request()  # again, if a run failed; a no-op once the file is served
        revision = self.catalog.revision()
        if revision == self._revision:
            return
        with self._sync_lock:
            if revision == self._revision:
                return
            if self._revision < 0:
                self._start(revision)
                return
            stored = self.catalog.chunk_id_array()
            removed = np.setdiff1d(self._table.ids, stored, assume_unique=True)  # only sync changes _table, under _sync_lock
            added = np.setdiff1d(stored, self._table.ids, assume_unique=True)
            loaded = self._load(self._table.changed(self.catalog.chunk_table(added), removed), added)
            with self._snapshot.gen_wlock():
                self._apply(loaded, removed.tolist())
                self._revision = revision
            self._keywords.forget_stale_saved()  # disk work, once searches are free to go on
        if len(removed) and self.cache_dir is not None:
            self._saver.request()

    def _start(self, revision: int) -> None:
        """Load the whole catalog: each structure from its saved copy plus what changed since, or
        built from the catalog when there is none (README, Scale); a large BM25 tier is built by a
        helper process meanwhile (index.keyword_helper), and a token file is written after
        (`_write_tokens_behind`): it is a copy of gigabytes, and the catalog holds the same bytes."""
        table = self.catalog.chunk_table()
        saved = self._trusted_saved_vectors()
        helper = None if self.cache_dir is None or self._keywords.has_saved() else start_keyword_helper(self.catalog, self.cache_dir, table.ids)
        try:
            vectors, vectors_changed = self._start_vectors(table.ids, saved)
            token_file = self._start_tokens(table.ids, revision)
        except BaseException:
            if helper is not None:
                helper.stop()
            raise
        if helper is not None:
            helper.wait()
        self._keywords.start(table.ids)
        with self._snapshot.gen_wlock():
            self._table, self._vectors = table, vectors
            if token_file is None:
                self._tokens.read_from(self.catalog.token_blobs)
            else:
                self._tokens.replace_file(token_file)
            self._revision = revision
        if vectors_changed:
            self.save_cache()
        if token_file is None:
            self._tokens_behind = (table.ids, revision)
            self._token_writer.request()

    def _trusted_saved_vectors(self) -> VectorIndex | None:
        """The saved vector index when the catalog vouches for it. Without one, every saved index
        file goes: a saved BM25 tier that no vector index vouches for is not trusted either."""
        saved = self._saved_vectors()
        if saved is None:
            self._keywords.forget_saved()
            return None
        held = np.fromiter(saved.ids(), dtype=np.int64)
        sample = np.sort(held)[:: max(1, len(held) // AGREEMENT_SAMPLE)][:AGREEMENT_SAMPLE]
        stored = dict(self.catalog.vectors(sample))
        if any(not np.allclose(saved.vector(i), np.frombuffer(v, dtype=np.float32), atol=2e-3) for i, v in stored.items()):
            log.warning("The saved index files in %s do not match the catalog (a catalog made anew?): building them again.", self.cache_dir)
            self.drop_cache()
            return None
        return saved

    def _start_vectors(self, ids: np.ndarray, saved: VectorIndex | None) -> tuple[VectorIndex, bool]:
        """The trusted `saved` vector index brought up to `ids`, or one built for them; and whether it changed."""
        if saved is not None:
            held = np.sort(np.fromiter(saved.ids(), dtype=np.int64))
            added = np.setdiff1d(ids, held)
            if (saved.exact and len(ids) >= EXACT_BELOW) or len(added) > len(held):
                saved = None  # grown past what it was built for: an index chosen for today's size
            else:
                removed = np.setdiff1d(held, ids)
                saved.remove(removed.tolist())
                stored = list(self.catalog.vectors(added))
                if stored:
                    saved.add([i for i, _ in stored], np.vstack([np.frombuffer(v, dtype=np.float32) for _, v in stored]))
                return saved, bool(len(removed) or stored)
        stored = list(self.catalog.vectors(ids))
        if not stored:
            return VectorIndex(self.encoder.dim), False
        matrix = np.vstack([np.frombuffer(v, dtype=np.float32) for _, v in stored])
        return VectorIndex.build([i for i, _ in stored], matrix), True

    def _start_tokens(self, ids: np.ndarray, revision: int) -> TokenFile | None:
        """The token file kept from an earlier start, extended with the chunks it lacks and with
        removed chunks zeroed; else a new one, written now, or behind (None) by a serving process
        at TOKENS_BEHIND_FROM chunks or more. Another process sharing the folder changes it only
        under the same lock, so what is opened here is what is extended."""
        if self.cache_dir is None:
            return TokenFile.write(None, self._tokens.dim, self.catalog.token_blobs(), revision)
        path = self.cache_dir / "tokens.bin"
        try:
            with index_files_lock(self.cache_dir):
                self._remove_dead_token_copies()
                kept = TokenFile.open(path, self._tokens.dim)
                if kept is not None and self._agrees(kept):
                    kept.erase(np.setdiff1d(kept.ids(), ids).tolist())
                    lacking = self.catalog.token_ids(np.setdiff1d(ids, kept.ids()))
                    if not len(lacking):
                        return kept
                    if len(kept) == 0 or lacking[0] > kept.ids()[-1]:  # a chunk given token vectors later goes below: written anew
                        return kept.extend(self.catalog.token_blobs(lacking), revision)
                if len(ids) < TOKENS_BEHIND_FROM or not self._may_write_tokens_behind:
                    return TokenFile.write(path, self._tokens.dim, self.catalog.token_blobs(ids), revision)
        except OSError as error:  # a full disk: serve from an anonymous file instead and say so
            log.error("The token file was not written in %s (%s): using a temporary one.", self.cache_dir, error.strerror or error)
            return TokenFile.write(None, self._tokens.dim, self.catalog.token_blobs(), revision)
        return None

    def _write_tokens_behind(self) -> None:
        """Write the token file of the chunks and revision a first start served, then serve from it.

        It is written under a name of its own without the folder's lock, which a sync or an
        erasure may need meanwhile, and renamed into place under the lock, once the chunks the
        catalog no longer holds are zeroed in it (another process may have erased one meanwhile:
        its `drop_cache` waits for the same lock). Its writer holds a lock on that name, so a copy
        whose writer died is known by its free lock and removed."""
        if self._tokens_behind is None or self.cache_dir is None:
            return
        ids, revision = self._tokens_behind
        staging = self.cache_dir / f"{TOKEN_COPY}{uuid.uuid4().hex}.bin"
        try:
            with FileLock(staging.with_suffix(".lock")):
                written = TokenFile.write(staging, self._tokens.dim, self.catalog.token_blobs(ids), revision)
                with index_files_lock(self.cache_dir):
                    written.erase(np.setdiff1d(written.ids(), self.catalog.chunk_id_array(), assume_unique=True).tolist())
                    written.land(self.cache_dir / "tokens.bin")
        except OSError as error:  # a full disk: serve from an anonymous file instead and say so
            _remove_token_copy(staging)
            log.error("The token file was not written in %s (%s): using a temporary one.", self.cache_dir, error.strerror or error)
            written = TokenFile.write(None, self._tokens.dim, self.catalog.token_blobs(ids), revision)
        finally:
            _remove_token_copy(staging)
        self._tokens.adopt(written)
        self._tokens_behind = None

    def _remove_dead_token_copies(self) -> None:
        """Remove the token copies of writers that died part way (a replica stopped while warming up)."""
        for lock_path in self.cache_dir.glob(f"{TOKEN_COPY}*.lock"):
            try:
                with FileLock(lock_path, timeout=0):
                    _remove_token_copy(lock_path.with_suffix(".bin"))
            except Timeout:
                continue  # its writer is alive

    def wait_for_token_file(self, timeout: float = 60.0) -> None:
        """Block until a token file written behind is served (tests, benchmarks)."""
        self._token_writer.wait(timeout)

    def _agrees(self, kept: TokenFile) -> bool:
        """Whether a sample of the kept file's chunks holds what the catalog holds for them: a
        catalog made anew (its ids start again at 1) must not be served another one's vectors."""
        sample = kept.ids()[:: max(1, len(kept) // AGREEMENT_SAMPLE)][:AGREEMENT_SAMPLE]
        stored = dict(self.catalog.token_blobs(sample))
        return all(bytes(stored[i]) == pack_codes(*kept.get(i)) for i in sample.tolist() if i in stored)

    def _load(self, table: ChunkTable, ids: np.ndarray) -> _Loaded:
        """Read the chunks `ids` and prepare them: vectors stacked, texts tokenised."""
        vectors: list[np.ndarray] = []
        tokens: dict[int, bytes] = {}
        texts: dict[int, str] = {}
        for meta, encoding in self.catalog.chunk_metas(ids.tolist()):
            vectors.append(np.frombuffer(encoding.vector, dtype=np.float32))
            tokens[meta.chunk_id] = encoding.tokens
            texts[meta.chunk_id] = meta.contextual_text
        terms = dict(zip(texts, text_term_ids(list(texts.values())), strict=True))
        return _Loaded(table, list(texts), np.vstack(vectors) if vectors else None, tokens, terms)

    def _apply(self, loaded: _Loaded, removed: list[int]) -> None:
        """Change every structure; the caller holds the write lock."""
        self._vectors.remove(removed)
        self._tokens.remove(removed)
        if loaded.vectors is not None:
            self._vectors.add(loaded.ids, loaded.vectors)
        self._tokens.add(loaded.tokens)
        self._keywords.apply(loaded.terms, removed)
        self._table = loaded.table

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        """The `k` best chunks for `query`, best first, each carrying its fused score."""
        if not query.strip():
            raise SearchError("The query is empty.")
        self.sync()
        encoded = self.encoder.encode([query])
        with self._snapshot.gen_rlock():
            ranked = self._rank(query, max(k, 1), filters or SearchFilters(), "hybrid", encoded)[:k]
            similarities = self._vectors.similarities(encoded.vectors[0], [i for i, _ in ranked])
        metas = {meta.chunk_id: meta for meta, _ in self.catalog.chunk_metas([i for i, _ in ranked], with_tokens=False)}
        # a hit deleted since it was ranked is left out: its text is gone from the catalog
        return [Hit.from_meta(metas[i], score, similarities.get(i)) for i, score in ranked if i in metas]

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
        allowed = None if filters.is_empty() else self._table.allowed(filters)
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
        """Whether the corpus uses any word of `text` at all (for names the corpus has never seen).

        It reads the index as the last search left it: the support gate asks right after searching,
        and a catalog round trip for each name it asks about would cost more than the question."""
        return self._keywords.mentions(text)

    def holds_phrase(self, text: str) -> bool:
        """Whether the corpus has `text`'s words side by side (a name as a name, not its words apart);
        as of the last search, like `mentions`."""
        return self._keywords.holds_phrase(text)

    def meta(self, chunk_id: int) -> ChunkMeta | None:
        self.sync()
        with self._snapshot.gen_rlock():
            served = chunk_id in self._table
        return self.catalog.get_chunk(chunk_id) if served else None

    def save_cache(self) -> bool:
        """Persist the FAISS index, so the next start reads only the vectors added since.

        Each file is replaced atomically, the index before the stamp giving its size, so a save
        that fails part way (a full disk) leaves files that are either the old pair or ignored at the
        next start (the stamp does not agree). The failure is logged and False returned: the
        index is derived data, and this process goes on serving from memory.
        """
        if self.cache_dir is None or self._revision < 0:
            return False
        with index_files_lock(self.cache_dir), self._snapshot.gen_rlock():  # the folder's lock first: a sync never waits on it
            if not np.isin(np.fromiter(self._vectors.ids(), np.int64), self.catalog.chunk_id_array()).all():
                return False  # it still holds a chunk erased since: the sync that removes it saves again
            try:
                self._vectors.save(self.cache_dir / "vectors.faiss")
                write_bytes_atomically(self.cache_dir / "vectors.json", json.dumps({"revision": self._revision, "dim": self._vectors.dim, "chunks": len(self._vectors)}).encode())
            except OSError as error:
                log.error(
                    "The vector index was not saved in %s (%s): the previous index file is kept, and this process goes on serving from memory.",
                    self.cache_dir,
                    error.strerror or error,
                )
                return False
        return True

    def drop_cache(self) -> None:
        """Delete every saved index file, and the copies of writers that died: after an erasure they
        hold vectors and terms that must not outlive it. A copy being written is zeroed where the
        catalog no longer holds a chunk before it lands (`_write_tokens_behind`)."""
        if self.cache_dir is not None:
            with index_files_lock(self.cache_dir):
                self._remove_dead_token_copies()
                for name in ("vectors.faiss", "vectors.json", "tokens.bin", "tokens.index", "tokens.json"):
                    (self.cache_dir / name).unlink(missing_ok=True)
        self._keywords.forget_saved()

    def _saved_vectors(self) -> VectorIndex | None:
        """The persisted FAISS index (written at any revision: a start applies what changed since), else None."""
        if self.cache_dir is None:
            return None
        try:
            saved = json.loads((self.cache_dir / "vectors.json").read_text())
            if saved.get("dim") != self._vectors.dim:
                return None
            index = VectorIndex.load(self.cache_dir / "vectors.faiss")
        except (OSError, ValueError, RuntimeError):
            return None
        return index if saved.get("chunks", len(index)) == len(index) else None


def _remove_token_copy(staging: Path) -> None:
    """A token copy's files: the data (or its temporary file, when its writer died part way), index, stamp and lock."""
    for leftover in staging.parent.glob(f"*{staging.stem}*"):
        leftover.unlink(missing_ok=True)
