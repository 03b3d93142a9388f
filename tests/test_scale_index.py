"""Memory that fits a million chunks: the dense index chosen by size keeps recall, and token vectors
are served from a memory-mapped file that a restart at the same revision reuses."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import faiss
import numpy as np
import pytest
from filelock import FileLock
from sqlalchemy import make_url

from index import Searcher, SearchFilters, keyword_helper, search
from index.keyword import _Tier
from index.late import TokenFile, TokenIndex, pack_tokens, unpack_tokens
from index.search import AGREEMENT_SAMPLE
from index.vectors import EXACT_BELOW, VectorIndex, probes
from tests.conftest import FakeEmbedder, add_passage, passage_catalog

DIM = 384


def _clustered(rng: np.random.Generator, count: int, centres: np.ndarray) -> np.ndarray:
    """Normalised points around random centres: the shape of embeddings of many topics."""
    picked = centres[rng.integers(len(centres), size=count)]
    points = picked + rng.normal(size=(count, DIM)).astype(np.float32) * (0.8 / np.sqrt(DIM))
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_approximate_index_above_the_threshold_keeps_recall_at_10_against_exact_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(15)
    centres = rng.normal(size=(200, DIM)).astype(np.float32)
    vectors = _clustered(rng, 2 * EXACT_BELOW, centres)
    ids = list(range(1000, 1000 + len(vectors)))
    index = VectorIndex.build(ids, vectors)
    assert not index.exact and len(index) == len(ids)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    queries = _clustered(rng, 100, centres)
    _, truth = exact.search(queries, 10)
    found = sum(len({i for i, _ in index.search(q, 10)} & {ids[t] for t in row}) for q, row in zip(queries, truth, strict=True))
    assert found / 1000 >= 0.95

    allowed = ids[:50]
    assert {i for i, _ in index.search(queries[0], 10, allowed)} <= set(allowed)
    index.remove(ids[:10])
    assert not {i for i, _ in index.search(vectors[0], 10)} & set(ids[:10]) and len(index) == len(ids) - 10
    similarities = index.similarities(queries[0], ids[10:13])
    assert similarities == pytest.approx({i: float(vectors[i - 1000] @ queries[0]) for i in ids[10:13]}, abs=1e-3)

    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss")
    assert loaded.ids() == set(ids[10:]) and loaded.search(queries[1], 10) == index.search(queries[1], 10)
    index._index.nprobe = 1  # a file saved by a version that probed fewer lists
    index.save(tmp_path / "older.faiss")
    assert VectorIndex.load(tmp_path / "older.faiss")._index.nprobe == probes(index._index.nlist) > 1


def test_small_catalogs_stay_exact() -> None:
    vectors = _clustered(np.random.default_rng(1), 50, np.eye(DIM, dtype=np.float32)[:5])
    index = VectorIndex.build(list(range(50)), vectors)
    assert index.exact
    assert index.search(vectors[7], 1)[0][0] == 7


def _tokens(rng: np.random.Generator, count: int) -> np.ndarray:
    matrix = rng.normal(size=(count, DIM)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_token_file_is_memory_mapped_reopened_extended_and_refused_when_torn(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    blobs = {i: pack_tokens(_tokens(rng, 5 + i)) for i in (3, 8, 20, 25, 30)}
    path = tmp_path / "tokens.bin"
    written = TokenFile.write(path, DIM, [(3, blobs[3]), (5, b""), (8, blobs[8]), (20, blobs[20])], revision=7)
    assert isinstance(written._data, np.memmap) and len(written) == 3 and written.get(5) is None
    with path.open("ab") as stream:
        stream.write(b"\1" * 11)  # the tail of an append that failed before its index was written
    reopened = TokenFile.open(path, DIM)
    assert reopened is not None
    for i in (3, 8, 20):
        assert [a.tobytes() for a in reopened.get(i)] == [a.tobytes() for a in unpack_tokens(blobs[i], DIM)]
    extended = reopened.extend([(25, blobs[25]), (30, blobs[30])], revision=9)
    assert path.stat().st_size == sum(len(blobs[i]) for i in blobs)  # the failed tail was cut, not kept
    again = TokenFile.open(path, DIM)
    assert again is not None and list(again.ids()) == [3, 8, 20, 25, 30]
    for i, blob in blobs.items():
        assert [a.tobytes() for a in again.get(i)] == [a.tobytes() for a in unpack_tokens(blob, DIM)]
    with pytest.raises(ValueError, match="ascending"):
        extended.extend([(21, blobs[3])], revision=10)
    assert TokenFile.open(path, DIM + 1) is None  # another model's vectors
    stamp = json.loads((tmp_path / "tokens.json").read_text())
    (tmp_path / "tokens.json").write_text(json.dumps({k: v for k, v in stamp.items() if k != "format"}))
    assert TokenFile.open(path, DIM) is None  # written before 4-bit codes (int8): its blobs would be misread
    (tmp_path / "tokens.json").write_text(json.dumps(stamp))
    assert TokenFile.open(path, DIM) is not None
    (tmp_path / "tokens.index").write_bytes(b"\1" * 13)  # a torn offsets file
    assert TokenFile.open(path, DIM) is None

    index = TokenIndex(DIM)
    index.replace_file(written)
    index.add({21: blobs[3]})
    index.remove([8])
    assert sorted(i for i, _ in index.rank(_tokens(rng, 3), [3, 8, 20, 21])) == [3, 20, 21]
    anonymous = TokenFile.write(None, DIM, [(3, blobs[3])], revision=1)
    assert anonymous.path is None and anonymous.get(3) is not None and not list(tmp_path.glob("learnloop-tokens-*"))


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="posix_fadvise is Linux's and the BSDs'")
def test_a_ranking_asks_for_all_its_candidates_token_vectors_from_the_file_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    blobs = {i: pack_tokens(_tokens(rng, 3 + i)) for i in (2, 4, 6, 8)}
    token_file = TokenFile.write(tmp_path / "tokens.bin", DIM, sorted(blobs.items()), revision=1)
    index = TokenIndex(DIM)
    index.replace_file(token_file)
    index.add({9: pack_tokens(_tokens(rng, 2))})  # in memory: nothing to read
    index.remove([6])  # hidden: not read
    asked: list[tuple[int, int]] = []
    real_fadvise = os.posix_fadvise

    def recorded(fd: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_WILLNEED
        asked.append((offset, length))
        real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", recorded)
    ranked = index.rank(_tokens(rng, 2), [8, 2, 6, 9, 77])
    spans = {i: (sum(len(blobs[j]) for j in blobs if j < i), len(blobs[i])) for i in blobs}
    assert sorted(asked) == sorted([spans[8], spans[2]])  # each once; none for memory, hidden or unknown ids
    assert sorted(i for i, _ in ranked) == [2, 8, 9]


def test_a_restart_maps_the_token_file_instead_of_reading_token_vectors_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["Outcomes based commissioning needs trust", "Commissioning cycles and procurement rules", "Trust grows through shared outcomes work"]
    catalog = passage_catalog(tmp_path, texts)
    first = Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index", background_keyword=False)
    first.sync()
    first.wait_for_token_file()
    expected = first.rank("trust in outcomes commissioning", 3, SearchFilters(), mode="late")
    assert (tmp_path / "index" / "tokens.bin").stat().st_size == sum(len(b) for _, b in catalog.token_blobs())

    read = catalog.token_blobs

    def sampled_only(ids: np.ndarray | None = None):  # noqa: ANN202 - wraps the catalog's reader
        assert ids is not None and len(ids) <= AGREEMENT_SAMPLE, "token vectors read from the catalog again"
        return read(ids)

    monkeypatch.setattr(catalog, "token_blobs", sampled_only)
    second = Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index", background_keyword=False)
    second.sync()
    assert second.rank("trust in outcomes commissioning", 3, SearchFilters(), mode="late") == expected

    first_span = (second._tokens._file._offsets[0], second._tokens._file._offsets[1])
    catalog.delete_document("0.md")  # later changes: the delta and the hidden set
    body = "Outcomes commissioning with trust, again"
    add_passage(catalog, 3, body)
    late = second.rank("trust in outcomes commissioning", 3, SearchFilters(), mode="late")
    assert [second.meta(i).text for i, _ in late][0] == body and texts[0] not in [second.meta(i).text for i, _ in late]
    on_disk = (tmp_path / "index" / "tokens.bin").read_bytes()
    assert not any(on_disk[slice(*first_span)]) and any(on_disk[first_span[1] :])  # the deleted chunk's vectors are zeroed
    second.drop_cache()
    assert not list((tmp_path / "index").glob("tokens*"))


def test_a_first_start_serves_from_the_catalog_while_its_token_file_is_written_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token file is a copy of gigabytes at scale: a serving first start serves before it is
    written, ranking each query's candidates by the catalog's own token vectors, then maps the
    file; a chunk erased while the file was written (here by another process: this one has not
    caught up yet) is zeroed in it before it lands under its name."""
    texts = ["Outcomes based commissioning needs trust", "Commissioning cycles and procurement rules", "Trust grows through shared outcomes work"]
    catalog = passage_catalog(tmp_path, texts)
    expected = Searcher(catalog, FakeEmbedder()).rank("trust in outcomes commissioning", 3, SearchFilters(), mode="late")
    read, whole, written = catalog.token_blobs, threading.Event(), threading.Event()

    def held_back(ids: np.ndarray | None = None):  # noqa: ANN202 - wraps the catalog's reader
        yield from read(ids)
        if threading.current_thread().name == "tokens-write":  # the file's copy of every chunk: held until the test lets it end
            whole.set()
            assert written.wait(30)

    monkeypatch.setattr(catalog, "token_blobs", held_back)
    monkeypatch.setattr(search, "TOKENS_BEHIND_FROM", 1)
    searcher = Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index", background_keyword=False, tokens_behind=True)
    searcher.sync()
    assert whole.wait(30) and not (tmp_path / "index" / "tokens.bin").exists()
    assert searcher.rank("trust in outcomes commissioning", 3, SearchFilters(), mode="late") == expected
    catalog.erase_document(searcher.meta(expected[0][0]).source)
    written.set()
    searcher.wait_for_token_file()
    token_file = searcher._tokens._file
    assert token_file.path == tmp_path / "index" / "tokens.bin" and len(token_file) == len(texts)
    at = int(np.searchsorted(token_file.ids(), expected[0][0]))
    erased_span = slice(int(token_file._offsets[at]), int(token_file._offsets[at + 1]))
    assert erased_span.stop > erased_span.start and not any((tmp_path / "index" / "tokens.bin").read_bytes()[erased_span])  # zeros on disk
    searcher.sync()
    assert searcher.rank("trust in outcomes commissioning", 3, SearchFilters(), mode="late") == expected[1:]
    assert not list((tmp_path / "index").glob(".tokens*"))


