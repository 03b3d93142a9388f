"""Keyword retrieval: BM25 (bm25s) over stemmed tokens, keyed by chunk id.

A replica must not hold every chunk's terms: at 200,000 chunks the term lists alone were gigabytes.
So the main tier keeps only bm25s's matrix, saved to disk with the chunk ids it covers and
memory-mapped at the next start (a query reads only its terms' columns); the terms of chunks
added since it was built are kept in a small delta tier, and removed chunks are hidden. When the
delta grows past FOLD_AT, or a chunk is removed (an erased reflection must leave the saved
matrix too), the main tier is rebuilt in the background from the catalog's texts and saved again.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import uuid
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from index.atomic import fsync_folder_files, index_files_lock, write_bytes_atomically
from index.background import Coalescing
from index.fusion import reciprocal_rank_fusion
from index.table import positions_in

_STEMMER = Stemmer.Stemmer("english")
# The main tier is rebuilt half a second after the delta outgrows FOLD_AT (or a chunk is
# removed), and while changes keep coming for at most a tenth of the time: a rebuild reads and
# tokenises every chunk (about 40 s of one core at 50,000 chunks), while a delta of 2,000 chunks
# is rebuilt in about 0.07 s on each change, so new chunks are searchable at once either way.
REBUILD_SETTLE_S = 0.5
REBUILD_DUTY = 0.1
FOLD_AT = 2_000
BUILD_BATCH = 5_000  # texts tokenised at a time while the main tier is built
POINTER = "bm25.json"
logging.getLogger("bm25s").setLevel(logging.WARNING)

# (chunk id, contextual text) of the chunks among the given ids that are still stored, by id.
TextSource = Callable[[np.ndarray], Iterable[tuple[int, str]]]


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens: the one tokenisation for corpus and queries."""
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)


def index_terms(texts: list[str]) -> list[list[str]]:
    """The BM25 terms of each text: its tokens plus each adjacent pair ("total_place", "john_seddon").

    Pairs make BM25 prefer passages that keep a query's phrases together over passages that only
    share its words; on the eval sets they lift keyword MRR@10 most where questions name things.
    """
    return [tokens + [f"{a}_{b}" for a, b in pairwise(tokens)] for tokens in tokenize(texts)]


