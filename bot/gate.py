"""The support gate: does the corpus answer this question, come close, or hold nothing relevant?

It judges what is asked, not how many words the passages share. Near misses name the corpus's own
people and programmes ("who co-chairs X alongside Y?", "what results has Z achieved so far?"), so
their words all occur; they are answered only when one sentence about the question's focus holds
the kind of fact asked for (a person, an amount, a date, steps, results). Conversational questions
paraphrase, so the gate reads their focus without small talk and leans on meaning. When unsure it
says "related": the closest passages are still shown, but not as an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.extractive import list_items, units_of
from bot.intent import Intent, holds_target, intent_of, states_count
from bot.lexical import anchors, name_parts, terms
from bot.models import Outcome
from index import Hit


class Vocabulary(Protocol):
    """What the gate asks of the corpus's words (index.Searcher answers both)."""

    def mentions(self, text: str) -> bool: ...

    def holds_phrase(self, text: str) -> bool: ...


TOP = 5  # passages the gate reads: the ones an answer would draw on first
AUTHORSHIP = terms("wrote write writes written author authors authored publish published produced compiled")


@dataclass(frozen=True)
class SupportGate:
    """Thresholds calibrated on the tune set and the older eval sets (README, Answers)."""

    min_similarity: float = 0.20  # below it nothing is close in meaning (unless one passage holds every focus term)
    min_term_coverage: float = 0.45  # share of focus terms one passage must hold, unless it is very close in meaning
    strong_similarity: float = 0.60
    related_similarity: float = 0.35  # close enough to show as related when the words do not match
    min_sentence_terms: int = 3  # focus terms one sentence must share when the passage words differ
    min_related_terms: int = 2  # focus terms a passage far in meaning must share to be shown as related
    min_role_coverage: float = 0.34  # share of the asking clause's other focus terms in the one answering sentence (a third)

    def judge(self, question: str, hits: list[Hit], corpus: Vocabulary) -> Outcome:
        intent = intent_of(question)
        if not hits or not intent.focus:
            return "abstain"
        if not all(corpus.mentions(name) for name in intent.names):
            return "abstain"  # "Wales", "Manchester": nothing in the corpus can speak about them
        top = hits[:TOP]
        best_similarity = max((h.similarity or 0.0) for h in top)
        shared = max(len(intent.focus & terms(f"{h.title} {h.section} {h.text}")) for h in top)
        coverage = shared / len(intent.focus)
        if best_similarity < self.min_similarity and coverage < 1.0:
            return "abstain"
        if coverage < self.min_term_coverage and best_similarity < self.strong_similarity:
            # A share of a long conversational question's terms is small even when several match:
            # a passage sharing several focus terms is close enough to show, whatever its cosine.
            if best_similarity < self.related_similarity and shared < self.min_related_terms:
                return "abstain"
            if intent.target or not any(self._paraphrases(intent, hit) for hit in top[:3]):
                return "related"
        if not all(corpus.holds_phrase(part) for name in intent.names for part in name_parts(name)):
            return "related"  # "the Three Conversations model": the corpus uses its words, never the name
        passages = " ".join(f"{h.title} {' '.join(h.authors)} {h.section} {h.text}" for h in top).lower()
        if any(anchor.lower() not in passages for anchor in anchors(question)):  # "the CCPS notes": CCPS is an author
            return "related"  # the question names a year, number or acronym the passages never mention
        if intent.target and not any(self._answers(intent, hit) for hit in top):
            return "related"
        return "answer"

    def _paraphrases(self, intent: Intent, hit: Hit) -> bool:
        """A conversational question in other words: one sentence still carries several of its focus terms."""
        wanted = min(self.min_sentence_terms, len(intent.focus))
        return any(len(intent.focus & terms(hit.text[start:end])) >= wanted for start, end in units_of(hit.text))

    def _answers(self, intent: Intent, hit: Hit) -> bool:
        """Whether one sentence of `hit` holds the kind of fact asked for and is about the focus: it
        names what the question names (here or in its heading), the role or quantity asked about,
        and a share of the other focus terms."""
        context = terms(f"{hit.title} {hit.section}")
        named = frozenset().union(*(terms(name) for name in intent.names)) if intent.names else frozenset()
        if intent.target == "person" and (intent.role | intent.asked) & AUTHORSHIP and hit.authors and named and named <= context:
            return True  # "who wrote X?": the authors of X answer it (not "who chairs X?")
        others = intent.asked - named
        previous: frozenset[str] = frozenset()  # the sentence before may name what "the alliance" refers to
        for start, end in units_of(hit.text):
            sentence = hit.text[start:end]
            found = terms(sentence)
            earlier, previous = previous, found
            holds = holds_target(sentence, intent.target, intent.given)
            if intent.items:  # "what are all ten actions?": a list of four is not them; "the three pillars are ..." is
                holds = holds and max(len(list_items(hit.text, end, intent.items)), sentence.count("\n- ")) >= intent.items
                holds = holds or states_count(sentence, intent.items)
            if not holds:
                continue
            if not named <= found | earlier | context or not intent.role <= found:
                continue
            if not others or len(others & found) / len(others) >= self.min_role_coverage:
                return True
        return False
