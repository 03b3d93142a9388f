"""The support gate judges what is asked, on hand-made passages: answer, related or abstain."""

from __future__ import annotations

import pytest

from bot.gate import SupportGate
from bot.intent import focus_of, holds_target, intent_of, target_of
from bot.lexical import name_parts, proper_names
from bot.related import closest_passages
from index import Hit
from tests.test_checker import SOURCE

STEERING = SOURCE.model_copy(
    update={
        "chunk_id": 11,
        "title": "Behaving like a system?",
        "authors": ["Sarah Billiald"],
        "section": "Governance",
        "text": "The steering group met monthly in Coventry. Jane Okafor, a commissioner, was a member of the steering group. "
        "The Community Engagement Network brought residents together.",
        "similarity": 0.55,
    }
)
CHAIRED = STEERING.model_copy(update={"chunk_id": 12, "text": "The steering group was co-chaired by Jane Okafor and Martin Reeves of Coventry City Council."})
RESULTS = STEERING.model_copy(update={"chunk_id": 13, "text": "The Gateshead programme reduced repeat homelessness by 30% in its first two years."})
NAMED = STEERING.model_copy(update={"chunk_id": 14, "text": "The Gateshead programme works with people facing multiple disadvantage."})


class Corpus:
    """The words of the hand-made passages, as the gate asks about them."""

    text = " ".join(f"{h.text} {h.title} {' '.join(h.authors)}" for h in (SOURCE, STEERING, CHAIRED, RESULTS)).lower()

    def mentions(self, text: str) -> bool:
        return all(word.lower() in self.text for word in text.split())

    def holds_phrase(self, text: str) -> bool:
        return text.lower() in self.text


class EveryWord:
    """A corpus that knows every word and name: only the passages decide."""

    def mentions(self, text: str) -> bool:
        return True

    def holds_phrase(self, text: str) -> bool:
        return True


EVERY_WORD = EveryWord()


def judge(question: str, hits: list[Hit]) -> str:
    return SupportGate().judge(question, hits, Corpus())


def test_a_near_miss_naming_the_corpus_entities_is_related_not_answered() -> None:
    assert judge("Who co-chairs the steering group alongside Jane Okafor?", [STEERING]) == "related"
    assert judge("Who co-chairs the steering group alongside Jane Okafor?", [CHAIRED]) == "answer"
    assert judge("What results has the Gateshead programme achieved so far?", [NAMED]) == "related"
    assert judge("What results has the Gateshead programme achieved so far?", [RESULTS]) == "answer"


def test_an_amount_is_not_met_by_a_year() -> None:
    dated = NAMED.model_copy(update={"text": "The Gateshead programme began in 2019 with people facing multiple disadvantage."})
    assert judge("What is the annual budget of the Gateshead programme?", [dated]) == "related"


def test_nothing_close_abstains_and_names_the_corpus_never_uses_abstain() -> None:
    far = SOURCE.model_copy(update={"similarity": 0.05, "text": "Penguins huddle together through the Antarctic winter."})
    assert judge("What are good penguin habitats in winter for councils?", [far]) == "abstain"
    assert judge("Did councils in Wales try salami slicing to cut services?", [SOURCE]) == "abstain"
    assert judge("What does Selwyn say about salami slicing?", []) == "abstain"
    assert judge("What does Selwyn say about salami slicing?", [SOURCE]) == "answer"


def test_a_year_or_acronym_the_passages_lack_is_related() -> None:
    assert judge("What did Selwyn write in 2023 about salami slicing?", [SOURCE]) == "related"
    assert judge("What does the JRF say about salami slicing?", [SOURCE]) == "related"


def test_small_talk_is_not_the_focus() -> None:
    assert focus_of("Honestly a bit lost, people keep being told about salami slicing. Thoughts?") == focus_of("salami slicing")
    assert focus_of("Thanks!") != frozenset()  # nothing but small talk: keep what there is


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("Who co-chairs the steering group?", "person"),
        ("Who wrote 'Behaving like a system?'", "person"),
        ("When did Martin Reeves become chief executive?", "date"),
        ("What is the annual budget of the fund?", "amount"),
        ("How many councils have adopted it?", "amount"),
        ("What are the steps of Turning the Curve?", "steps"),
        ("What results has the programme achieved so far?", "results"),
        ("When funding in complexity, should we prioritise accountability or learning?", None),
        ("Where did the term VUCA come from?", None),
        ("My team keeps being told to prove impact with numbers, what do these reports make of that?", None),
    ],
)
def test_targets(question: str, target: str | None) -> None:
    assert target_of(question) == target


