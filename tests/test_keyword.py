"""Keyword retrieval: phrases count, and new chunks are searchable before the background rebuild."""

from index.keyword import KeywordIndex

PASSAGES = {
    1: "Total Place pilots mapped public spend.",
    2: "In total, every place counts; the place total grew while total costs in each place fell.",
    3: "Demand-led commissioning draws on systems thinking.",
}


def test_a_passage_holding_the_query_phrase_outranks_one_that_only_repeats_its_words() -> None:
    index = KeywordIndex(background=False)
    index.update(PASSAGES, [])
    ranked = [chunk_id for chunk_id, _ in index.search("What is Total Place?", 3)]
    assert ranked[:2] == [1, 2]


def test_words_alone_still_match_when_the_phrase_is_absent() -> None:
    index = KeywordIndex(background=False)
    index.update(PASSAGES, [])
    assert [chunk_id for chunk_id, _ in index.search("commissioning led by demand", 3)] == [3]


def test_added_passages_are_found_at_once_and_removed_ones_vanish() -> None:
    index = KeywordIndex(background=True)
    index.update(PASSAGES, [])
    index.update({4: "A reflection about Total Place in Gateshead."}, [1])
    found = {chunk_id for chunk_id, _ in index.search("Total Place Gateshead", 5)}
    assert 4 in found and 1 not in found
    index.wait_until_merged()
    assert {chunk_id for chunk_id, _ in index.search("Total Place Gateshead", 5)} == found