def test_a_token_copy_whose_writer_died_is_removed_and_a_live_one_is_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A replica stopped while warming up leaves gigabytes half written: the next writer removes
    them, knowing them by their free lock, and leaves alone a copy another process is writing."""
    folder = tmp_path / "index"
    folder.mkdir()
    dead = [folder / ".tokens-copy-dead.lock", folder / ".tokens-copy-dead.bin", folder / "..tokens-copy-dead.bin.x1y2.tmp"]
    live = [folder / ".tokens-copy-live.lock", folder / "..tokens-copy-live.bin.z3.tmp"]
    for path in dead + live:
        path.write_bytes(b"\0" * 64)
    monkeypatch.setattr(search, "TOKENS_BEHIND_FROM", 1)
    with FileLock(live[0]):
        searcher = Searcher(passage_catalog(tmp_path, ["Outcomes based commissioning needs trust"]), FakeEmbedder(), cache_dir=folder, tokens_behind=True)
        searcher.sync()
        searcher.wait_for_token_file()
        assert (folder / "tokens.bin").exists() and not any(path.exists() for path in dead) and all(path.exists() for path in live)
    assert not list(folder.glob(".tokens-copy-*.bin"))  # this writer's own copy landed


def test_a_command_that_ends_soon_after_writes_its_token_file_before_it_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a serving process writes behind: `learnloop ingest` or `eval` would end, and kill the
    writer, before gigabytes were down."""
    monkeypatch.setattr(search, "TOKENS_BEHIND_FROM", 1)
    searcher = Searcher(passage_catalog(tmp_path, ["Outcomes based commissioning needs trust"]), FakeEmbedder(), cache_dir=tmp_path / "index")
    searcher.sync()
    assert searcher._tokens._file.path == tmp_path / "index" / "tokens.bin" and searcher._tokens_behind is None


