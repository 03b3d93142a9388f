"""Word-level helpers shared by answer composition, support gating and the citation check."""

from __future__ import annotations

import re
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from index.terms import tokenize

# scikit-learn's stop words that carry meaning in these reports ("whole system", "first four",
# "former name", "part of"): the rest are function words ("between", "rather", "every") that bm25s's
# 33 stop words keep, and that made a long question's focus look half matched by any passage.
_CONTENT_STOP_WORDS = frozenset(
    "system interest bill amount fire part name former formerly first last third one two three four five six eight nine ten "
    "eleven twelve fifteen twenty forty fifty sixty hundred detail show full whole move call side front back top bottom "
    "together keep serious empty fill cry mill thick thin sincere co con de un "
    # and those whose stem is a content word's: "several" -> sever(e), "namely" -> name, "found" -> founded
    "several namely find found alone well next".split()
)
# What the tokeniser leaves of contractions: "don't" gives "don", "I've" gives "ve".
_CONTRACTED = "don didn doesn isn aren wasn weren won wouldn couldn shouldn haven hasn hadn ve ll"
FUNCTION_WORDS = frozenset(tokenize([" ".join([*sorted(ENGLISH_STOP_WORDS - _CONTENT_STOP_WORDS), _CONTRACTED])])[0])

# Words that say what kind of answer is wanted, or where the asker read it ("the Devon SLIDES"), not
# what it is about: they must not count as support.
QUESTION_NOISE = FUNCTION_WORDS | set(
    tokenize(
        [
            "what which who whom whose how why when where does do did say says said mean means meaning "
            "according report reports document documents notes handbook quick one tell explain describe "
            "idea bit bits use used thing things think way ways kind should would could can give example "
            "about he she they them we us our you your it its there from come comes stand stands up "
            "slide slides deck chapter page pages quote quotes quoted paper presentation pdf"
        ]
    )[0]
)

_QUANTITY = re.compile(r"\b(how (much|many)|what (percentage|proportion|amount|number)|budget|cost of|threshold)\b", re.I)
_YEAR = re.compile(r"\b(what year|which year|when (was|were|did))\b", re.I)
_HAS_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion)\b", re.I)
_HAS_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@lru_cache(maxsize=65536)
def terms(text: str) -> frozenset[str]:
    """Stemmed, stop-word-free terms of `text`; cached, as the same passages and sentences recur."""
    return frozenset(tokenize([text])[0])


def expected_answer_type(question: str) -> str | None:
    """'year' or 'quantity' when the question asks for one, else None."""
    if _YEAR.search(question):
        return "year"
    if _QUANTITY.search(question):
        return "quantity"
    return None


def satisfies_type(text: str, answer_type: str | None) -> bool:
    if answer_type == "year":
        return bool(_HAS_YEAR.search(text))
    if answer_type == "quantity":
        return bool(_HAS_NUMBER.search(text))
    return True


# A capitalised word, or run of them, that does not open a sentence: "Wales", "Mayday Trust".
_NAME = re.compile(r"(?<![.?!:]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def proper_names(question: str) -> list[str]:
    """Names a question mentions: places, people and bodies the passages must know to answer."""
    return [name for name in _NAME.findall(question.strip()) if terms(name) - QUESTION_NOISE]  # not "In" of "In-Care", nor "What" of "'What next'"


# Words that join a run of capitals without being a name: "Professor Hilary Cottam", "Plymouth How ...".
HONORIFICS = frozenset("mr mrs ms miss dr prof professor sir dame lord lady baroness cllr councillor".split())


def name_parts(name: str) -> list[str]:
    """The runs of a name between question words and honorifics: a follow-up joined to its thread
    ("... in Plymouth How does ...") or a Title Case question ("What Is The Budget Of ...") runs
    capitals together that the corpus never writes side by side."""
    parts: list[list[str]] = [[]]
    for word in name.split():
        if word.lower().strip(".") in HONORIFICS or not terms(word) - QUESTION_NOISE:
            parts.append([])
        else:
            parts[-1].append(word)
    return [" ".join(part) for part in parts if part]


_ANCHOR = re.compile(r"\b(\d{2,}|[A-Z]{2,6}s?)\b")


def anchors(question: str) -> list[str]:
    """Specific identifiers a supporting passage must contain: numbers, years and acronyms ('JRF', '2023')."""
    return [a.rstrip("s") if a[:-1].isupper() and a.endswith("s") else a for a in _ANCHOR.findall(question)]