def test_sentences_hold_targets() -> None:
    assert holds_target("It was co-chaired by Jane Okafor.", "person") and not holds_target("It was co-chaired by the council.", "person")
    assert holds_target("The fund holds £2.1m a year.", "amount") and not holds_target("The fund began in 2019.", "amount")
    assert holds_target("It reduced admissions by 30%.", "results") and not holds_target("It works with 30 people.", "results")
    assert holds_target("The technique has four steps:", "steps") and not holds_target("Friedman uses a technique.", "steps")


def test_related_shows_each_top_passage_by_its_closest_sentence_and_other_documents_first() -> None:
    handbook = SOURCE.model_copy(update={"chunk_id": 30, "text": "Budgets were tight. Salami slicing cuts a percentage saving from all services."})
    same_handbook = SOURCE.model_copy(update={"chunk_id": 31, "text": "Delayering removes a tier of managers."})
    review = SOURCE.model_copy(update={"chunk_id": 32, "document_id": 5, "text": "Peer review found salami slicing hid the impact on services."})
    survey = SOURCE.model_copy(update={"chunk_id": 33, "document_id": 6, "text": "Councils reported cutting services evenly."})
    shown = closest_passages("What does salami slicing do to services?", [handbook, same_handbook, review, survey])
    assert shown.split("\n\n") == [
        "Salami slicing cuts a percentage saving from all services. [1]",
        "Peer review found salami slicing hid the impact on services. [3]",
        "Councils reported cutting services evenly. [4]",
        "Delayering removes a tier of managers. [2]",  # the same report again: last, but still shown
    ]
    sixth = [SOURCE.model_copy(update={"chunk_id": 40 + n, "text": f"Passage {n} on salami slicing."}) for n in range(5)]
    other_report = review.model_copy(update={"chunk_id": 50, "document_id": 9})
    assert "[6]" not in closest_passages("What does salami slicing do?", [*sixth, other_report])  # never past the top five


def test_a_long_question_whose_words_several_passages_share_is_related_whatever_its_cosine() -> None:
    """A share of a long conversational question's terms is small even when several match; the
    count decides, so the closest passages are still shown rather than an abstention."""
    question = "Our partnership board keeps arguing about governance and who sits on the steering group, and honestly the commissioners feel shut out. Any thoughts?"
    shared = STEERING.model_copy(update={"similarity": 0.30, "text": "The steering group met monthly. Commissioners were members. Governance was light."})
    two_words = STEERING.model_copy(update={"similarity": 0.30, "text": "The board met in Coventry."})  # board, and "Governance" above it
    one_word = two_words.model_copy(update={"section": "Meetings"})
    assert judge(question, [shared]) == "related"
    assert judge(question, [two_words]) == "related"
    assert judge(question, [one_word]) == "abstain"


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("How long did the collaboration between Collaborate and Coventry last?", "amount"),
        ("How long should a pilot run before we judge it?", None),  # advice, not a duration on record
        ("What social return on investment did Westminster's Family Recovery Programme achieve?", "results"),
        ("In which local areas were the 25 Local Vision programmes based?", "place"),
        ("Which organisations are members of the Community Engagement Network?", "members"),
        ("What is Jane Okafor's role at the council?", "role"),
    ],
)
def test_more_kinds_of_fact_asked_for(question: str, target: str | None) -> None:
    assert target_of(question) == target


def test_members_and_roles_need_a_sentence_that_names_them() -> None:
    members = "Which organisations are members of the steering group?"
    assert judge(members, [STEERING]) == "related"  # one person named, no list of bodies
    listed = STEERING.model_copy(update={"text": "The steering group brought together Coventry City Council, Grapevine and Positive Youth Foundation."})
    assert judge(members, [listed]) == "answer"
    role = "What is Jane Okafor's role on the steering group?"
    assert judge(role, [CHAIRED]) == "answer"  # co-chaired: a post
    assert judge(role, [NAMED.model_copy(update={"text": "Jane Okafor spoke to the steering group about Coventry."})]) == "related"


