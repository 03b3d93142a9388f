"""The "related" outcome: say plainly what the reports don't say, then show the closest passages.

Each passage is shown by its sentence closest to the question, cited like any answer, so a reader
can judge it and open it; nothing is presented as the answer.
"""

from __future__ import annotations

from bot.extractive import units_of
from bot.gate import TOP
from bot.intent import focus_of
from bot.lexical import terms
from index import Hit

LONGEST_RESTATEMENT = 20  # words: a longer question is not repeated back in full


def missing(question: str) -> str | None:
    """The question as the reader asked it, to be quoted as what the reports don't answer; None when
    quoting it would not read well (several sentences, or a long conversational question)."""
    text = question.strip()
    if not text or len(text.split()) > LONGEST_RESTATEMENT or any(mark in text.rstrip("?.!") for mark in ".?!"):
        return None
    return text


def closest_passages(question: str, hits: list[Hit]) -> str:
    """One paragraph for each of the top passages, those from different documents first: its
    sentence sharing most of the question's focus, with its [n] marker (n indexes `hits`). Only the
    order is diversified, never the choice: a passage ranked second is not dropped for a sixth from
    another report, as the first few passages are the likeliest to hold what was asked."""
    focus = focus_of(question)
    top = hits[:TOP]  # the passages the support gate read: a related answer hides none of them
    order = sorted(range(len(top)), key=lambda i: (top[i].document_id in {top[j].document_id for j in range(i)}, i))
    lines: list[str] = []
    for i in order:
        hit = top[i]
        spans = units_of(hit.text) or ((0, len(hit.text)),)
        start, end = max(spans, key=lambda span: (len(focus & terms(hit.text[span[0] : span[1]])), -span[0]))
        sentence = " ".join(hit.text[start:end].split()).removeprefix("- ")
        lines.append(f"{sentence} [{i + 1}]")
    return "\n\n".join(lines)
