"""Answers: citation invariants on many questions, attribution, honest abstention, follow-ups."""

import json

import pytest

from bot.evaluation import citations_valid
from bot.models import Turn
from index import InputRejected
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow


def _questions() -> list[dict]:
    rows = []
    for name in ("dev.jsonl", "extra.jsonl", "holdout.jsonl"):
        rows += [json.loads(line) for line in (FIXTURES / "eval" / name).read_text().splitlines() if line.strip()]
    return rows


def test_citation_invariants_hold_on_every_eval_question(ingested) -> None:
    answered = 0
    for row in _questions():
        answer = ingested.answers.answer(row["question"])
        assert citations_valid(answer, ingested.searcher), (row["id"], answer.answer)
        assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
        answered += not answer.abstained
    assert answered >= 75


def test_answer_attributes_its_source_by_author_and_year(ingested) -> None:
    answer = ingested.answers.answer("Finance want a flat % cut across every service. What does Selwyn say about salami slicing?")
    assert not answer.abstained
    assert "Richard Selwyn (Outcomes & Efficiency Leadership Handbook, 2012)" in answer.answer
    assert any("percentage saving is cut from all services" in c.quote for c in answer.citations)


def test_off_topic_question_abstains_with_a_helpful_reply(ingested) -> None:
    answer = ingested.answers.answer("What is the boiling point of mercury at sea level?")
    assert answer.abstained and answer.citations == []
    assert "reflection" in answer.answer and "I could not find" in answer.answer


def test_question_about_a_place_the_corpus_never_mentions_abstains(ingested) -> None:
    assert ingested.answers.answer("How many Human Learning Systems pilots are running in Wales?").abstained
    assert not ingested.answers.answer("What do the Human, Learning and Systems parts of Human Learning Systems mean?").abstained


def test_question_asking_for_a_year_the_corpus_lacks_abstains(ingested) -> None:
    assert ingested.answers.answer("What year was Richard Vize's 'The Revolution will be Improvised' report published?").abstained


def test_follow_up_uses_the_thread_as_context(ingested) -> None:
    history = [Turn(role="user", text="What does Selwyn say about salami slicing?"), Turn(role="assistant", text="...")]
    answer = ingested.answers.answer("and what does he suggest instead?", history=history)
    assert not answer.abstained
    assert any(c.title.startswith("Outcomes & Efficiency") for c in answer.citations)


def test_bad_questions_are_rejected(ingested) -> None:
    with pytest.raises(InputRejected):
        ingested.answers.answer("   \n ")
    with pytest.raises(InputRejected):
        ingested.answers.answer("why " * 2000)
