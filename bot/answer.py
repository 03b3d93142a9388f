"""Answering: search, decide whether the corpus supports an answer, generate, check citations, log.

The support gate abstains before generating when the question names a place, person or body the
corpus never mentions at all; when the best passages are neither close in meaning nor share
enough of the question's content words; when the question names a year, number or acronym they
never mention; or when it asks for a number or a year that no matching sentence holds. Whatever
the generator writes then passes the same citation check; an answer left with no supported
sentence abstains too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.citations import check
from bot.extractive import units_of
from bot.generate import AnswerGenerator, ExtractiveGenerator, GenerationFailed
from bot.lexical import anchors, content_terms, expected_answer_type, proper_names, satisfies_type, terms
from bot.models import Answer, Turn, with_context
from bot.nul import refuse_nul
from bot.prompts import Prompts
from bot.records import QueryLog, new_id
from index import Hit, InputRejected, Searcher, SearchFilters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SupportGate:
    """Thresholds calibrated on the eval sets' answerable and unanswerable questions (see README)."""

    min_similarity: float = 0.20
    min_term_coverage: float = 0.45
    strong_similarity: float = 0.60
    min_typed_coverage: float = 0.25

    def supports(self, question: str, hits: list[Hit], answer_type: str | None, corpus_mentions: Callable[[str], bool]) -> bool:
        if not hits:
            return False
        if not all(corpus_mentions(name) for name in proper_names(question)):
            return False  # "Wales", "Manchester": nothing in the corpus can speak about them
        wanted = content_terms(question)
        if not wanted:
            return False
        best_similarity = max((h.similarity or 0.0) for h in hits[:5])
        coverage = max(len(wanted & terms(f"{h.title} {h.section} {h.text}")) / len(wanted) for h in hits[:5])
        if best_similarity < self.min_similarity and coverage < 1.0:
            return False  # far in meaning, unless one passage holds every content word (names, acronyms)
        if coverage < self.min_term_coverage and best_similarity < self.strong_similarity:
            return False
        passages = " ".join(f"{h.title} {h.section} {h.text}" for h in hits[:5]).lower()
        if any(anchor.lower() not in passages for anchor in anchors(question)):
            return False  # the question names a year, number or acronym the passages never mention
        if answer_type:
            return self._typed_coverage(wanted, hits[:5], answer_type) > self.min_typed_coverage
        return True

    @staticmethod
    def _typed_coverage(wanted: set[str], hits: list[Hit], answer_type: str) -> float:
        """Best share of the question's terms in one sentence that holds the kind of answer asked for."""
        best = 0.0
        for hit in hits:
            for start, end in units_of(hit.text):
                sentence = hit.text[start:end]
                if satisfies_type(sentence, answer_type):
                    best = max(best, len(wanted & terms(sentence)) / len(wanted))
        return best


class AnswerService:
    """Turns a question into an Answer with verified citations, or an honest abstention."""

    def __init__(
        self,
        searcher: Searcher,
        generator: AnswerGenerator,
        prompts: Prompts,
        engine: Engine,
        max_question_chars: int,
        k: int = 8,
        gate: SupportGate = SupportGate(),
    ) -> None:
        self.searcher = searcher
        self.generator = generator
        self.fallback = ExtractiveGenerator()
        self.prompts = prompts
        self.engine = engine
        self.max_question_chars = max_question_chars
        self.k = k
        self.gate = gate

    def answer(
        self, question: str, k: int | None = None, filters: SearchFilters | None = None, history: list[Turn] | None = None, surface: str = "api",
        private: bool = False,
    ) -> Answer:
        """Answer `question`; `private` marks one asked in a DM or private channel, kept out of every gaps view."""
        started = time.perf_counter()
        question = self.validate(question)
        history = history or []
        focus = with_context(question, history)
        hits = self.searcher.search(focus, k or self.k, filters or SearchFilters())
        answer_type = expected_answer_type(question)
        answer = self._compose(question, hits, history, answer_type) if self.gate.supports(focus, hits, answer_type, self.searcher.mentions) else None
        if answer is None:
            answer = Answer(answer=self.prompts.abstain, citations=[], abstained=True, question_id=new_id(), mode=self.generator.name)
        self._log(question, answer, hits, started, surface, private)
        return answer

    def stored(self, question_id: str) -> Answer | None:
        """An answer given earlier, by its question_id (for sharing it later)."""
        with Session(self.engine) as session:
            entry = session.get(QueryLog, question_id)
        return Answer.model_validate_json(entry.answer) if entry and entry.answer else None

    def can_answer(self, question: str) -> bool:
        """Whether the corpus now supports an answer (the gate alone; nothing is logged)."""
        hits = self.searcher.search(question, self.k)
        return self.gate.supports(question, hits, expected_answer_type(question), self.searcher.mentions)

    def validate(self, question: str) -> str:
        refuse_nul(question, "question")
        text = " ".join(question.split())
        if not text:
            raise InputRejected("The question is empty; ask something about the reports or learning logs.", field="question")
        if len(text) > self.max_question_chars:
            raise InputRejected(f"The question is too long ({len(text)} characters; the limit is {self.max_question_chars}).", field="question")
        return text

    def _compose(self, question: str, hits: list[Hit], history: list[Turn], answer_type: str | None) -> Answer | None:
        try:
            draft = self.generator.generate(question, hits, history, answer_type)
        except GenerationFailed as error:
            log.warning("generator %s failed, answering extractively: %s", self.generator.name, error)
            draft = self.fallback.generate(question, hits, history, answer_type)
            draft = type(draft)(draft.text, draft.abstained, "extractive-fallback")
        if draft.abstained:
            return None
        checked = check(draft.text, hits)
        if not checked.citations:
            return None
        text = checked.text
        years = sorted({c.year for c in checked.citations if c.year})
        if len({c.document_id for c in checked.citations}) > 1 and len(years) > 1 and years[-1] - years[0] >= 5:
            text += "\n\n" + self.prompts.text("answer", "disagreement_note", first=years[0], last=years[-1])
        return Answer(answer=text, citations=checked.citations, abstained=False, question_id=new_id(), mode=draft.mode)

    def _log(self, question: str, answer: Answer, hits: list[Hit], started: float, surface: str, private: bool) -> None:
        entry = QueryLog(
            id=answer.question_id,
            question=question,
            answered=not answer.abstained,
            abstained=answer.abstained,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=[h.chunk_id for h in hits],
            mode=answer.mode,
            surface=surface,
            private=private,
            answer=answer.model_dump_json(),
        )
        with Session(self.engine) as session:
            session.add(entry)
            session.commit()