def test_a_start_after_the_catalog_moved_reads_only_the_chunks_added_since(tmp_path: Path) -> None:
    texts = ["Outcomes based commissioning needs trust", "Commissioning cycles and procurement rules"]
    catalog = passage_catalog(tmp_path, texts)
    Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index", background_keyword=False).sync()
    body = "Gateshead learning logs on trust"
    add_passage(catalog, 2, body, source_type="reflection")
    new_id = max(catalog.chunk_ids())
    asked: dict[str, list[int]] = {}
    for name in ("vectors", "token_blobs", "term_ids"):
        read = getattr(catalog, name)

        def recording(ids: np.ndarray | None = None, name: str = name, read=read):  # noqa: ANN202 - wraps the catalog's reader
            asked.setdefault(name, []).extend([] if ids is None else [int(i) for i in ids])
            assert ids is not None, f"{name} read the whole catalog"
            return read(ids)

        setattr(catalog, name, recording)
    restarted = Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index")
    hits = restarted.search("trust", 5)
    assert asked["term_ids"] == [new_id]  # BM25: the saved tier plus the new chunk
    for name in ("vectors", "token_blobs"):  # a sample checked against the catalog, and the new chunk
        assert new_id in asked[name] and len(asked[name]) <= AGREEMENT_SAMPLE + 1
    assert {h.text for h in hits} == {body, *texts}
    assert len(restarted) == 3 and [h.text for h in restarted.search("Gateshead", 1, SearchFilters(source_type="reflection"))] == [body]


