"""Keyword retrieval: phrases count, new chunks are searchable before the background rebuild, and
the main tier is saved, memory-mapped at the next start and rebuilt without removed chunks."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import bm25s
import numpy as np
import pytest

from index import keyword
from index.atomic import index_files_lock
from index.keyword import KeywordIndex
from index.terms import index_terms, term_ids, text_term_ids

PASSAGES = {
    1: "Total Place pilots mapped public spend.",
    2: "In total, every place counts; the place total grew while total costs in each place fell.",
    3: "Demand-led commissioning draws on systems thinking.",
}


class Store:
    """Stands in for the catalog's term ids (made from its texts): what `source` reads, and which ids each read asked for."""

    def __init__(self, texts: dict[int, str]) -> None:
        self.texts = dict(texts)
        self.asked: list[list[int]] = []

    def __call__(self, ids: np.ndarray) -> list[tuple[int, np.ndarray]]:
        self.asked.append([int(i) for i in ids])
        held = [int(i) for i in ids if int(i) in self.texts]
        return list(zip(held, text_term_ids([self.texts[i] for i in held]), strict=True))

    def ids(self) -> np.ndarray:
        return np.array(sorted(self.texts), dtype=np.int64)


def _started(store: Store, folder: Path | None = None, background: bool = False) -> KeywordIndex:
    index = KeywordIndex(store, store.ids, folder, background=background)
    index.start(store.ids())
    return index


def test_a_tier_saved_in_an_older_format_is_built_again(tmp_path: Path) -> None:
    """A folder from before this format (bm25s's own files) is not loaded, nor taken for a saved tier."""
    (tmp_path / "bm25-old").mkdir()
    (tmp_path / keyword.POINTER).write_text('{"directory": "bm25-old", "chunks": 3}')
    index = KeywordIndex(Store(PASSAGES), Store(PASSAGES).ids, tmp_path, background=False)
    assert not index.has_saved()
    index.start(Store(PASSAGES).ids())
    assert index.has_saved() and not (tmp_path / "bm25-old").exists() and index.search("total place", 1)[0][0] == 1


def test_a_passage_holding_the_query_phrase_outranks_one_that_only_repeats_its_words() -> None:
    index = _started(Store(PASSAGES))
    ranked = [chunk_id for chunk_id, _ in index.search("What is Total Place?", 3)]
    assert ranked[:2] == [1, 2]


def test_words_alone_still_match_when_the_phrase_is_absent() -> None:
    index = _started(Store(PASSAGES))
    assert [chunk_id for chunk_id, _ in index.search("commissioning led by demand", 3)] == [3]


def test_a_name_is_held_only_when_its_words_stand_together_somewhere() -> None:
    index = _started(Store(PASSAGES))
    assert index.holds_phrase("Total Place") and index.holds_phrase("Systems Thinking") and index.holds_phrase("Demand")
    assert index.mentions("Place Thinking") and not index.holds_phrase("Place Thinking")  # both words, never side by side
    added = {**PASSAGES, 4: "The Three Conversations model began in Leeds."}
    grown = _started(Store(PASSAGES))
    grown.update({4: added[4]}, [])
    assert grown.holds_phrase("Three Conversations")  # a chunk just added (the delta tier) counts at once


def test_added_passages_are_found_at_once_and_removed_ones_vanish(tmp_path: Path) -> None:
    store = Store(PASSAGES)
    index = _started(store, tmp_path, background=True)
    store.texts[4] = "A reflection about Total Place in Gateshead."
    del store.texts[1]
    index.update({4: store.texts[4]}, [1])
    found = {chunk_id for chunk_id, _ in index.search("Total Place Gateshead", 5)}
    assert 4 in found and 1 not in found
    index.wait_until_merged()  # a removal folds the delta into a new main tier, read from the store
    assert {chunk_id for chunk_id, _ in index.search("Total Place Gateshead", 5)} == found
    assert len(index) == 3 and store.asked[-1] == [2, 3, 4]


def test_a_start_maps_the_saved_tier_and_reads_only_what_changed_since(tmp_path: Path) -> None:
    store = Store(PASSAGES)
    first = _started(store, tmp_path)
    expected = first.search("total place spend", 3)
    store.texts[4] = "Gateshead mapped total place spend again."
    del store.texts[3]
    store.asked.clear()
    second = _started(store, tmp_path)
    assert store.asked[0] == [4]  # the saved main tier covers 1-3; only the new chunk is read
    assert isinstance(_started(Store(PASSAGES), tmp_path)._main.data, np.memmap)
    assert second.search("demand-led commissioning", 3) == []  # removed since the save
    assert 4 in {i for i, _ in second.search("total place spend", 3)}
    assert [i for i, _ in second.search("total place spend", 3) if i != 4] == [i for i, _ in expected][:2]