def test_the_sentence_before_may_name_what_the_answer_refers_to() -> None:
    alliance = STEERING.model_copy(
        update={"text": "The Survivor Support Fund was created in Scotland. The full alliance is Scottish Government, Penumbra and Health in Mind."}
    )
    alone = alliance.model_copy(update={"text": "The full alliance is Scottish Government, Penumbra and Health in Mind."})
    question = "Which organisations are in the alliance that delivers the Survivor Support Fund?"
    assert SupportGate().judge(question, [alliance], EVERY_WORD) == "answer"
    assert SupportGate().judge(question, [alone], EVERY_WORD) == "related"  # nothing ties the list to the Fund


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("Does anyone know when the steering group was first set up?", "date"),
        ("Who came up with the Cynefin framework?", "person"),
        ("Who should sit on the steering group?", None),  # advice: "who should" asks what kind of person
        ("Staff who feel unheard leave: what do the reports suggest?", None),  # "who" joining two clauses
        ("Which organisation does Jane Okafor work for?", "name"),
        ("Which Local Vision programme did the enabler support?", "name"),
        ("Selwyn mentions a return of £2.10 for every £1. Which local area was that in?", "place"),
        ("Whereabouts in the country are they based?", "place"),
        ("Where did we go wrong with the family hub?", None),
        ("What did Audit Scotland's progress report recommend?", "recommendations"),
        ("What was the Corra Foundation called before it took that name?", "former name"),
        ("What did the evaluation of the Back To Work programme run by the forum find?", "results"),
        ("What job title does Sam Kammerling hold?", "role"),
        ("What is the current hourly rate for home care?", "amount"),
        ("What did the county council spend on adult social care?", "amount"),
        ("When we commission services, how should we share risk?", None),
    ],
)
def test_question_shapes_that_ask_for_a_kind_of_fact(question: str, target: str | None) -> None:
    assert target_of(question) == target


def test_what_the_question_states_is_not_the_fact_it_asks_for() -> None:
    """A date or name the question gives cannot answer it: "21 March 2023" is no head count."""
    dated = STEERING.model_copy(update={"text": "Coventry workshop, 21 March 2023. The steering group met in Coventry."})
    counted = dated.model_copy(update={"text": "Forty people attended the Coventry workshop of 21 March 2023."})
    question = "How many people attended the Coventry workshop on 21 March 2023?"
    assert SupportGate().judge(question, [dated], EVERY_WORD) == "related"
    assert SupportGate().judge(question, [counted], EVERY_WORD) == "answer"
    assert not holds_target("Jane Okafor spoke.", "person", ("Jane Okafor",))
    assert holds_target("Jane Okafor and Martin Reeves spoke.", "person", ("Jane Okafor",))


def test_the_answering_sentence_must_carry_a_third_of_what_its_clause_names() -> None:
    """'14 offices world-wide' does not say how many UK offices; the clause that asks decides, so a
    compound question is not diluted by its other half."""
    worldwide = STEERING.model_copy(update={"text": "Grapevine has 14 offices world-wide and works in Coventry."})
    national = STEERING.model_copy(update={"text": "Grapevine has three UK offices, all in the Midlands."})
    question = "How many UK offices does Grapevine have?"
    assert SupportGate().judge(question, [worldwide], EVERY_WORD) == "related"
    assert SupportGate().judge(question, [national], EVERY_WORD) == "answer"
    compound = intent_of("How many UK offices does Grapevine have, and what kind of work do its Coventry volunteers do with residents?")
    assert compound.target == "amount" and compound.asked == intent_of(question).asked == {"uk", "offic", "grapevin"}


def test_function_words_are_not_a_questions_focus() -> None:
    assert focus_of("What's the difference between leading from an ego rather than an eco perspective, without any jargon?") == focus_of(
        "What's the difference in leading from an ego or an eco perspective, jargon?"
    )
    assert {"system", "whole", "first"} <= focus_of("Is the whole system the first thing to change?")  # stop words elsewhere, content here