def test_a_token_stamp_never_vouches_for_a_data_file_written_after_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    path = tmp_path / "tokens.bin"
    TokenFile.write(path, DIM, [(1, pack_tokens(_tokens(rng, 4))), (2, pack_tokens(_tokens(rng, 6)))], revision=1)
    index, stamp = (tmp_path / "tokens.index").read_bytes(), (tmp_path / "tokens.json").read_bytes()
    TokenFile.write(path, DIM, [(1, pack_tokens(_tokens(rng, 9))), (2, pack_tokens(_tokens(rng, 2)))], revision=2)
    (tmp_path / "tokens.index").write_bytes(index)  # a crash between the new data and its index
    (tmp_path / "tokens.json").write_bytes(stamp)
    assert TokenFile.open(path, DIM) is None


def test_index_files_of_another_catalog_are_not_trusted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = passage_catalog(tmp_path / "first", ["Outcomes based commissioning needs trust", "Commissioning cycles and procurement rules"])
    Searcher(first, FakeEmbedder(), cache_dir=tmp_path / "index").sync()
    second = passage_catalog(tmp_path / "second", ["Peer mentors walk beside rough sleepers", "Asset based community development in Leeds"])
    searcher = Searcher(second, FakeEmbedder(), cache_dir=tmp_path / "index")  # the same ids, other passages
    assert [h.text for h in searcher.search("peer mentors rough sleepers", 1)] == ["Peer mentors walk beside rough sleepers"]
    assert "do not match the catalog" in caplog.text
    assert [searcher.meta(i).text for i, _ in searcher.rank("community development", 1, SearchFilters(), mode="late")] == ["Asset based community development in Leeds"]
    assert [i for i, _ in searcher.rank("commissioning procurement", 2, SearchFilters(), mode="keyword")] == []


def test_a_chunk_without_token_vectors_does_not_make_every_start_rewrite_the_token_file(tmp_path: Path) -> None:
    catalog = passage_catalog(tmp_path, ["Outcomes based commissioning needs trust", "Commissioning cycles and procurement rules"])
    with catalog.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM chunktokens WHERE chunk_id = (SELECT MAX(chunk_id) FROM chunktokens)")
    first = Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index")
    first.sync()
    first.wait_for_token_file()
    written = (tmp_path / "index" / "tokens.bin").stat().st_ino
    Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index").sync()
    assert (tmp_path / "index" / "tokens.bin").stat().st_ino == written


