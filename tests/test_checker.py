"""The citation checker and the extractive composer on hand-made sources: fast, no model."""

import pytest

from bot.citations import check
from bot.extractive import FRAGMENT_WEIGHT, compose, score_units
from bot.lexical import anchors, expected_answer_type
from index import Hit

SOURCE = Hit(
    chunk_id=7, document_id=2, title="Outcomes & Efficiency Leadership Handbook", source="reports/oe.md", source_type="report",
    section="Historic solutions", page_start=None, page_end=None, score=1.0, authors=["Richard Selwyn"], year=2012, similarity=0.6,
    text="Salami slicing – Where a percentage saving is cut from all services without understanding the impact of the cut. "
    "This is a favourite approach because it's quick and easy to implement.\n\nDelayer and freeze posts – blanket decisions.",
)


def test_supported_sentences_keep_renumbered_citations_with_verbatim_quotes() -> None:
    checked = check("Selwyn calls salami slicing a percentage saving cut from all services [3].", [SOURCE, SOURCE, SOURCE])
    assert checked.text == "Selwyn calls salami slicing a percentage saving cut from all services. [1]"
    assert [c.n for c in checked.citations] == [1] and checked.citations[0].quote in SOURCE.text
    assert checked.citations[0].quote.startswith("Salami slicing")


def test_unknown_numbers_uncited_claims_and_fabricated_quotes_are_dropped() -> None:
    draft = (
        "Councils should always cut 10% everywhere [4]. Nobody disagrees with this. "
        'Selwyn says "salami slicing is the best option for every council" [1]. '
        "Salami slicing cuts a percentage saving from all services [1]."
    )
    checked = check(draft, [SOURCE])
    assert "10%" not in checked.text and "Nobody" not in checked.text and "best option" not in checked.text
    assert checked.text.startswith("Salami slicing cuts") and len(checked.citations) == 1


def test_unsupported_claim_with_a_valid_number_is_dropped() -> None:
    assert check("Penguins migrate across the Antarctic ice every winter [1].", [SOURCE]).citations == []


def test_lists_stay_with_their_lead_in() -> None:
    draft = "Selwyn lists historic solutions:\n- salami slicing cuts from all services\n- delayer and freeze posts [1]"
    checked = check(draft, [SOURCE])
    assert "- salami slicing" in checked.text and checked.text.endswith("[1]")


def test_anchors_and_answer_types() -> None:
    assert anchors("What are the thresholds under the Procurement Act 2023 for JRF and ICBs?") == ["2023", "JRF", "ICB"]
    assert anchors("What does the O&E handbook say?") == []
    assert expected_answer_type("What year was it published?") == "year"
    assert expected_answer_type("How much money is in the fund?") == "quantity"
    assert expected_answer_type("Why do targets distort the system?") is None


def test_a_sentence_shared_by_overlapping_chunks_is_quoted_once() -> None:
    shared = "Partnership boards are ways of understanding the system and finding cross-system efficiencies."
    first = SOURCE.model_copy(update={"chunk_id": 8, "text": f"Dividing systems into parts hides how they work. {shared}"})
    second = SOURCE.model_copy(update={"chunk_id": 9, "text": f"{shared} Partnership boards need shared data to work."})
    answer = compose("What are partnership boards for in understanding the system?", [first, second], None)
    assert answer.count("Partnership boards are ways") == 1


def test_quoted_claims_from_different_sources_side_by_side_are_all_kept() -> None:
    board = SOURCE.model_copy(update={"chunk_id": 8, "text": "“The health and wellbeing board has learned to collaborate better on key issues.”"})
    members = SOURCE.model_copy(update={"chunk_id": 9, "text": "“Senior board members recognise the value of sustained community engagement.”"})
    draft = f"Vize: {board.text} [1] {members.text} [2]"
    checked = check(draft, [board, members])
    assert [c.chunk_id for c in checked.citations] == [8, 9]
    assert "learned to collaborate better" in checked.text and "sustained community engagement" in checked.text


def test_reference_entries_are_never_an_answer() -> None:
    prose = SOURCE.model_copy(update={"chunk_id": 20, "text": "Salami slicing cuts a percentage saving from all council services without understanding the impact."})
    reference = SOURCE.model_copy(
        update={"chunk_id": 21, "document_id": 3, "authors": ["Ann Other"], "text": "Further reading\n\nSelwyn, R. et al, Salami slicing in council services, Outcomes Press, pp. 12-14"}
    )
    answer = compose("What is salami slicing of council services?", [prose, reference], None)
    assert "Salami slicing cuts a percentage saving" in answer and "Outcomes Press" not in answer


def test_a_sentence_sharing_one_word_with_a_fuller_question_is_not_chosen() -> None:
    prose = SOURCE.model_copy(update={"chunk_id": 20, "text": "Salami slicing cuts a percentage saving from all services without understanding the impact."})
    passing = SOURCE.model_copy(
        update={"chunk_id": 21, "document_id": 3, "authors": ["Ann Other"], "text": "Services in Devon were stretched this winter, with every team asked to save."}
    )
    answer = compose("What is salami slicing in services?", [prose, passing], None)
    assert "Salami slicing cuts a percentage saving" in answer and "Devon" not in answer
    assert "Devon" in compose("What did Devon services face this winter?", [prose, passing], None)  # the same sentence, when on topic


def test_an_index_or_bibliography_is_never_quoted_but_prose_filed_under_one_is() -> None:
    index = SOURCE.model_copy(update={"chunk_id": 22, "section": "Index", "text": "Bronfenbrenner, Urie, 50, 56 | ecological model of human development, 26"})
    books = SOURCE.model_copy(update={"chunk_id": 23, "section": "Bibliography and further thinking", "text": "Urie Bronfenbrenner: The Ecology of Human Development, 1979."})
    about = SOURCE.model_copy(
        update={"chunk_id": 24, "section": "Bibliography and further thinking > About PIPC", "text": "PIPC was formed in 1992 as a consultancy for the public sector."}
    )
    assert compose("What is Bronfenbrenner's ecological model of human development?", [index, books], None) == ""
    assert "PIPC was formed in 1992" in compose("Which consultancy is PIPC?", [about], None)


def test_a_heading_that_names_what_is_asked_speaks_for_the_sentences_under_it() -> None:
    soup = SOURCE.model_copy(
        update={"chunk_id": 25, "section": "A soup not a salad", "text": "Coordinating existing services more effectively is not transformation. True integration blends them."}
    )
    salad = SOURCE.model_copy(update={"chunk_id": 26, "section": "Lunch", "text": "Coordinating existing services more effectively is not transformation."})
    assert compose("What's the point of 'a soup not a salad'?", [soup], None).startswith("Richard Selwyn (Outcomes & Efficiency Leadership Handbook, 2012): Coordinating")
    assert compose("What's the point of 'a soup not a salad'?", [salad], None) == ""


def test_the_sources_own_questions_answer_a_question_about_which_questions_to_ask() -> None:
    prompts = SOURCE.model_copy(update={"chunk_id": 27, "section": "Getting started", "text": "Which organisations produce the outcomes you care about in Devon?"})
    asked = score_units("What questions should we ask about the organisations and outcomes in Devon?", [prompts], None)
    plain = score_units("What should we know about the organisations and outcomes in Devon?", [prompts], None)
    rank_prior = 1.5  # the same for both: the passage is first
    assert asked[0].score - rank_prior == pytest.approx((plain[0].score - rank_prior) / FRAGMENT_WEIGHT)
