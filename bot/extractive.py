"""The offline answer: pick the sentences of the best passages that answer the question, with [n] markers.

Sentences are scored by how many of the question's focus terms they carry, with those of their
passage's heading when it names what is asked (rarer terms count more), plus a prior for the
passage's rank; a sentence sharing a single word with a question that has several, and references,
contents lines, "Source:" lines and bare links, are never chosen, nor anything in an index or a
bibliography. Each source contributes at most two, the best source of each document is
represented, a sentence that introduces a list brings the list, and at most five are chosen: the
best leads, and the rest are grouped by document under who said them, best first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from bot.attribution import attribution
from bot.intent import focus_of
from bot.lexical import satisfies_type, terms
from index import Hit
from ingest.chunk import split_sentences

MAX_SENTENCES = 5
PER_SOURCE = 2
LIST_ITEMS = 8
SENTENCE_ENDS = tuple(".!?:;)\"'”’")
FRAGMENT_WEIGHT = 0.4
RELATIVE_FLOOR = 0.25  # a sentence scoring under this share of the best one adds noise, not answer
# Bibliography and reference entries, "Source:" lines, links and contents lines: never an answer.
NOT_PROSE = re.compile(
    r"https?://|www\.|\bdoi\b|\bet al\b|\bpp?\.\s?\d|\bISBN\b|\bRetrieved\b|^\W*(?:Source|Sources|Available at|See also)\b"
    r"|\(\d{4}[a-z]?\)[.,:]|\.{4,}|^\W*(?:Chapter|Section|Figure|Table|Annex|Appendix)\s+\w{1,4}\b\W*$",
    re.I,
)

# An index or a bibliography lists and points; it never says anything itself. Only the passage's own
# heading counts: "Bibliography and further thinking > About PIPC" is prose about the publisher, and a
# "Contents" heading may be followed by a report's opening text.
BACK_MATTER = re.compile(r"^(?:index|references|endnotes|footnotes)$|^(?:bibliography|further reading|reference list)\b", re.I)


def is_back_matter(section: str) -> bool:
    return bool(BACK_MATTER.search(section.rsplit(" > ", 1)[-1].strip()))


def heading_terms(section: str, wanted: frozenset[str]) -> frozenset[str]:
    """The question's terms that a passage's own heading carries, when it carries at least two (or all
    of a short question's): a heading that names what is asked speaks for the sentences under it."""
    shared = terms(section.rsplit(" > ", 1)[-1]) & wanted
    return shared if len(shared) >= min(2, len(wanted)) else frozenset()

# "What questions does the session suggest we ask?": then the source's own questions are the answer.
ASKS_FOR_QUESTIONS = re.compile(r"\bquestions\b", re.I)


@dataclass(frozen=True)
class Unit:
    """A sentence or list item of source `n`, at [start, end) of that source's text."""

    n: int
    start: int
    end: int
    text: str
    score: float


@lru_cache(maxsize=8192)
def units_of(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence spans of a passage, block by block (blocks are separated by blank lines).

    Cached: passages are immutable and come back answer after answer, and sentence splitting
    (pysbd) was two thirds of an extractive answer's time.
    """
    spans: list[tuple[int, int]] = []
    offset = 0
    for block in text.split("\n\n"):
        spans.extend((offset + s, offset + e) for s, e in split_sentences(block))
        offset += len(block) + 2
    return tuple(spans)


def score_units(question: str, hits: list[Hit], answer_type: str | None) -> list[Unit]:
    wanted = focus_of(question)
    # One shared word is not a link to a question that has several, except in the passage search ranked first.
    least = min(2, max(len(wanted), 1))
    asks_for_questions = bool(ASKS_FOR_QUESTIONS.search(question))
    candidates: list[tuple[int, int, int, str, frozenset[str]]] = []
    # Under "A soup not a salad", the passage's sentences explain the soup without naming it.
    heading = {n: heading_terms(hit.section, wanted) for n, hit in enumerate(hits, start=1)}
    for n, hit in enumerate(hits, start=1):
        if not is_back_matter(hit.section):
            candidates.extend((n, start, end, hit.text[start:end], terms(hit.text[start:end])) for start, end in units_of(hit.text))
    frequency: dict[str, int] = {}
    for n, *_, found in candidates:
        for term in (found | heading[n]) & wanted:
            frequency[term] = frequency.get(term, 0) + 1
    headings = {n: set(hit.section.split(" > ")) for n, hit in enumerate(hits, start=1)}
    units = []
    for n, start, end, text, found in candidates:
        matched = (found | heading[n]) & wanted
        if len(matched) < (least if n > 1 else 1) or not satisfies_type(text, answer_type) or NOT_PROSE.search(text):
            continue
        if text.strip() in headings[n]:  # a section heading repeated in the passage, not an answer
            continue
        weight = sum(math.log(1 + len(candidates) / frequency[t]) for t in matched)
        fragment = len(found) < 4 or (len(text.split()) < 12 and not text.rstrip().endswith(SENTENCE_ENDS))
        asks = text.rstrip().endswith("?") and not asks_for_questions  # a source's question rarely answers the asker's
        length_penalty = FRAGMENT_WEIGHT if fragment or asks else 1.0  # slide titles and stray labels say little
        units.append(Unit(n, start, end, text, weight * length_penalty + 1.5 / n))
    return units


def select(units: list[Unit], hits: list[Hit]) -> list[Unit]:
    """Best units under the per-source cap, making sure each cited document's best unit is in.

    Consecutive chunks share a sentence, so the same words can come from two sources: they are
    taken once.
    """
    chosen: list[Unit] = []
    taken: set[str] = set()
    per_source: dict[int, int] = {}
    ranked = sorted(units, key=lambda u: -u.score)
    best_per_document: dict[int, Unit] = {}
    for unit in ranked:
        best_per_document.setdefault(hits[unit.n - 1].document_id, unit)
    top_score = ranked[0].score if ranked else 0.0
    for unit in list(best_per_document.values())[:3] + ranked:
        if len(chosen) >= MAX_SENTENCES or unit.score < RELATIVE_FLOOR * top_score:
            continue
        words = " ".join(unit.text.split())
        if words in taken or per_source.get(unit.n, 0) >= PER_SOURCE:
            continue
        taken.add(words)
        chosen.append(unit)
        per_source[unit.n] = per_source.get(unit.n, 0) + 1
    return chosen


def list_items(text: str, end: int, limit: int = LIST_ITEMS) -> list[tuple[int, int]]:
    """Spans of the short blocks that follow position `end` of `text` (a list's items), at most `limit`."""
    spans: list[tuple[int, int]] = []
    position = end
    for block in text[end:].split("\n\n")[1 : limit + 1]:
        position = text.find(block, position)
        if not block.strip() or len(block.split()) > 45:
            break
        spans.append((position, position + len(block)))
    return spans


def with_list(unit: Unit, hit: Hit) -> Unit:
    """A unit that introduces a list (ends with ':') grows to cover the list's items."""
    if not unit.text.rstrip().endswith(":"):
        return unit
    items = list_items(hit.text, unit.end)
    end = items[-1][1] if items else unit.end
    return Unit(unit.n, unit.start, end, hit.text[unit.start : end], unit.score)


def compose(question: str, hits: list[Hit], answer_type: str | None) -> str:
    """The extractive answer text with [n] markers (n indexes `hits`), or '' when nothing fits."""
    chosen = [with_list(u, hits[u.n - 1]) for u in select(score_units(question, hits, answer_type), hits)]
    if not chosen:
        return ""
    order: list[int] = []
    for unit in sorted(chosen, key=lambda u: -u.score):
        document = hits[unit.n - 1].document_id
        if document not in order:
            order.append(document)
    paragraphs = []
    for document in order:
        mine = sorted((u for u in chosen if hits[u.n - 1].document_id == document), key=lambda u: -u.score)
        rendered = [f"{u.text.strip().replace(chr(10) * 2, chr(10) + '- ')} [{u.n}]" for u in mine]
        body = ("\n" if any("\n" in r for r in rendered) else " ").join(rendered)
        paragraphs.append(f"{attribution(hits[mine[0].n - 1])}: {body}")
    return "\n\n".join(paragraphs)
