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
    """Per outcome: answerable questions answered with gold evidence cited, shown as related with
    gold, or abstained on; unanswerable ones answered, related or abstained; keyword recall of the
    answers; citation validity."""
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    valid, recall = [], []
    outcomes: dict[str, list[str]] = {key: [] for key in ("answer_with_gold", "answer_without_gold", "related_with_gold", "related_without_gold", "abstained")}
    leaked: dict[str, list[str]] = {"answer": [], "related": [], "abstain": []}
    for q in questions:
        answer = service.answer(q.question, surface="eval")
        valid.append(citations_valid(answer, searcher))
        if not q.answerable:
            leaked[answer.outcome].append(q.id)
            continue
        if answer.outcome == "abstain":
            outcomes["abstained"].append(q.id)
            continue
        cited = [match_key(searcher.meta(c.chunk_id).text) for c in answer.citations]
        gold = any(_found(quote, cited) for quote in q.quotes)
        outcomes[f"{answer.outcome}_{'with' if gold else 'without'}_gold"].append(q.id)
        if answer.outcome == "answer" and q.keywords:
            text = answer.answer.lower()
            recall.append(sum(k.lower() in text for k in q.keywords) / len(q.keywords))
    share = lambda ids, of: round(len(ids) / len(of), 3) if of else None  # noqa: E731
    return {
        "questions": len(questions),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "citation_validity": round(mean(valid), 3) if valid else None,
        "answer_with_gold": share(outcomes["answer_with_gold"], answerable),
        "related_with_gold": share(outcomes["related_with_gold"], answerable),
        "answer_or_related_with_gold": share(outcomes["answer_with_gold"] + outcomes["related_with_gold"], answerable),
        "false_abstention": share(outcomes["abstained"], answerable),
        "unanswerable_answered": share(leaked["answer"], unanswerable),
        "unanswerable_related": share(leaked["related"], unanswerable),
        "keyword_recall": round(mean(recall), 3) if recall else None,
        "ids": {**outcomes, **{f"unanswerable_{k}": v for k, v in leaked.items()}},
    }