def test_a_removed_chunk_leaves_the_saved_tier_once_it_is_rebuilt(tmp_path: Path) -> None:
    store = Store(PASSAGES | {4: "Codeword zebrafish appears only here."})
    index = _started(store, tmp_path, background=True)
    del store.texts[4]
    index.update({}, [4])
    index.wait_until_merged()
    fresh = _started(Store(store.texts), tmp_path)
    assert not fresh.mentions("zebrafish") and not any("zebrafish" in p.read_text(errors="ignore") for p in tmp_path.rglob("*.json"))


def test_the_delta_is_folded_once_it_outgrows_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword, "FOLD_AT", 2)
    store = Store(PASSAGES)
    index = _started(store, tmp_path, background=True)
    for chunk_id in (4, 5, 6):
        store.texts[chunk_id] = f"Reflection {chunk_id} on place based budgets."
        index.update({chunk_id: store.texts[chunk_id]}, [])
    index.wait_until_merged()
    assert list(index._main.order) == [1, 2, 3, 4, 5, 6] and not index._delta_terms
    assert {i for i, _ in index.search("place based budgets", 6)} >= {4, 5, 6}


def test_removing_every_chunk_leaves_nothing_to_find_now_or_after_a_restart(tmp_path: Path) -> None:
    store = Store(PASSAGES)
    index = _started(store, tmp_path, background=True)
    store.texts.clear()
    index.update({}, [1, 2, 3])
    index.wait_until_merged()
    assert index.search("total place", 3) == [] and not index.mentions("commissioning")
    restarted = _started(store, tmp_path)
    assert restarted.search("total place", 3) == [] and not restarted.mentions("commissioning")


def test_a_removal_takes_the_saved_tier_with_it_at_once(tmp_path: Path) -> None:
    store = Store(PASSAGES)
    index = _started(store, tmp_path, background=True)
    assert (tmp_path / keyword.POINTER).exists()
    del store.texts[3]
    index.update({}, [3])  # before any rebuild: the tier on disk still held chunk 3's terms
    assert not (tmp_path / keyword.POINTER).exists() and not list(tmp_path.glob("bm25-*"))
    index.wait_until_merged()
    assert (tmp_path / keyword.POINTER).exists() and _started(Store(store.texts), tmp_path).search("demand-led commissioning", 3) == []


