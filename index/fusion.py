"""Reciprocal rank fusion: combine rankings whose scores are not comparable."""

from collections.abc import Sequence

# A small k lets each retriever's top few passages through even when the other ranks them low
# (dense misses names, BM25 misses paraphrase); k = 60, the textbook value, rewards consensus and
# buried those passages below the 5,000-character budget (README, Retrieval quality).
RRF_K = 10


def reciprocal_rank_fusion(lists: list[list[tuple[int, float]]], k: int = RRF_K, weights: Sequence[float] | None = None) -> list[tuple[int, float]]:
    """Sum weight/(k + rank) over the lists each id appears in (weights default to 1); best first, ties by id."""
    fused: dict[int, float] = {}
    for ranked, weight in zip(lists, weights or [1.0] * len(lists), strict=True):
        for rank, (item, _score) in enumerate(ranked):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
