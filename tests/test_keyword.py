"""Keyword retrieval: phrases count, new chunks are searchable before the background rebuild, and
the main tier is saved, memory-mapped at the next start and rebuilt without removed chunks."""

import threading
from pathlib import Path

import numpy as np
import pytest

from index import keyword
from index.atomic import index_files_lock
from index.keyword import KeywordIndex

PASSAGES = {
    1: "Total Place pilots mapped public spend.",
    2: "In total, every place counts; the place total grew while total costs in each place fell.",
    3: "Demand-led commissioning draws on systems thinking.",
}


class Store:
    """Stands in for the catalog's texts: what `source` reads, and which ids each read asked for."""

    def __init__(self, texts: dict[int, str]) -> None:
        self.texts = dict(texts)
        self.asked: list[list[int]] = []

    def __call__(self, ids: np.ndarray) -> list[tuple[int, str]]:
        self.asked.append([int(i) for i in ids])
        return [(int(i), self.texts[int(i)]) for i in ids if int(i) in self.texts]

    def ids(self) -> np.ndarray:
        return np.array(sorted(self.texts), dtype=np.int64)


def _started(store: Store, folder: Path | None = None, background: bool = False) -> KeywordIndex:
    index = KeywordIndex(store, store.ids, folder, background=background)
    index.start(store.ids())
    return index


def test_a_passage_holding_the_query_phrase_outranks_one_that_only_repeats_its_words() -> None:
    index = _started(Store(PASSAGES))
    ranked = [chunk_id for chunk_id, _ in index.search("What is Total Place?", 3)]
    assert ranked[:2] == [1, 2]


def test_words_alone_still_match_when_the_phrase_is_absent() -> None:
    index = _started(Store(PASSAGES))
    assert [chunk_id for chunk_id, _ in index.search("commissioning led by demand", 3)] == [3]


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
    assert store.asked[0] == [4]  # the saved main tier covers 1-3; only the new chunk is tokenised
    assert isinstance(_started(Store(PASSAGES), tmp_path)._main.retriever.scores["data"], np.memmap)
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
