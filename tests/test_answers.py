"""Answers: citation invariants on many questions, attribution, honest abstention, follow-ups."""

import pytest

from bot.evaluation import EvalQuestion, answer_metrics, citations_valid, load_questions
from bot.models import Turn
from index import InputRejected, SearchFilters
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow


def _questions() -> list[EvalQuestion]:
    return [q for name in ("dev.jsonl", "extra.jsonl", "holdout.jsonl") for q in load_questions(FIXTURES / "eval" / name)]


def test_answers_cite_gold_evidence_and_abstain_when_the_corpus_cannot_answer(ingested) -> None:
    """Measured on the 105 eval questions: what an answer cites must hold the gold evidence, and
    questions the corpus cannot answer must not get the outcome "answer" (floors a little under
    today's: 0.90 answered with gold, 0.94 with related, no abstention, 1 of 18 unanswerable answered)."""
    questions = _questions()
    metrics = answer_metrics(ingested.answers, ingested.searcher, questions)
    ids = metrics["ids"]
    assert metrics["citation_validity"] == 1
    assert metrics["answer_with_gold"] >= 0.85, ids["answer_without_gold"] + ids["related_with_gold"] + ids["abstained"]
    assert metrics["answer_or_related_with_gold"] >= 0.9, ids["answer_without_gold"] + ids["related_without_gold"] + ids["abstained"]
    assert metrics["false_abstention"] <= 0.05, ids["abstained"]
    assert metrics["unanswerable_answered"] <= 0.15, ids["unanswerable_answer"]
    for q in questions[:20]:
        answer = ingested.answers.answer(q.question)
        assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_the_citation_check_catches_forged_quotes_and_dangling_markers(ingested) -> None:
    """citations_valid is only worth running if it can fail: a quote not in its chunk, a [n] with no
    citation and a citation with no [n] are each caught."""
    answer = ingested.answers.answer("What does Selwyn say about salami slicing?")
    assert not answer.abstained and citations_valid(answer, ingested.searcher)
    first = answer.citations[0]
    forged = answer.model_copy(update={"citations": [first.model_copy(update={"quote": first.quote + " and the budget doubled"}), *answer.citations[1:]]})
    dangling = answer.model_copy(update={"answer": answer.answer + " Also this [99]."})
    unmarked = answer.model_copy(update={"answer": answer.answer.replace(f"[{first.n}]", "")})
    assert not any(citations_valid(a, ingested.searcher) for a in (forged, dangling, unmarked))


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


def test_question_asking_for_a_year_the_corpus_lacks_is_related_not_answered(ingested) -> None:
    """The corpus holds the report but not its year: the closest passages, said plainly, not an answer."""
    answer = ingested.answers.answer("What year was Richard Vize's 'The Revolution will be Improvised' report published?")
    assert answer.outcome == "related" and answer.answer.startswith("The reports don't answer") and answer.citations


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


def test_the_years_note_appears_only_when_the_question_compares(ingested) -> None:
    """Sources years apart are attributed separately; the note about their years is for comparisons."""
    query = "commissioning outcomes"
    hits = ingested.searcher.search(query, 2, SearchFilters(year_to=2012)) + ingested.searcher.search(query, 2, SearchFilters(year_from=2018))
    compared = ingested.answers._compose("How has thinking on commissioning for outcomes changed between the reports?", hits, [], None)
    plain = ingested.answers._compose("What do the reports say about commissioning for outcomes?", hits, [], None)
    years = sorted({c.year for c in compared.citations if c.year})
    assert years[-1] - years[0] >= 5, "the comparison drew on sources years apart"
    assert "These sources span" in compared.answer and "These sources span" not in plain.answer
