"""Answering: search, judge what the corpus holds, generate, check citations, log.

Three outcomes (bot.gate judges which): "answer" when a passage answers what is asked; "related"
when passages come close but none answers it (the text says what is missing and shows them);
"abstain" when nothing relevant is there. Whatever a generator writes passes the one citation
check; an answer left with no supported sentence, or a model that says its sources don't answer,
becomes "related".
"""

from __future__ import annotations

import logging
import re
import time

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.citations import check
from bot.gate import SupportGate
from bot.generate import AnswerGenerator, ExtractiveGenerator, GenerationFailed
from bot.lexical import expected_answer_type
from bot.metrics import Metrics
from bot.models import Answer, Turn, with_context
from bot.nul import refuse_nul
from bot.prompts import Prompts
from bot.records import QueryLog, new_id
from bot.related import closest_passages, missing
from index import Hit, InputRejected, Searcher, SearchFilters

log = logging.getLogger(__name__)
# The years note belongs where the asker compares sources or times, not on every answer that cites two.
COMPARISON = re.compile(r"\b(?:differ\w*|compar\w*|contrast\w*|versus|vs|chang\w*|over time|disagree\w*|evolv\w*|older|newer)\b", re.I)


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
        metrics: Metrics | None = None,
    ) -> None:
        self.searcher = searcher
        self.generator = generator
        self.fallback = ExtractiveGenerator()
        self.prompts = prompts
        self.engine = engine
        self.max_question_chars = max_question_chars
        self.k = k
        self.gate = gate
        self.metrics = metrics or Metrics()

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
        outcome = self.gate.judge(focus, hits, self.searcher)
        answer = self._compose(question, hits, history, expected_answer_type(question)) if outcome == "answer" else None
        if answer is None and outcome != "abstain":
            answer = self._related(question, hits)
        if answer is None:
            answer = Answer(answer=self.prompts.abstain, citations=[], abstained=True, outcome="abstain", question_id=new_id(), mode=self.generator.name)
        self._log(question, answer, hits, started, surface, private)
        self.metrics.answered(answer.outcome, surface)
        return answer

    def stored(self, question_id: str) -> Answer | None:
        """An answer given earlier, by its question_id (for sharing it later)."""
        with Session(self.engine) as session:
            entry = session.get(QueryLog, question_id)
        return Answer.model_validate_json(entry.answer) if entry and entry.answer else None

    def can_answer(self, question: str) -> bool:
        """Whether the corpus now supports an answer (the gate alone; nothing is logged)."""
        return self.gate.judge(question, self.searcher.search(question, self.k), self.searcher) == "answer"

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
        if COMPARISON.search(question) and len({c.document_id for c in checked.citations}) > 1 and len(years) > 1 and years[-1] - years[0] >= 5:
            text += "\n\n" + self.prompts.text("answer", "disagreement_note", first=years[0], last=years[-1])
        return Answer(answer=text, citations=checked.citations, abstained=False, question_id=new_id(), mode=draft.mode)

    def _related(self, question: str, hits: list[Hit]) -> Answer | None:
        """The closest passages, cited, under a line saying what the reports don't say."""
        checked = check(closest_passages(question, hits), hits)
        if not checked.citations:
            return None
        what = missing(question)
        lead = self.prompts.text("answer", "related", missing=what) if what else self.prompts.text("answer", "related_unnamed")
        lines = "\n".join(f"- {paragraph}" for paragraph in checked.text.split("\n\n"))
        return Answer(answer=f"{lead}\n{lines}", citations=checked.citations, abstained=False, outcome="related", question_id=new_id(), mode=self.generator.name)

    def _log(self, question: str, answer: Answer, hits: list[Hit], started: float, surface: str, private: bool) -> None:
        entry = QueryLog(
            id=answer.question_id,
            question=question,
            answered=answer.outcome == "answer",
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

