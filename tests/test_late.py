"""Late interaction: packed token vectors, MaxSim ranking, and what it adds to hybrid search."""

from pathlib import Path

import numpy as np
import pytest

from bot.evaluation import load_questions, retrieval_metrics
from index import Searcher, SearchFilters
from index.fusion import reciprocal_rank_fusion
from index.late import TokenIndex, pack_tokens, unpack_tokens
from tests.conftest import FIXTURES, FakeEmbedder, passage_catalog

DIM = 8


def _unit(*axes: int) -> np.ndarray:
    """One token vector per axis, each pointing along it."""
    matrix = np.zeros((len(axes), DIM), dtype=np.float32)
    matrix[range(len(axes)), axes] = 1.0
    return matrix


@pytest.mark.parametrize("dim", [DIM, 7])
def test_packed_tokens_round_trip_within_4_bit_precision_in_half_a_byte_a_dimension(dim: int) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    blob = pack_tokens(vectors)
    assert len(blob) == 30 * (4 + (dim + 1) // 2)
    codes, scales = unpack_tokens(blob, dim)
    assert codes.dtype == np.int8 and codes.shape == (30, dim) and np.abs(codes).max() == 7
    assert np.abs(codes * scales[:, None] - vectors).max() <= scales.max() / 2 + 1e-6
    assert np.allclose(scales, np.abs(vectors).max(axis=1) / 7)
    assert pack_tokens(np.zeros((0, DIM))) == b""
    with pytest.raises(ValueError, match="does not hold"):
        unpack_tokens(b"\x00" * 7, DIM)


def test_maxsim_ranks_the_chunk_holding_every_query_token_first() -> None:
    index = TokenIndex(DIM)
    index.add({1: pack_tokens(_unit(0, 5)), 2: pack_tokens(_unit(0, 1, 2, 6)), 3: pack_tokens(_unit(7)), 4: b""})
    ranked = index.rank(_unit(0, 1, 2), [3, 1, 2, 4, 99])
    assert [i for i, _ in ranked] == [2, 1, 3]  # no tokens (4) or unknown (99): left out
    assert ranked[0][1] == pytest.approx(1.0) and ranked[1][1] == pytest.approx(1 / 3) and ranked[2][1] == pytest.approx(0.0)
    index.remove([2])
    assert [i for i, _ in index.rank(_unit(0, 1, 2), [1, 2, 3])] == [1, 3]
    assert index.rank(np.zeros((0, DIM), dtype=np.float32), [1, 3]) == []


def test_chunks_added_after_start_are_held_packed_not_unpacked() -> None:
    """A replica taking reflections all day holds their token vectors as the catalog stores them
    (half a byte a dimension), not as codes a byte a dimension beside the blob they came from."""
    import tracemalloc

    rng = np.random.default_rng(1)
    blobs = {i: pack_tokens(rng.normal(size=(60, 384)).astype(np.float32)) for i in range(500)}
    index = TokenIndex(384)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index.add(blobs)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    blob_bytes = sum(map(len, blobs.values()))
    assert held < 0.2 * blob_bytes, (held, blob_bytes)  # the blobs themselves, shared with the caller; a dict of references
    query = rng.normal(size=(5, 384)).astype(np.float32)
    alone = TokenIndex(384)
    alone.add({7: blobs[7]})
    assert dict(index.rank(query, [7, 8]))[7] == pytest.approx(alone.rank(query, [7])[0][1])

def test_weighted_fusion_lets_a_lone_keyword_match_beat_two_views_of_one_model() -> None:
    near_duplicates = [(7, 0.9)] + [(i, 0.5) for i in range(100, 118)] + [(1, 0.4)]  # the exact match ranks 20th
    dense, late, keyword = near_duplicates, near_duplicates, [(1, 12.0)]
    assert reciprocal_rank_fusion([dense, late, keyword])[0][0] == 7  # at equal weight the model outvotes BM25
    assert reciprocal_rank_fusion([dense, late, keyword], weights=(0.5, 1.0, 1.0))[0][0] == 1
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([dense, late], weights=(1.0,))


def test_hybrid_search_fuses_late_interaction_over_its_candidates(tmp_path: Path) -> None:
    texts = ["Outcomes based commissioning needs trust", "Commissioning cycles and procurement rules", "Trust grows through shared outcomes work"]
    searcher = Searcher(passage_catalog(tmp_path, texts), FakeEmbedder(), background_keyword=False)
    searcher.sync()
    late = searcher.rank("trust in outcomes commissioning", 3, SearchFilters(), mode="late")
    assert searcher.meta(late[0][0]).text == texts[0]  # holds all three content words
    assert [searcher.meta(i).text for i, _ in late[1:]] == [texts[2], texts[1]]
    assert searcher.search("trust in outcomes commissioning", 1)[0].text == texts[0]
    searcher.catalog.delete_document("0.md")
    assert texts[0] not in [searcher.meta(i).text for i, _ in searcher.rank("trust outcomes", 3, SearchFilters(), mode="late")]


@pytest.mark.slow
def test_late_interaction_finds_a_passage_both_other_retrievers_rank_low(ingested) -> None:
    question = "Which consultancy is behind the O&E handbook and what kind of firm is it?"
    assert "PIPC was formed in 1992" in ingested.searcher.search(question, 1)[0].text


@pytest.mark.slow
def test_retrieval_quality_on_all_eval_sets_holds(ingested) -> None:
    """Floors a little under the figures in the README, over dev, extra and holdout together."""
    questions = [q for name in ("dev", "extra", "holdout") for q in load_questions(FIXTURES / "eval" / f"{name}.jsonl")]
    metrics = retrieval_metrics(ingested.searcher, questions, "hybrid")
    assert metrics["questions"] == 87
    assert metrics["hit@5000chars"] >= 0.93 and metrics["mrr@10"] >= 0.83 and metrics["coverage@5000chars"] >= 0.84, metrics