def test_a_saved_keyword_index_without_a_vector_index_to_vouch_for_it_is_not_trusted(tmp_path: Path) -> None:
    first = passage_catalog(tmp_path / "first", ["Outcomes based commissioning needs trust", "Commissioning cycles and procurement rules"])
    Searcher(first, FakeEmbedder(), cache_dir=tmp_path / "index").sync()
    (tmp_path / "index" / "vectors.json").unlink()
    second = passage_catalog(tmp_path / "second", ["Peer mentors walk beside rough sleepers", "Asset based community development in Leeds"])
    searcher = Searcher(second, FakeEmbedder(), cache_dir=tmp_path / "index")
    assert [i for i, _ in searcher.rank("commissioning procurement", 2, SearchFilters(), mode="keyword")] == []
    assert len(searcher.rank("peer mentors", 2, SearchFilters(), mode="keyword")) == 1


PASSAGES = [
    "Outcomes based commissioning needs trust",
    "Commissioning cycles and procurement rules",
    "Peer mentors walk beside rough sleepers",
    "Asset based community development in Leeds",
    "Trust grows through shared outcomes work",
]
QUERIES = ("trust", "commissioning procurement", "peer mentors rough sleepers", "community development", "outcomes")


def test_a_first_start_builds_the_bm25_tier_in_a_helper_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python-bound BM25 build runs in another process, on another core, while this one reads
    vectors and token vectors; what it saves ranks exactly as a tier built here would."""
    catalog = passage_catalog(tmp_path, PASSAGES)
    built_here = Searcher(catalog, FakeEmbedder(), background_keyword=False)  # no folder: built in this process
    expected = {q: built_here.rank(q, 5, SearchFilters(), mode="keyword") for q in QUERIES}
    monkeypatch.setattr(keyword_helper, "HELPER_FROM", 1)

    def not_here(*_: object) -> None:
        raise AssertionError("the BM25 main tier was built in the replica's own process")

    monkeypatch.setattr(_Tier, "build", classmethod(not_here))  # this process only: the spawned helper imports its own
    helped = Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index", background_keyword=False)
    assert {q: helped.rank(q, 5, SearchFilters(), mode="keyword") for q in QUERIES} == expected
    assert all(expected.values()) and (tmp_path / "index" / "bm25.json").exists()


def test_a_failed_helper_leaves_the_bm25_build_to_the_replica(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    catalog = passage_catalog(tmp_path, PASSAGES)
    expected = {q: Searcher(catalog, FakeEmbedder(), background_keyword=False).rank(q, 5, SearchFilters(), mode="keyword") for q in QUERIES}
    monkeypatch.setattr(keyword_helper, "HELPER_FROM", 1)
    monkeypatch.setattr(catalog.engine, "url", make_url(f"sqlite:///{tmp_path / 'missing' / 'c.db'}"))  # what the helper is told to read
    searcher = Searcher(catalog, FakeEmbedder(), cache_dir=tmp_path / "index", background_keyword=False)
    assert {q: searcher.rank(q, 5, SearchFilters(), mode="keyword") for q in QUERIES} == expected
    assert "not built in a helper process (exit code 1" in caplog.text
    assert not list((tmp_path / "index").glob(".helper-ids-*"))


def test_a_stopped_helper_ends_and_leaves_no_files_behind(tmp_path: Path) -> None:
    """A start that fails stops its helper: whether it was mid-build or done, it has ended, and no
    ids file or half-saved tier is left in the index folder."""
    catalog = passage_catalog(tmp_path, PASSAGES)
    helper = keyword_helper.KeywordHelper(catalog, tmp_path / "index", catalog.chunk_id_array())
    helper.stop()
    assert helper._process.returncode is not None
    assert not list((tmp_path / "index").glob(".helper-ids-*")) and not list((tmp_path / "index").glob(".bm25-*"))
