"""Reciprocal rank fusion: combine rankings whose scores are not comparable."""

# A small k lets each retriever's top few passages through even when the other ranks them low
# (dense misses names, BM25 misses paraphrase); k = 60, the textbook value, rewards consensus and
# buried those passages below the 5,000-character budget (README, Retrieval quality).
RRF_K = 10


def reciprocal_rank_fusion(lists: list[list[tuple[int, float]]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Sum 1/(k + rank) over the lists each id appears in; best first, ties broken by id."""
    fused: dict[int, float] = {}
    for ranked in lists:
        for rank, (item, _score) in enumerate(ranked):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank + 1)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
