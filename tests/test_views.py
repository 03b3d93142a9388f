"""Query views: the whole message, then its sentences, so the ask inside context is searched alone too."""

from __future__ import annotations

import pytest

from bot.services import Services
from index import SearchFilters
from index.views import MAX_SENTENCE_VIEWS, query_views


def test_a_one_sentence_question_has_one_view() -> None:
    assert query_views("What is salami slicing?") == ["What is salami slicing?"]
    assert query_views("Hi all. What is salami slicing?") == ["Hi all. What is salami slicing?"]  # "Hi all." is not a view


def test_context_and_ask_are_views_of_their_own() -> None:
    message = "Our dashboards are all about KPIs. Is there a different way to think about numbers?"
    assert query_views(message) == [message, "Our dashboards are all about KPIs.", "Is there a different way to think about numbers?"]


def test_a_long_message_keeps_its_first_sentence_and_its_last_two() -> None:
    sentences = [f"Sentence number {n} is here." for n in range(1, 9)]
    views = query_views(" ".join(sentences))
    assert len(views) == 1 + MAX_SENTENCE_VIEWS
    assert views[1:] == [sentences[0], sentences[-2], sentences[-1]]


@pytest.mark.slow
def test_the_ask_inside_a_message_is_found_though_its_context_drowns_it(ingested: Services) -> None:
    ask = "How should a funder think about risk?"
    message = f"Our office move went badly and the canteen is shut. {ask}"
    searcher = ingested.searcher
    wanted = searcher.rank(ask, 1, SearchFilters(), mode="dense")[0][0]
    whole_only = [i for i, _ in searcher._vectors.search(ingested.embedder.encode([message]).vectors[0], 5, None)]
    assert wanted not in whole_only  # the one pooled vector of the message misses it
    assert wanted in [i for i, _ in searcher.rank(message, 5, SearchFilters(), mode="dense")]
