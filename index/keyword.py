"""Keyword retrieval: BM25 (bm25s) over stemmed tokens, keyed by chunk id."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from itertools import pairwise

import bm25s
import numpy as np
import Stemmer

from index.background import Coalescing
from index.fusion import reciprocal_rank_fusion

_STEMMER = Stemmer.Stemmer("english")
# The main tier is rebuilt half a second after a change, and while reflections keep arriving for
# at most a tenth of the time (a rebuild takes about 0.35 s at 10,000 chunks); until then the
# delta tier holds the new chunks, so they are searchable at once either way.
REBUILD_SETTLE_S = 0.5
REBUILD_DUTY = 0.1
logging.getLogger("bm25s").setLevel(logging.WARNING)


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
    """One immutable BM25 matrix over a fixed set of chunk ids."""

    order: list[int] = field(default_factory=list)
    retriever: bm25s.BM25 | None = None

    @classmethod
    def build(cls, tokens: dict[int, list[str]]) -> _Tier:
        order = sorted(tokens)
        if not order:
            return cls()
        retriever = bm25s.BM25()
        retriever.index([tokens[i] for i in order], show_progress=False)
        return cls(order=order, retriever=retriever)

    def knows(self, term: str) -> bool:
        return self.retriever is not None and term in self.retriever.vocab_dict

    def search(self, query_tokens: list[str], k: int, allowed: set[int] | None, hidden: set[int]) -> list[tuple[int, float]]:
        if self.retriever is None:
            return []
        known = [t for t in query_tokens if t in self.retriever.vocab_dict]
        if not known:
            return []
        # get_scores, not retrieve: retrieve starts a thread pool per call, about 1.5 ms of a 2 ms search
        scores = self.retriever.get_scores(known)
        if allowed is not None or hidden:
            scores = scores * np.array([(allowed is None or i in allowed) and i not in hidden for i in self.order], dtype=scores.dtype)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.order[int(p)], float(scores[p])) for p in top if scores[p] > 0]


class KeywordIndex:
    """BM25 over the chunks' contextual text, updated without blocking on a full rebuild.

    bm25s has no incremental add and rebuilding 10,000 chunks takes about 250 ms, too slow for a
    reflection that must be searchable when its POST returns. So new chunks go to a small delta
    tier at once, removed ones are hidden at once, and the main tier is rebuilt in a background
    thread; while a delta exists the two tiers' rankings are fused by reciprocal rank.
    """

    def __init__(self, background: bool = True) -> None:
        self._background = background
        self._lock = threading.Lock()
        self._tokens: dict[int, list[str]] = {}
        self._main = _Tier()
        self._delta = _Tier()
        self._delta_ids: set[int] = set()
        self._hidden: set[int] = set()
        self._rebuilder = Coalescing(self._rebuild_main, "bm25-rebuild", settle=REBUILD_SETTLE_S, duty=REBUILD_DUTY)

    def __len__(self) -> int:
        return len(self._tokens)

    def update(self, added: dict[int, str], removed: list[int]) -> None:
        """Add texts by chunk id and drop removed ids; both take effect before this returns."""
        self.apply(dict(zip(added, index_terms(list(added.values())), strict=True)), removed)

    def apply(self, added: dict[int, list[str]], removed: list[int]) -> None:
        """Add chunks' `index_terms` (made before any lock is taken) and drop removed ids.

        Searches see the change as a whole: a removed or re-added id is hidden in the main tier
        and the delta tier holds the current terms, both swapped in under the lock.
        """
        with self._lock:
            for chunk_id in removed:
                self._tokens.pop(chunk_id, None)
            self._tokens.update(added)
            if not self._background:
                self._main, self._delta, self._delta_ids, self._hidden = _Tier.build(self._tokens), _Tier(), set(), set()
                return
            # new sets, never changed in place: a search reads the ones it took without copying
            self._hidden = self._hidden.union(removed, added)
            self._delta_ids = self._delta_ids.difference(removed).union(added)
            self._delta = _Tier.build({i: self._tokens[i] for i in self._delta_ids})
        self._rebuilder.request()

    def _rebuild_main(self) -> None:
        """Fold the delta into a new main tier built from a snapshot, keeping later changes as the delta.

        The swap changes no search's result set: chunks removed or replaced since the snapshot
        (their terms are no longer the same list) stay hidden in the new main tier, and chunks
        added or replaced since stay in the delta.
        """
        with self._lock:
            snapshot = dict(self._tokens)
        main = _Tier.build(snapshot)
        with self._lock:
            self._main = main
            self._delta_ids = {i for i, terms in self._tokens.items() if snapshot.get(i) is not terms}
            self._hidden = {i for i, terms in snapshot.items() if self._tokens.get(i) is not terms}
            self._delta = _Tier.build({i: self._tokens[i] for i in self._delta_ids})

    def wait_until_merged(self, timeout: float = 30.0) -> None:
        """Block until the background rebuild has folded every delta into the main tier (benchmarks, tests)."""
        self._rebuilder.wait(timeout)

    def mentions(self, text: str) -> bool:
        """Whether any word of `text` (stemmed) occurs in the indexed passages."""
        with self._lock:
            tiers = (self._main, self._delta)
        return any(tier.knows(term) for term in tokenize([text])[0] for tier in tiers)

    def search(self, query: str, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """Best `k` (chunk id, score) pairs with a positive BM25 score, within `allowed` when given."""
        if k <= 0 or allowed == []:
            return []
        query_tokens = index_terms([query])[0]
        allowed_set = None if allowed is None else set(allowed)
        with self._lock:
            main, delta, hidden = self._main, self._delta, self._hidden
        main_hits = main.search(query_tokens, k, allowed_set, hidden)
        delta_hits = delta.search(query_tokens, k, allowed_set, set())
        if not delta_hits:
            return main_hits
        return reciprocal_rank_fusion([main_hits, delta_hits])[:k]