def test_a_documents_authors_answer_who_wrote_it_not_who_chairs_it() -> None:
    report = STEERING.model_copy(update={"section": "Behaving like a system?", "text": "This report sets out the preconditions for place-based change."})
    assert judge("Who wrote Behaving like a system?", [report]) == "answer"
    assert judge("Who chairs Behaving like a system?", [report]) == "related"


def test_an_acronym_naming_the_author_is_found_in_the_authors() -> None:
    ccps = STEERING.model_copy(update={"authors": ["CCPS (Coalition of Care and Support Providers in Scotland)"], "text": STEERING.text})
    assert judge("What do the CCPS notes say about the steering group and its members?", [ccps]) == "answer"
    assert judge("What do the JRF notes say about the steering group and its members?", [ccps]) == "related"


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("Selwyn mentions Acorn and Mosaic. Which companies make them?", "name"),
        ("What do Acorn and Mosaic cost a council?", "amount"),
        ("What are the layers of Bronfenbrenner's ecological model?", "steps"),
    ],
)
def test_more_shapes_of_a_question_that_asks_for_a_fact(question: str, target: str) -> None:
    assert target_of(question) == target


def test_contractions_and_a_quoted_titles_question_word_are_not_focus_or_names() -> None:
    assert focus_of("I've been told staff don't recognise the values") == focus_of("staff recognise the values")
    assert proper_names("The Devon slides quote a 'What next for strengths-based areas?' report. Who put that out?") == ["Devon"]


def test_a_name_whose_words_the_corpus_never_puts_together_is_related_not_answered() -> None:
    assert judge("What did Jane Okafor say about the steering group?", [STEERING]) == "answer"
    assert judge("What did Jane Reeves say about the steering group?", [STEERING, CHAIRED]) == "related"  # both names occur, never as one


def test_a_list_asked_for_by_its_length_needs_that_many_items() -> None:
    four = STEERING.model_copy(update={"text": "The steering group set four actions:\n\nListen\n\nCo-design\n\nShare power\n\nLearn"})
    assert intent_of("What are all ten actions of the steering group?").items == 10
    assert judge("What are all ten actions of the steering group?", [four]) == "related"
    assert judge("What are the four actions of the steering group?", [four]) == "answer"
    assert intent_of("What are the actions of the steering group?").items == 0


def test_odd_counts_and_letters_never_break_the_list_rule() -> None:
    assert intent_of("What are the ſix steps of the steering group?").items == 0  # a long s is no "six"
    assert intent_of("What are the 24 hour services of the steering group?").items == 0
    assert intent_of("Which organisations were the two partners in the steering group?").target == "members"


def test_a_list_given_in_prose_with_its_count_answers_a_counted_question() -> None:
    prose = STEERING.model_copy(update={"text": "The steering group has three pillars: relationships, capabilities and connection."})
    assert judge("What are the three pillars of the steering group?", [prose]) == "answer"
    assert judge("What are the five pillars of the steering group?", [prose]) == "related"
    count_alone = STEERING.model_copy(update={"text": "The steering group described five stages of change."})
    assert judge("What are the five stages of change of the steering group?", [count_alone]) == "related"


def test_a_names_parts_are_checked_apart_from_question_words_and_titles() -> None:
    assert name_parts("Plymouth How") == ["Plymouth"]
    assert name_parts("Professor Hilary Cottam") == ["Hilary Cottam"]
    assert name_parts("Devon Slides") == ["Devon"]
    class Phrases(EveryWord):
        def holds_phrase(self, text: str) -> bool:
            return text.lower() in STEERING.text.lower()

    assert SupportGate().judge("What did Professor Jane Okafor say about the steering group?", [STEERING], Phrases()) == "answer"


def test_a_report_written_by_or_authored_by_is_answered_by_its_authors() -> None:
    report = STEERING.model_copy(update={"section": "Behaving like a system?", "text": "This report sets out the preconditions for place-based change."})
    assert judge("Who was Behaving like a system written by?", [report]) == "answer"
    assert judge("Who authored Behaving like a system?", [report]) == "answer"


def test_stop_words_whose_stems_are_content_words_stay_in_the_focus() -> None:
    assert {"sever", "found", "well"} <= focus_of("Who founded the service for severe disadvantage and well-being?")
