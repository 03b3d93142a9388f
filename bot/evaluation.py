"""Evaluation on a question file (JSON lines: id, question, type, answer, evidence[{file, quote}], keywords).

Retrieval: hit@k, MRR@10 and evidence coverage, also within a character budget (the ranked
passages cut to `budget` characters in total, as a reader or an LLM would receive them).
A gold quote matches a passage when its words appear in order in the passage's words, so
markup the cleaner removed (bold, footnote markers) does not count against a retriever.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

from bot.answer import AnswerService
from bot.models import Answer
from index import LearnloopError, Searcher, SearchFilters


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    type: str
    quotes: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def match_key(text: str) -> str:
    """Lower-case words only, single-spaced: the form in which quotes and passages are compared."""
    text = re.sub(r"<sup>(?:(?!</?sup>).)*+</sup>|</?p>", " ", text)
    return " ".join(re.findall(r"[a-z0-9%£]+", text.lower()))


def load_questions(path: Path) -> list[EvalQuestion]:
    """Parse a question file; a malformed line is an error naming its line number."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                EvalQuestion(
                    id=str(row["id"]),
                    question=str(row["question"]),
                    type=str(row.get("type", "")),
                    quotes=[e["quote"] for e in row.get("evidence", [])],
                    keywords=[str(k) for k in row.get("keywords", [])],
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise LearnloopError(f"{path}:{number}: not a valid question line ({error}).") from error
    return questions


def budget_texts(texts: list[str], budget: int) -> list[str]:
    """The ranked passages cut so their total length is at most `budget` characters."""
    kept, used = [], 0
    for text in texts:
        if used >= budget:
            break
        kept.append(text[: budget - used])
        used += len(kept[-1])
    return kept


def _found(quote: str, passages: list[str]) -> bool:
    key = match_key(quote)
    return any(key in passage for passage in passages)


def retrieval_metrics(searcher: Searcher, questions: list[EvalQuestion], mode: str, k: int = 5, budget: int = 5000) -> dict:
    """Metrics of one retriever (`mode`) on the answerable questions."""
    rows = []
    for q in (q for q in questions if q.answerable and q.quotes):
        ranked = searcher.rank(q.question, max(10, k), SearchFilters(), mode=mode)
        texts = [searcher.meta(i).text for i, _ in ranked]
        keys = [match_key(t) for t in texts]
        in_budget = [match_key(t) for t in budget_texts(texts, budget)]
        first = next((r for r, key in enumerate(keys[:10], start=1) if any(match_key(qt) in key for qt in q.quotes)), None)
        rows.append(
            {
                "hit_k": any(_found(qt, keys[:k]) for qt in q.quotes),
                "hit_budget": any(_found(qt, in_budget) for qt in q.quotes),
                "rr": 1.0 / first if first else 0.0,
                "cov_k": [_found(qt, keys[:k]) for qt in q.quotes],
                "cov_budget": [_found(qt, in_budget) for qt in q.quotes],
                "budget_passages": len(in_budget),
            }
        )
    if not rows:
        return {"questions": 0}
    all_k = [f for r in rows for f in r["cov_k"]]
    all_b = [f for r in rows for f in r["cov_budget"]]
    return {
        "questions": len(rows),
        f"hit@{k}": round(mean(r["hit_k"] for r in rows), 3),
        "mrr@10": round(mean(r["rr"] for r in rows), 3),
        f"coverage@{k}": round(sum(all_k) / len(all_k), 3),
        f"hit@{budget}chars": round(mean(r["hit_budget"] for r in rows), 3),
        f"coverage@{budget}chars": round(sum(all_b) / len(all_b), 3),
        "passages_in_budget": round(mean(r["budget_passages"] for r in rows), 1),
        "missed": [q.id for q, r in zip([q for q in questions if q.answerable and q.quotes], rows, strict=True) if not r["hit_budget"]],
    }


def compare_retrievers(searcher: Searcher, questions: list[EvalQuestion], modes: list[str], k: int = 5, budget: int = 5000) -> dict[str, dict]:
    """`retrieval_metrics` of each mode on the same questions: the rows of one comparison table."""
    return {mode: retrieval_metrics(searcher, questions, mode, k, budget) for mode in modes}


def citations_valid(answer: Answer, searcher: Searcher) -> bool:
    """Every [n] has a Citation and every Citation's quote is verbatim in the chunk it names."""
    numbers = {int(n) for n in re.findall(r"\[(\d{1,3})\]", answer.answer)}
    by_number = {c.n: c for c in answer.citations}
    if answer.abstained:
        return not answer.citations
    if numbers != set(by_number):
        return False
    for citation in answer.citations:
        meta = searcher.meta(citation.chunk_id)
        if meta is None or citation.quote not in meta.text:
            return False
    return True


def answer_metrics(service: AnswerService, searcher: Searcher, questions: list[EvalQuestion]) -> dict:
    """Citation validity, supported rate, keyword recall, abstention (right and wrong), latency."""
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    valid, supported, recall, abstained_right, abstained_wrong = [], [], [], [], []
    wrong_ids, unsupported_ids, leaked_ids = [], [], []
    for q in questions:
        answer = service.answer(q.question, surface="eval")
        valid.append(citations_valid(answer, searcher))
        if not q.answerable:
            abstained_right.append(answer.abstained)
            if not answer.abstained:
                leaked_ids.append(q.id)
            continue
        abstained_wrong.append(answer.abstained)
        if answer.abstained:
            wrong_ids.append(q.id)
            continue
        cited = [match_key(searcher.meta(c.chunk_id).text) for c in answer.citations]
        ok = any(_found(quote, cited) for quote in q.quotes)
        supported.append(ok)
        if not ok:
            unsupported_ids.append(q.id)
        if q.keywords:
            text = answer.answer.lower()
            recall.append(sum(k.lower() in text for k in q.keywords) / len(q.keywords))
    return {
        "questions": len(questions),
        "citation_validity": round(mean(valid), 3) if valid else None,
        "answered_rate": round(1 - mean(abstained_wrong), 3) if abstained_wrong else None,
        "supported_rate": round(mean(supported), 3) if supported else None,
        "keyword_recall": round(mean(recall), 3) if recall else None,
        "abstention_on_unanswerable": round(mean(abstained_right), 3) if abstained_right else None,
        "false_abstention": round(mean(abstained_wrong), 3) if abstained_wrong else None,
        "falsely_abstained": wrong_ids,
        "unsupported": unsupported_ids,
        "answered_unanswerable": leaked_ids,
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
    }
