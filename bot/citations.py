"""The one citation checker for every generator: no citation, no claim.

Given a draft with [n] markers and the numbered sources it was written from:
- markers that name no source are removed;
- a sentence left without a valid marker is dropped (short lead-ins ending in ':' are kept when
  the cited sentence they introduce survives);
- a sentence whose quoted words ("...") are not verbatim in a source it cites is dropped;
- a sentence that shares too few content words with the sources it cites is dropped;
- each surviving source becomes a Citation whose quote is the source sentence that best matches
  the claim, verbatim from the chunk; markers are renumbered 1..N in order of first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.extractive import units_of
from bot.lexical import terms
from bot.models import Citation
from index import Hit
from ingest.chunk import split_sentences

MARKER = re.compile(r"\s?\[(\d{1,3})\]")
# A marker followed by more text ends a claim, even where the sentence splitter sees no boundary
# (a closing quote then a marker: `..." [1] "...`).
AFTER_MARKER = re.compile(r"(?<=\[\d\])\s+|(?<=\[\d\d\])\s+|(?<=\[\d\d\d\])\s+")
QUOTED = re.compile(r"[\"“]([^\"“”]{12,}+)[\"”]")  # never past an opening quote: linear time
MIN_SUPPORT = 0.34


@dataclass(frozen=True)
class Checked:
    text: str
    citations: list[Citation]


def _sentences(paragraph: str) -> list[str]:
    """Claims of a paragraph: sentences, with list items ("- ...") kept with the sentence that introduces
    them, and markers that trail a full stop (". [2]") kept with the sentence before."""
    claims: list[str] = []
    for line in paragraph.split("\n"):
        if line.lstrip().startswith("- ") and claims:
            claims[-1] += "\n" + line
            continue
        for part in AFTER_MARKER.split(line):
            for start, end in split_sentences(part):
                piece = part[start:end]
                leading = re.match(r"^((?:\s*\[\d{1,3}\])+)\s*", piece)
                if leading and claims:
                    claims[-1] += leading.group(1)
                    piece = piece[leading.end() :]
                if piece.strip():
                    claims.append(piece)
    return claims


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split()).lower()


def _supported(claim: str, hit: Hit) -> bool:
    for quoted in QUOTED.findall(claim):
        if _normalise(quoted) not in _normalise(hit.text):
            return False
    claimed = terms(MARKER.sub("", claim))
    if not claimed:
        return False
    available = terms(f"{hit.title} {hit.section} {' '.join(hit.authors)} {hit.text}")
    return len(claimed & available) / len(claimed) >= MIN_SUPPORT


def best_quote(claim: str, hit: Hit) -> str:
    """The sentence of the chunk that shares most words with the claim (verbatim from the chunk)."""
    claimed = terms(MARKER.sub("", claim))
    spans = units_of(hit.text) or [(0, len(hit.text))]
    start, end = max(spans, key=lambda span: len(terms(hit.text[span[0] : span[1]]) & claimed))
    return hit.text[start:end]


def check(draft: str, sources: list[Hit]) -> Checked:
    """Keep only what the sources support; see the module docstring for the rules."""
    numbering: dict[int, int] = {}
    citations: list[Citation] = []
    kept_paragraphs: list[str] = []
    for paragraph in draft.split("\n\n"):
        kept: list[str] = []
        lead_in = ""
        for sentence in _sentences(paragraph):
            cited = [int(n) for n in MARKER.findall(sentence) if 1 <= int(n) <= len(sources)]
            if not cited:
                if sentence.rstrip().endswith(":") and len(sentence.split()) <= 25:
                    lead_in = sentence
                continue
            valid = [n for n in dict.fromkeys(cited) if _supported(sentence, sources[n - 1])]
            if not valid:
                continue
            for n in valid:
                if n not in numbering:
                    numbering[n] = len(numbering) + 1
                    citations.append(Citation.from_hit(numbering[n], sources[n - 1], best_quote(sentence, sources[n - 1])))
            body = MARKER.sub("", sentence).rstrip()
            markers = "".join(f" [{numbering[n]}]" for n in valid)
            kept.append(f"{lead_in}{' ' if lead_in else ''}{body}{markers}")
            lead_in = ""
        if kept:
            kept_paragraphs.append(" ".join(kept))
    return Checked(text="\n\n".join(kept_paragraphs), citations=citations)