def test_a_save_overtaken_by_an_erasure_does_not_land(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(PASSAGES)
    index = _started(store, tmp_path, background=True)
    real_flush = keyword.fsync_folder_files

    def erasure_arrives_mid_save(folder: Path) -> None:
        real_flush(folder)
        index.forget_saved()  # what an erasure does while the tier is being written

    monkeypatch.setattr(keyword, "fsync_folder_files", erasure_arrives_mid_save)
    assert index._saved(index._main) is index._main
    assert not (tmp_path / keyword.POINTER).exists() and not list(tmp_path.glob("bm25-*"))


def test_a_removal_never_waits_on_another_process_holding_the_index_folder(tmp_path: Path) -> None:
    store = Store(PASSAGES)
    index = _started(store, tmp_path, background=True)
    del store.texts[3]
    with index_files_lock(tmp_path):  # another process saving or extending its files
        done = threading.Event()
        removing = threading.Thread(target=lambda: (index.apply({}, [3]), done.set()))
        removing.start()
        assert done.wait(10), "the removal waited on the folder's lock"
        assert index.search("demand-led commissioning", 3) == []
    index.forget_stale_saved()
    assert not (tmp_path / keyword.POINTER).exists()
    index.wait_until_merged()


def test_a_tier_holding_a_chunk_the_catalog_no_longer_holds_is_never_saved(tmp_path: Path) -> None:
    store = Store(PASSAGES)
    index = KeywordIndex(store, lambda: np.array([1, 2], dtype=np.int64), tmp_path, background=False)  # chunk 3 erased by another process
    index.start(store.ids())
    assert not (tmp_path / keyword.POINTER).exists() and not list(tmp_path.glob("*bm25*"))


def test_the_tier_scores_every_chunk_as_bm25s_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tier's matrix is built in whole-array steps rather than by bm25s's per-chunk loop; every
    chunk's score for every query is bm25s's own (its default Lucene BM25), repeats and all, with
    the chunks read in several batches that share terms."""
    monkeypatch.setattr(keyword, "BUILD_BATCH", 2)
    texts = [
        *PASSAGES.values(),
        "",
        "Systems leadership: leaders of systems lead systems, not organisations; systems change slowly.",
        "Human Learning Systems ask commissioners to fund learning, not outputs, and to trust frontline staff.",
    ]
    terms = index_terms(texts)
    oracle = bm25s.BM25()  # its defaults: Lucene's BM25, k1 1.5, b 0.75
    oracle.index(terms, show_progress=False)
    tier = keyword._Tier.build(zip(range(10, 10 + len(texts)), (term_ids(t) for t in terms), strict=True))
    for query in ("total place", "systems leadership systems", "commissioners trust frontline staff", "absent words"):
        asked = index_terms([query])[0]
        known = [t for t in asked if t in oracle.vocab_dict]
        expected = oracle.get_scores(known) if known else np.zeros(len(texts))
        got = dict(tier.search(term_ids(asked), len(texts), None, np.empty(0, np.int64)))
        assert np.allclose([got.get(10 + n, 0.0) for n in range(len(texts))], expected, rtol=1e-5, atol=1e-7)
        assert (len(got) > 0) == bool(known)



def test_the_delta_scores_as_a_tier_built_over_the_same_chunks_however_they_came() -> None:
    """Chunks added after the main tier are merged into the delta a batch at a time, and removed
    ones cut out; its scores are always those of a tier built at once over what it holds (whose
    scores are bm25s's, above), with ties in ascending chunk id as there."""
    texts = [
        *PASSAGES.values(),
        "",
        "Systems leadership: leaders of systems lead systems, not organisations; systems change slowly.",
        "Human Learning Systems ask commissioners to fund learning, not outputs, and to trust frontline staff.",
        "Total Place pilots pooled budgets across a place; commissioners shared outcomes.",
    ]
    chunks = {10 + n: term_ids(terms) for n, terms in enumerate(index_terms(texts))}
    ids = sorted(chunks)
    delta = keyword._Postings.of({i: chunks[i] for i in ids[:3]})
    delta = delta.merged(keyword._Postings.of({i: chunks[i] for i in ids[3:5]})).merged(keyword._Postings.of({i: chunks[i] for i in ids[5:]}))
    gone = [11, 10 + texts.index("")]  # a chunk without terms counts in BM25's chunk count and mean length too
    for held in (ids, [i for i in ids if i not in gone]):
        if held is not ids:
            delta = delta.without(np.array([*gone, 999]))
        tier = keyword._Tier.build((i, chunks[i]) for i in held)
        for query in ("total place", "systems leadership systems", "commissioners trust frontline staff", "absent words", "place"):
            asked = term_ids(index_terms([query])[0])
            for allowed in (None, np.array(held[::2], dtype=np.int64)):
                want = tier.search(asked, 20, allowed, np.empty(0, np.int64))
                got = delta.search(asked, 20, allowed)
                assert got == want  # ids, order and scores, bit for bit
            assert delta.knows(asked) == tier.knows(asked)
    assert keyword._Postings().search(term_ids(["place"]), 5, None) == [] and not keyword._Postings().knows(term_ids(["place"]))
    again = delta.merged(keyword._Postings.of({ids[0]: chunks[ids[0]]}))  # a chunk it already holds: counted once
    assert again.search(term_ids(index_terms(["systems place"])[0]), 20, None) == delta.search(term_ids(index_terms(["systems place"])[0]), 20, None)


def test_tied_chunks_at_the_k_th_place_are_taken_in_ascending_id() -> None:
    """Chunks with the same text score the same: the main tier takes the lowest ids among them, as the
    delta does, whichever of them a partial sort happened to leave at the boundary."""
    same = term_ids(index_terms(["pooled budgets across a place"])[0])
    other = term_ids(index_terms(["a place apart"])[0])
    chunks = [(i, other if i % 7 == 0 else same) for i in range(1, 60)]
    tier = keyword._Tier.build(chunks)
    delta = keyword._Postings.of(dict(chunks))
    query = term_ids(index_terms(["pooled budgets"])[0])
    expected = [i for i in range(1, 60) if i % 7][:5]
    assert [i for i, _ in tier.search(query, 5, None, np.empty(0, np.int64))] == expected
    assert [i for i, _ in delta.search(query, 5, None)] == expected

def test_term_ids_are_those_the_catalog_stored_in_an_earlier_version() -> None:
    """The catalog keeps every chunk's term ids for good: a tokeniser or stemmer release that
    tokenised differently would silently part queries from stored chunks, so the ids of a fixed
    text are pinned here (a change needs a migration that stores every chunk's ids again)."""
    text = "Commissioners' Total Place pilots, and the commissioning of care."
    assert index_terms([text])[0] == [
        *("commission", "total", "place", "pilot", "commiss", "care"),
        *("commission_total", "total_place", "place_pilot", "pilot_commiss", "commiss_care"),
    ]
    assert text_term_ids([text])[0][:2].tolist() == [8139147125273340246, 8898708892329799160]


def test_term_ids_are_the_same_in_every_process() -> None:
    """The catalog stores them once for every replica: they cannot depend on Python's salted hash()."""
    script = "from index.terms import term_ids; print(term_ids(['total_place', 'commiss']).tolist())"
    runs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert runs == {f"{term_ids(['total_place', 'commiss']).tolist()}\n"}