@dataclass
class _Tier:
    """One immutable BM25 matrix over a fixed, sorted set of chunk ids."""

    order: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    retriever: bm25s.BM25 | None = None

    @classmethod
    def build(cls, terms: dict[int, list[str]]) -> _Tier:
        order = sorted(terms)
        if not order:
            return cls()
        retriever = bm25s.BM25()
        retriever.index([terms[i] for i in order], show_progress=False)
        return cls(order=np.array(order, dtype=np.int64), retriever=retriever)

    @classmethod
    def build_from(cls, ids: np.ndarray, source: TextSource) -> _Tier:
        """A tier over the stored chunks among `ids`, tokenised a batch at a time; only the token
        ids are kept while it is built, never the term strings of every chunk."""
        vocab: dict[str, int] = {}
        order: list[int] = []
        corpus: list[array] = []
        batch: list[tuple[int, str]] = []

        def flush() -> None:
            for (chunk_id, _), terms in zip(batch, index_terms([text for _, text in batch]), strict=True):
                order.append(chunk_id)
                corpus.append(array("i", [vocab.setdefault(term, len(vocab)) for term in terms]))  # 4 bytes a term
            batch.clear()

        for pair in source(ids):
            batch.append(pair)
            if len(batch) == BUILD_BATCH:
                flush()
        flush()
        if not order:
            return cls()
        vocab.setdefault("", len(vocab))  # bm25s scores term-less chunks through the empty token
        ids_in_order = np.array(order, dtype=np.int64)
        if np.any(np.diff(ids_in_order) <= 0):
            raise ValueError("the text source must yield chunks in ascending id order")
        retriever = bm25s.BM25()
        retriever.index((corpus, vocab), show_progress=False)
        return cls(order=ids_in_order, retriever=retriever)

    def save(self, folder: Path, may_land: Callable[[], bool]) -> str | None:
        """Write the tier to a hidden directory under `folder` (flushed to disk); then, holding the
        folder's lock and only if `may_land()` still says so, rename it into place, point
        `folder/bm25.json` at it atomically and remove older tiers. The directory's name, or None
        when it may not land (it is removed). A failed save leaves the previous tier in use."""
        name = f"bm25-{uuid.uuid4().hex}"
        staging = folder / f".{name}.tmp"  # not matched by "bm25-*": a clean-up never removes a save under way
        staging.mkdir(parents=True)
        try:
            self.retriever.save(str(staging), show_progress=False)
            np.save(staging / "order.npy", self.order)
            fsync_folder_files(staging)
            with index_files_lock(folder):
                if not may_land():
                    return None
                staging.rename(folder / name)
                write_bytes_atomically(folder / POINTER, json.dumps({"directory": name, "chunks": len(self.order)}).encode())
                for old in folder.glob("bm25-*"):
                    if old.name != name:
                        shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return name

    @classmethod
    def load(cls, folder: Path, name: str | None = None) -> _Tier | None:
        """The saved tier (the pointer's, or the directory `name`), its matrix memory-mapped;
        None when there is none or it cannot be read whole."""
        try:
            pointer = json.loads((folder / POINTER).read_text())
            if name is not None and pointer.get("directory") != name:
                return None
            target = folder / str(pointer["directory"])
            order = np.load(target / "order.npy")
            retriever = bm25s.BM25.load(str(target), mmap=True, show_progress=False)
            whole = len(order) == pointer.get("chunks") and len(retriever.scores["indptr"]) - 1 == len(retriever.vocab_dict)
        except Exception:  # any unreadable or torn file (a power cut, a full disk): build it again
            return None
        return cls(order=order.astype(np.int64), retriever=retriever) if whole else None

    def knows(self, term: str) -> bool:
        return self.retriever is not None and term in self.retriever.vocab_dict

    def search(self, query_tokens: list[str], k: int, allowed: np.ndarray | None, hidden: np.ndarray) -> list[tuple[int, float]]:
        if self.retriever is None:
            return []
        known = [t for t in query_tokens if t in self.retriever.vocab_dict]
        if not known:
            return []
        # get_scores, not retrieve: retrieve starts a thread pool per call, about 1.5 ms of a 2 ms search
        scores = self.retriever.get_scores(known)
        if allowed is not None:
            admitted = np.zeros(len(scores), dtype=scores.dtype)
            admitted[positions_in(self.order, allowed)] = 1
            scores = scores * admitted
        if len(hidden):
            scores[positions_in(self.order, hidden)] = 0
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.order[p]), float(scores[p])) for p in top if scores[p] > 0]


