"""Keyword retrieval: BM25 over stemmed tokens and their pairs (index.terms), keyed by chunk id.

A replica must not hold every chunk's terms: at 200,000 chunks the term lists alone were gigabytes.
So the main tier keeps only the BM25 matrix, built from the term ids the catalog stores for each
chunk, saved to disk with the chunk ids it covers and memory-mapped at the next start (a query
reads only its terms' columns); the terms of chunks added since it was built are kept in a small
delta tier, and removed chunks are hidden. When the delta grows past FOLD_AT, or a chunk is
removed (an erased reflection must leave the saved matrix too), the main tier is rebuilt in the
background from the catalog's term ids and saved again.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
from scipy import sparse

from index.atomic import fsync_folder_files, index_files_lock, write_bytes_atomically
from index.background import Coalescing
from index.fusion import reciprocal_rank_fusion
from index.table import positions_in
from index.terms import TERM_ID, index_terms, pair_terms, term_ids, text_term_ids, tokenize

# The main tier is rebuilt half a second after the delta outgrows FOLD_AT (or a chunk is
# removed), and while changes keep coming for at most a tenth of the time: a rebuild reads every
# chunk's stored term ids and builds the matrix (about 5 s of one core at 200,000 chunks), while
# new chunks' postings are merged into the delta (`_Postings`) as they come, so they are
# searchable at once either way.
REBUILD_SETTLE_S = 0.5
REBUILD_DUTY = 0.1
FOLD_AT = 2_000
BUILD_BATCH = 5_000  # chunks reduced to their distinct terms at a time while a tier is built
K1, B = 1.5, 0.75  # BM25's term-frequency saturation and length normalisation: bm25s's defaults
POINTER = "bm25.json"
TIER_FORMAT = 2  # 1: bm25s's own files, with every term's string in a JSON vocabulary
TIER_ARRAYS = ("order", "vocab", "indptr", "indices", "data")

# (chunk id, term ids) of the chunks among the given ids that are still stored, by ascending id.
TermSource = Callable[[np.ndarray], Iterable[tuple[int, np.ndarray]]]


@dataclass
class _Tier:
    """One immutable BM25 matrix over a fixed, sorted set of chunk ids (`order`).

    Stored by term, as bm25s stores it (compressed sparse columns): the chunks holding the term
    `vocab[j]` (term ids, ascending) are `indices[indptr[j]:indptr[j + 1]]` (positions in
    `order`), with their BM25 scores in `data` at the same places. A query adds up its terms'
    columns, so it reads only those (the arrays are memory-mapped once saved).
    """

    order: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    vocab: np.ndarray = field(default_factory=lambda: np.empty(0, TERM_ID))
    indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    indices: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    data: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))

    @classmethod
    def build(cls, chunks: Iterable[tuple[int, np.ndarray]]) -> _Tier:
        """The tier over (chunk id, term ids) pairs in ascending id order, streamed.

        bm25s's own index build counts each chunk's terms in Python (about 28 s at 200,000
        chunks); this is the same BM25 (its Lucene variant, k1 1.5, b 0.75; tests compare the
        scores) in whole-array steps: each batch of chunks becomes a sparse chunk-by-term matrix
        of term counts over the batch's own terms (so the full term lists are never held at
        once), the batches are stacked over the terms of them all, scored, and turned by term."""
        order: list[int] = []
        lengths: list[np.ndarray] = []
        batches: list[tuple[np.ndarray, sparse.csr_array]] = []
        stream = iter(chunks)
        while batch := list(islice(stream, BUILD_BATCH)):
            arrays = [ids for _, ids in batch]
            sizes = np.fromiter(map(len, arrays), np.int64, len(arrays))
            flat = np.concatenate(arrays)
            terms, columns = np.unique(flat, return_inverse=True)  # 1.7x quicker than unique then a binary search each, on numpy 2.x
            counts = sparse.csr_array((np.ones(len(columns), np.float32), columns, np.concatenate(([0], np.cumsum(sizes)))), shape=(len(batch), len(terms)))
            counts.sum_duplicates()  # one entry per (chunk, term), holding its count; columns stay sorted
            batches.append((terms, counts))
            order.extend(chunk_id for chunk_id, _ in batch)
            lengths.append(sizes)
        if not order:
            return cls()
        ids_in_order = np.array(order, dtype=np.int64)
        if np.any(np.diff(ids_in_order) <= 0):
            raise ValueError("chunks must come in ascending id order")
        vocab = np.unique(np.concatenate([terms for terms, _ in batches]))
        entries = np.cumsum([0] + [counts.nnz for _, counts in batches])
        matrix = sparse.csr_array(
            (
                np.concatenate([counts.data for _, counts in batches]),
                np.concatenate([np.searchsorted(vocab, terms)[counts.indices] for terms, counts in batches]).astype(np.int32),
                np.concatenate([[0]] + [counts.indptr[1:] + start for (_, counts), start in zip(batches, entries, strict=False)]),
            ),
            shape=(len(order), len(vocab)),
        )
        chunk_length = np.concatenate(lengths).astype(np.float32)
        frequency = np.bincount(matrix.indices, minlength=len(vocab))
        idf = np.log(1 + (len(order) - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
        norm = K1 * ((1 - B) + B * chunk_length / max(float(chunk_length.mean()), 1e-9))
        tf = matrix.data
        matrix.data = (idf[matrix.indices] * tf / (np.repeat(norm, np.diff(matrix.indptr)) + tf)).astype(np.float32)
        by_term = matrix.tocsc()
        by_term.sort_indices()
        return cls(ids_in_order, vocab, by_term.indptr.astype(np.int64), by_term.indices.astype(np.int32), by_term.data)

    def save(self, folder: Path, may_land: Callable[[], bool]) -> str | None:
        """Write the tier to a hidden directory under `folder` (flushed to disk); then, holding the
        folder's lock and only if `may_land()` still says so, rename it into place, point
        `folder/bm25.json` at it atomically and remove older tiers. The directory's name, or None
        when it may not land (it is removed). A failed save leaves the previous tier in use."""
        name = f"bm25-{uuid.uuid4().hex}"
        staging = folder / f".{name}.tmp"  # not matched by "bm25-*": a clean-up never removes a save under way
        staging.mkdir(parents=True)
        try:
            for part in TIER_ARRAYS:
                np.save(staging / f"{part}.npy", getattr(self, part))
            fsync_folder_files(staging)
            with index_files_lock(folder):
                if not may_land():
                    return None
                staging.rename(folder / name)
                pointer = {"directory": name, "chunks": len(self.order), "terms": len(self.vocab), "format": TIER_FORMAT}
                write_bytes_atomically(folder / POINTER, json.dumps(pointer).encode())
                for old in folder.glob("bm25-*"):
                    if old.name != name:
                        shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return name

    @classmethod
    def load(cls, folder: Path, name: str | None = None) -> _Tier | None:
        """The saved tier (the pointer's, or the directory `name`), its matrix memory-mapped;
        None when there is none, it is of an older format or it cannot be read whole."""
        try:
            pointer = json.loads((folder / POINTER).read_text())
            if pointer.get("format") != TIER_FORMAT or (name is not None and pointer.get("directory") != name):
                return None
            target = folder / str(pointer["directory"])
            parts = {part: np.load(target / f"{part}.npy", mmap_mode="r") for part in TIER_ARRAYS}
        except Exception:  # any unreadable or torn file (a power cut, a full disk): build it again
            return None
        tier = cls(**parts)
        tier.order = np.asarray(tier.order, dtype=np.int64)
        whole = (
            len(tier.order) == pointer.get("chunks")
            and len(tier.vocab) == pointer.get("terms")
            and len(tier.indptr) == len(tier.vocab) + 1
            and int(tier.indptr[-1]) == len(tier.indices) == len(tier.data)
        )
        return tier if whole else None

    def _columns(self, terms: np.ndarray) -> np.ndarray:
        """The columns of those of `terms` (term ids) that some chunk of this tier holds."""
        at = np.searchsorted(self.vocab, terms)
        held = at < len(self.vocab)
        held[held] = self.vocab[at[held]] == terms[held]
        return at[held]

    def knows(self, terms: np.ndarray) -> bool:
        """Whether a chunk of this tier holds any of `terms` (term ids)."""
        return bool(len(self._columns(terms)))

    def search(self, query_terms: np.ndarray, k: int, allowed: np.ndarray | None, hidden: np.ndarray) -> list[tuple[int, float]]:
        columns = self._columns(query_terms)  # a term the query repeats counts again, as in bm25s
        if not len(columns):
            return []
        scores = np.zeros(len(self.order), dtype=np.float32)
        for column in columns.tolist():
            start, end = self.indptr[column], self.indptr[column + 1]
            np.add.at(scores, self.indices[start:end], self.data[start:end])  # as bm25s: 2.7x faster than fancy-index += at 1,000,000 chunks
        if allowed is not None:
            admitted = np.zeros(len(scores), dtype=scores.dtype)
            admitted[positions_in(self.order, allowed)] = 1
            scores = scores * admitted
        if len(hidden):
            scores[positions_in(self.order, hidden)] = 0
        k = min(k, len(scores))
        kth = -np.partition(-scores, k - 1)[k - 1]
        top = np.flatnonzero(scores >= kth) if kth > 0 else np.flatnonzero(scores > 0)  # every tie at the k-th score
        top = top[np.argsort(-scores[top], kind="stable")][:k]  # ties in ascending chunk id, as in the delta tier
        return [(int(self.order[p]), float(scores[p])) for p in top]


@dataclass(frozen=True)
class _Postings:
    """The delta tier: the chunks added since the main tier was built, as (term, chunk, count)
    postings sorted by term, with BM25 scored when a query reads its terms' postings.

    A BM25 matrix holds scores, and every score moves with the tier's chunk count and mean length,
    so a delta kept as a matrix was rebuilt whole on each added chunk: 24 ms at 2,000 chunks, held
    under the lock every search takes, and a delta outgrows FOLD_AT while a main rebuild rests.
    Here adding chunks merges their postings in (one sort of two sorted runs) and a query pays a
    binary search and a few slices per term. Scores are the main tier's (tests compare them).
    """

    terms: np.ndarray = field(default_factory=lambda: np.empty(0, TERM_ID))  # ascending
    chunks: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # each posting's chunk id
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))  # the term's count in that chunk
    lengths: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))  # that chunk's length in terms
    held: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # every chunk's id, ascending (one without terms too)
    held_lengths: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))

    @classmethod
    def of(cls, chunks: dict[int, np.ndarray]) -> _Postings:
        """The postings of `chunks` (chunk id -> term ids, repeats counted)."""
        if not chunks:
            return cls()
        ids = np.fromiter(chunks, np.int64, len(chunks))
        sizes = np.fromiter((len(t) for t in chunks.values()), np.int64, len(chunks))
        owners = np.repeat(ids, sizes)
        flat = np.concatenate([np.asarray(t, dtype=TERM_ID) for t in chunks.values()])
        lengths = np.repeat(sizes.astype(np.float32), sizes)
        order = np.lexsort((owners, flat))
        flat, owners, lengths = flat[order], owners[order], lengths[order]
        first = np.ones(len(flat), dtype=bool)
        first[1:] = (flat[1:] != flat[:-1]) | (owners[1:] != owners[:-1])
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, len(flat))).astype(np.float32)
        by_id = np.argsort(ids)
        return cls(flat[starts], owners[starts], counts, lengths[starts], ids[by_id], sizes[by_id].astype(np.float32))

    def merged(self, added: _Postings) -> _Postings:
        """These postings and `added`'s; a chunk both hold keeps `added`'s (chunk ids are never reused,
        but a chunk held twice would be counted twice in every score, silently)."""
        if not len(added.held):
            return self
        kept = self.without(added.held)
        order = np.argsort(np.concatenate([kept.terms, added.terms]), kind="stable")  # two sorted runs: a linear merge
        by_id = np.argsort(np.concatenate([kept.held, added.held]), kind="stable")
        return _Postings(
            *(np.concatenate([getattr(kept, name), getattr(added, name)])[order] for name in ("terms", "chunks", "counts", "lengths")),
            *(np.concatenate([getattr(kept, name), getattr(added, name)])[by_id] for name in ("held", "held_lengths")),
        )

    def without(self, chunk_ids: np.ndarray) -> _Postings:
        """These postings less those of `chunk_ids` (ids this tier does not hold are ignored)."""
        gone = np.isin(self.held, chunk_ids)
        if not gone.any():
            return self
        kept = ~np.isin(self.chunks, self.held[gone])
        return _Postings(self.terms[kept], self.chunks[kept], self.counts[kept], self.lengths[kept], self.held[~gone], self.held_lengths[~gone])

    def knows(self, terms: np.ndarray) -> bool:
        """Whether a chunk of this tier holds any of `terms` (term ids)."""
        at = np.searchsorted(self.terms, terms)
        return bool(np.any(self.terms[np.minimum(at, len(self.terms) - 1)] == terms)) if len(self.terms) else False

    def search(self, query_terms: np.ndarray, k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """As `_Tier.search`: each query term (a repeated one counts again) adds its BM25 score."""
        starts = np.searchsorted(self.terms, query_terms, side="left")
        ends = np.searchsorted(self.terms, query_terms, side="right")
        held = ends > starts
        if not held.any():
            return []
        starts, ends = starts[held], ends[held]
        frequency = ends - starts  # integers, as the main tier counts them: idf then rounds as there, bit for bit
        idf = np.log(1 + (len(self.held) - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
        at = np.concatenate([np.arange(start, end) for start, end in zip(starts.tolist(), ends.tolist(), strict=True)])
        tf = self.counts[at]
        norm = K1 * ((1 - B) + B * self.lengths[at] / max(float(self.held_lengths.mean()), 1e-9))
        scores = (np.repeat(idf, ends - starts) * tf / (norm + tf)).astype(np.float32)
        chunks, slots = np.unique(self.chunks[at], return_inverse=True)
        totals = np.zeros(len(chunks), dtype=np.float32)
        np.add.at(totals, slots, scores)
        if allowed is not None:
            totals[~np.isin(chunks, allowed)] = 0
        top = np.argsort(-totals, kind="stable")[:k]
        return [(int(chunks[p]), float(totals[p])) for p in top if totals[p] > 0]


class KeywordIndex:
    """BM25 over the chunks' contextual text, updated without blocking on a full rebuild.

    A BM25 matrix has no incremental add, and rebuilding the main tier means reading every chunk's
    terms, far too slow for a reflection that must be searchable when its POST returns. So new
    chunks go to the delta tier at once, removed ones are hidden at once, and the main tier is
    rebuilt in a background thread from `source` (module docstring); while a delta exists the two
    tiers' rankings are fused by reciprocal rank. With a `folder`, the main tier is saved there
    and loaded at the next start; `stored` gives the ids the catalog holds, so that no tier holding
    an erased chunk is ever saved. `database` labels the background rebuild (index.background).
    """

    def __init__(
        self, source: TermSource, stored: Callable[[], np.ndarray], folder: Path | None = None, background: bool = True, database: str = ""
    ) -> None:
        self._source = source
        self._stored = stored
        self._folder = folder
        self._background = background
        self._lock = threading.Lock()
        self._main = _Tier()
        self._delta_terms: dict[int, np.ndarray] = {}
        self._delta = _Postings()
        self._hidden = np.empty(0, np.int64)  # sorted ids of the main tier that were removed
        self._removed_since_snapshot: set[int] | None = None
        self._generation = 0  # bumped by every removal from the saved tier: a save begun before must not land
        self._saved_is_stale = False  # a removal hit the saved tier: delete it (outside every lock searches need)
        self._rebuilder = Coalescing(self._rebuild_main, "bm25-rebuild", settle=REBUILD_SETTLE_S, duty=REBUILD_DUTY, database=database)

    def __len__(self) -> int:
        with self._lock:
            return len(self._main.order) - len(self._hidden) + len(self._delta_terms)

    def has_saved(self) -> bool:
        """Whether a main tier of this format was saved (a start loads it rather than building one;
        a torn one is built after all)."""
        if self._folder is None:
            return False
        try:
            return json.loads((self._folder / POINTER).read_text()).get("format") == TIER_FORMAT
        except (OSError, ValueError, AttributeError):
            return False

    def start(self, ids: np.ndarray) -> None:
        """Serve the chunks `ids` (sorted): from the saved main tier plus the difference when one
        was saved, else from a main tier built now (and saved)."""
        main = None if self._folder is None else _Tier.load(self._folder)
        if main is None:
            main = _Tier.build(self._source(ids))
            with self._lock:
                self._main = main
            main = self._saved(main)
        added = np.setdiff1d(ids, main.order, assume_unique=True)
        removed = np.setdiff1d(main.order, ids, assume_unique=True)
        with self._lock:
            self._main, self._delta_terms, self._delta, self._hidden = main, {}, _Postings(), np.empty(0, np.int64)
        self.apply(self._terms_of(added), removed.tolist())

    def _terms_of(self, ids: np.ndarray) -> dict[int, np.ndarray]:
        """The term ids of the chunks among `ids` that are still stored (one may go while it is read)."""
        return dict(self._source(ids)) if len(ids) else {}

    def update(self, added: dict[int, str], removed: list[int]) -> None:
        """Add texts by chunk id and drop removed ids; both take effect, on disk too, before this returns."""
        self.apply(dict(zip(added, text_term_ids(list(added.values())), strict=True)), removed)
        self.forget_stale_saved()

    def apply(self, added: dict[int, np.ndarray], removed: list[int]) -> None:
        """Add new chunks' term ids (index.terms, made before any lock is taken) and drop removed ids.

        Chunk ids are never reused, so an added id is new to both tiers. Searches see the change
        as a whole: the new delta tier and hidden set are swapped in together under the lock. A
        removed chunk that the saved main tier holds marks the saved tier stale: the caller then
        deletes it (`forget_stale_saved`) once it holds no lock a search needs, so an erased
        reflection does not wait on disk for the rebuild.
        """
        if not added and not removed:
            return
        delta = _Postings.of(added)  # the new chunks' postings sorted before the lock; merged under it
        with self._lock:
            gone = np.unique(np.asarray(removed, dtype=np.int64))
            in_main = gone[np.isin(gone, self._main.order)]
            self._hidden = np.union1d(self._hidden, in_main)
            if self._removed_since_snapshot is not None:
                self._removed_since_snapshot.update(gone.tolist())
            dropped = set(gone.tolist())
            self._delta_terms = {i: t for i, t in self._delta_terms.items() if i not in dropped} | added
            if len(in_main):
                self._generation += 1  # no save begun before this removal may land
                self._saved_is_stale = True
            if not self._background:
                self._fold_now()
                return
            self._delta = self._delta.without(gone).merged(delta)
            fold = len(self._delta_terms) > FOLD_AT or len(self._hidden) > 0
        if fold:
            self._rebuilder.request()

    def _fold_now(self) -> None:
        """Rebuild the main tier from the terms at hand (no background: small indexes and tests);
        the caller holds the lock."""
        kept = np.setdiff1d(self._main.order, self._hidden, assume_unique=True)
        self._main = _Tier.build(sorted((self._terms_of(kept) | self._delta_terms).items()))
        self._delta_terms, self._delta, self._hidden = {}, _Postings(), np.empty(0, np.int64)

    def _rebuild_main(self) -> None:
        """Build a new main tier from a snapshot of the ids served, then swap it in: chunks removed
        since the snapshot stay hidden in it, and chunks added since stay in the delta."""
        with self._lock:
            snapshot = np.union1d(np.setdiff1d(self._main.order, self._hidden, assume_unique=True), np.array(sorted(self._delta_terms), dtype=np.int64))
            self._removed_since_snapshot = set()
        try:
            main = _Tier.build(self._source(snapshot))
        except BaseException:
            with self._lock:
                self._removed_since_snapshot = None
            raise
        folded = set(snapshot.tolist())
        with self._lock:
            gone = np.array(sorted(self._removed_since_snapshot or ()), dtype=np.int64)
            self._removed_since_snapshot = None
            self._main = main
            self._hidden = gone[np.isin(gone, main.order)]
            self._delta_terms = {i: t for i, t in self._delta_terms.items() if i not in folded}
            self._delta = self._delta.without(snapshot)
        mapped = self._saved(main)
        with self._lock:
            if self._main is main:
                self._main = mapped

    def _saved(self, main: _Tier) -> _Tier:
        """`main` saved in the folder and mapped back from it (its matrix then lives in the page
        cache, not the heap); `main` itself when there is no folder, the save failed, or it may
        not land: it is empty, no longer served, holds a hidden chunk, a removal came after it
        began, or the catalog no longer holds one of its chunks (checked under the folder's lock,
        so an erasure that another process committed first is seen)."""
        if self._folder is None:
            return main
        if not len(main.order):
            self.forget_saved()
            return main
        with self._lock:
            generation = self._generation

        def may_land() -> bool:
            every_chunk_stored = bool(np.isin(main.order, self._stored()).all())
            with self._lock:
                return every_chunk_stored and self._main is main and len(self._hidden) == 0 and self._generation == generation

        try:
            name = main.save(self._folder, may_land)
        except OSError as error:
            logging.getLogger(__name__).error("The keyword index was not saved in %s (%s): serving from memory.", self._folder, error.strerror or error)
            return main
        return (_Tier.load(self._folder, name) or main) if name else main

    def forget_saved(self) -> None:
        """Delete the saved main tier: after an erasure it holds terms that must not outlive it.
        No save begun before this lands afterwards. Holds the folder's lock, never the index's."""
        with self._lock:
            self._generation += 1
            self._saved_is_stale = True
        self.forget_stale_saved()

    def forget_stale_saved(self) -> None:
        """Delete the saved tier if a removal made it stale; a failure is logged (the next start
        checks the saved tier against the catalog and rebuilds it)."""
        with self._lock:
            stale, self._saved_is_stale = self._saved_is_stale, False
        if not stale or self._folder is None:
            return
        try:
            with index_files_lock(self._folder):
                (self._folder / POINTER).unlink(missing_ok=True)
                for old in self._folder.glob("bm25-*"):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as error:
            logging.getLogger(__name__).error("The saved keyword index in %s was not deleted (%s).", self._folder, error.strerror or error)

    def wait_until_merged(self, timeout: float = 30.0) -> None:
        """Block until the background rebuild has folded the delta into the main tier (benchmarks, tests)."""
        self._rebuilder.wait(timeout)

    def mentions(self, text: str) -> bool:
        """Whether any word of `text` (stemmed) occurs in the indexed passages."""
        with self._lock:
            tiers = (self._main, self._delta)
        words = term_ids(tokenize([text])[0])
        return any(tier.knows(words) for tier in tiers)

    def holds_phrase(self, text: str) -> bool:
        """Whether each adjacent pair of `text`'s words (stemmed) occurs together in some indexed
        passage (the pairs are BM25 terms): "Three Conversations" is no name the corpus knows,
        though it uses both words."""
        tokens = tokenize([text])[0]
        wanted = term_ids(pair_terms(tokens) or tokens)
        with self._lock:
            tiers = (self._main, self._delta)
        return all(any(tier.knows(wanted[i : i + 1]) for tier in tiers) for i in range(len(wanted)))

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best `k` (chunk id, score) pairs with a positive BM25 score, within the sorted `allowed` ids when given."""
        if k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        query_terms = term_ids(index_terms([query])[0])
        with self._lock:
            main, delta, hidden = self._main, self._delta, self._hidden
        main_hits = main.search(query_terms, k, allowed, hidden)
        delta_hits = delta.search(query_terms, k, allowed)
        if not delta_hits:
            return main_hits
        return reciprocal_rank_fusion([main_hits, delta_hits])[:k]
