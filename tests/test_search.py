"""Hybrid search on the real corpus with the real model: known passages are found, filters hold."""

import pytest

from index import SearchError, SearchFilters

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What does Selwyn say about salami slicing?", "Where a percentage saving is cut from all services"),
        ("What does VUCA stand for?", "volatility, uncertainty, complexity and ambiguity"),
        ("skills to hire and promote for collaboration", "working across organisational boundaries"),
        ("Which precondition is about being safe to fail?", "SAFE TO FAIL, ABLE TO BOUNCE BACK AND LEARN"),
        ("how much can a Future Pathways co-ordinator sign off", "sign off expenditure up to £1000"),
        ("How is John Seddon's work used?", "systems analyst John Seddon"),  # a name: dense alone misses it
    ],
)
def test_known_passages_are_in_the_top_five(ingested, query: str, expected: str) -> None:
    hits = ingested.searcher.search(query, 5)
    assert any(expected in hit.text for hit in hits), [h.text[:80] for h in hits]


def test_hits_carry_citation_metadata(ingested) -> None:
    hit = ingested.searcher.search("salami slicing", 1)[0]
    assert hit.title == "Outcomes & Efficiency Leadership Handbook" and hit.year == 2012
    assert hit.authors == ["Richard Selwyn"] and hit.source.endswith(".md") and hit.section


def test_filters_restrict_results(ingested) -> None:
    searcher = ingested.searcher
    docs = {d.title: d.id for d in ingested.catalog.list_documents()}
    vize = docs["The Revolution will be Improvised: Stories and insights about transforming systems"]
    assert {h.document_id for h in searcher.search("leadership", 10, SearchFilters(document_id=vize))} == {vize}
    assert {h.year for h in searcher.search("commissioning", 30, SearchFilters(year_from=2016))} == {2018, 2023}
    assert {h.year for h in searcher.search("commissioning", 10, SearchFilters(year_to=2012))} == {2012}
    assert searcher.search("commissioning", 5, SearchFilters(source_type="reflection")) == []
    tagged = searcher.search("learning", 5, SearchFilters(tag="Devon"))
    assert tagged and all("devon" in ingested.catalog.get_document(h.document_id).tags for h in tagged)


def test_empty_query_is_an_error(ingested) -> None:
    with pytest.raises(SearchError):
        ingested.searcher.search("   ", 5)