class KeywordIndex:
    """BM25 over the chunks' contextual text, updated without blocking on a full rebuild.

    bm25s has no incremental add, and rebuilding the main tier means reading and tokenising every
    chunk, far too slow for a reflection that must be searchable when its POST returns. So new
    chunks go to the delta tier at once, removed ones are hidden at once, and the main tier is
    rebuilt in a background thread from `source` (module docstring); while a delta exists the two
    tiers' rankings are fused by reciprocal rank. With a `folder`, the main tier is saved there
    and loaded at the next start; `stored` gives the ids the catalog holds, so that no tier holding
    an erased chunk is ever saved. `database` labels the background rebuild (index.background).
    """

    def __init__(
        self, source: TextSource, stored: Callable[[], np.ndarray], folder: Path | None = None, background: bool = True, database: str = ""
    ) -> None:
        self._source = source
        self._stored = stored
        self._folder = folder
        self._background = background
        self._lock = threading.Lock()
        self._main = _Tier()
        self._delta_terms: dict[int, list[str]] = {}
        self._delta = _Tier()
        self._hidden = np.empty(0, np.int64)  # sorted ids of the main tier that were removed
        self._removed_since_snapshot: set[int] | None = None
        self._generation = 0  # bumped by every removal from the saved tier: a save begun before must not land
        self._saved_is_stale = False  # a removal hit the saved tier: delete it (outside every lock searches need)
        self._rebuilder = Coalescing(self._rebuild_main, "bm25-rebuild", settle=REBUILD_SETTLE_S, duty=REBUILD_DUTY, database=database)

    def __len__(self) -> int:
        with self._lock:
            return len(self._main.order) - len(self._hidden) + len(self._delta_terms)

    def has_saved(self) -> bool:
        """Whether a main tier was saved (a start loads it rather than building one; a torn one is built after all)."""
        return self._folder is not None and (self._folder / POINTER).exists()

    def start(self, ids: np.ndarray) -> None:
        """Serve the chunks `ids` (sorted): from the saved main tier plus the difference when one
        was saved, else from a main tier built now (and saved)."""
        main = None if self._folder is None else _Tier.load(self._folder)
        if main is None:
            main = _Tier.build_from(ids, self._source)
            with self._lock:
                self._main = main
            main = self._saved(main)
        added = np.setdiff1d(ids, main.order, assume_unique=True)
        removed = np.setdiff1d(main.order, ids, assume_unique=True)
        with self._lock:
            self._main, self._delta_terms, self._delta, self._hidden = main, {}, _Tier(), np.empty(0, np.int64)
        self.apply(self._terms_of(added), removed.tolist())

    def _terms_of(self, ids: np.ndarray) -> dict[int, list[str]]:
        """The terms of the chunks among `ids` that are still stored (one may go while it is read)."""
        if not len(ids):
            return {}
        pairs = list(self._source(ids))
        return dict(zip([i for i, _ in pairs], index_terms([text for _, text in pairs]), strict=True))

    def update(self, added: dict[int, str], removed: list[int]) -> None:
        """Add texts by chunk id and drop removed ids; both take effect, on disk too, before this returns."""
        self.apply(dict(zip(added, index_terms(list(added.values())), strict=True)), removed)
        self.forget_stale_saved()

    def apply(self, added: dict[int, list[str]], removed: list[int]) -> None:
        """Add new chunks' `index_terms` (made before any lock is taken) and drop removed ids.

        Chunk ids are never reused, so an added id is new to both tiers. Searches see the change
        as a whole: the new delta tier and hidden set are swapped in together under the lock. A
        removed chunk that the saved main tier holds marks the saved tier stale: the caller then
        deletes it (`forget_stale_saved`) once it holds no lock a search needs, so an erased
        reflection does not wait on disk for the rebuild.
        """
        if not added and not removed:
            return
        delta = _Tier.build(added) if self._background and len(added) > FOLD_AT else None  # a large batch is built before the lock
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
            self._delta = delta if delta is not None and len(self._delta_terms) == len(added) else _Tier.build(self._delta_terms)
            fold = len(self._delta_terms) > FOLD_AT or len(self._hidden) > 0
        if fold:
            self._rebuilder.request()

    def _fold_now(self) -> None:
        """Rebuild the main tier from the terms at hand (no background: small indexes and tests);
        the caller holds the lock."""
        kept = np.setdiff1d(self._main.order, self._hidden, assume_unique=True)
        self._main = _Tier.build(self._terms_of(kept) | self._delta_terms)
        self._delta_terms, self._delta, self._hidden = {}, _Tier(), np.empty(0, np.int64)

    def _rebuild_main(self) -> None:
        """Build a new main tier from a snapshot of the ids served, then swap it in: chunks removed
        since the snapshot stay hidden in it, and chunks added since stay in the delta."""
        with self._lock:
            snapshot = np.union1d(np.setdiff1d(self._main.order, self._hidden, assume_unique=True), np.array(sorted(self._delta_terms), dtype=np.int64))
            self._removed_since_snapshot = set()
        try:
            main = _Tier.build_from(snapshot, self._source)
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
            self._delta = _Tier.build(self._delta_terms)
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
        if main.retriever is None:
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
        return any(tier.knows(term) for term in tokenize([text])[0] for tier in tiers)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best `k` (chunk id, score) pairs with a positive BM25 score, within the sorted `allowed` ids when given."""
        if k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        query_tokens = index_terms([query])[0]
        with self._lock:
            main, delta, hidden = self._main, self._delta, self._hidden
        main_hits = main.search(query_tokens, k, allowed, hidden)
        delta_hits = delta.search(query_tokens, k, allowed, np.empty(0, np.int64))
        if not delta_hits:
            return main_hits
        return reciprocal_rank_fusion([main_hits, delta_hits])[:k]
