"""Chunking: heading-aware, sentence-aligned passages with page spans and character offsets.

Chunks never start mid-sentence; a new section starts a new chunk unless the current one is too
small to stand alone; lists and table rows are kept as whole units; consecutive chunks of one
section share one sentence so a quote across the boundary is still found whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pysbd

from index.records import ChunkDraft
from ingest.structure import Block

_SEGMENTER = pysbd.Segmenter(language="en", clean=False)
# Characters the sentence splitter reads at once: pysbd slows down quadratically on long runs of
# abbreviations ("Mr. Mr. ..."), so a long block is read a window at a time.
SENTENCE_WINDOW = 2000


@dataclass(frozen=True)
class ChunkSizes:
    """Word counts that shape chunks; measured on the eval sets (see README, Retrieval quality)."""

    target: int = 150
    maximum: int = 220
    minimum: int = 40
    overlap_max: int = 35


@dataclass(frozen=True)
class _Unit:
    """A sentence, list item or table row at [start, end) of the document's clean text."""

    start: int
    end: int
    words: int
    page: int | None
    section: str


def layout(blocks: list[Block]) -> tuple[str, list[tuple[Block, int, str]]]:
    """The document's clean text (blocks joined by blank lines) and each block's offset and section."""
    parts: list[str] = []
    placed: list[tuple[Block, int, str]] = []
    path: list[tuple[int, str]] = []
    offset = 0
    for block in blocks:
        if block.kind == "heading":
            path = [(level, text) for level, text in path if level < block.level] + [(block.level, block.text)]
        section = " > ".join(text for _, text in path)
        placed.append((block, offset, section))
        parts.append(block.text)
        offset += len(block.text) + 2
    return "\n\n".join(parts), placed


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in `text`, trailing spaces excluded, in linear time.

    The text is read SENTENCE_WINDOW characters at a time; a window's last sentence may run on past
    it, so it is read again at the start of the next window.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end = _window_end(text, start)
        found = _sentence_spans(text, start, end)
        if end < len(text) and len(found) > 1:
            found.pop()
            end = found[-1][1]
        spans.extend(found)
        start = end
    return spans


def _window_end(text: str, start: int) -> int:
    """Where a window from `start` ends: at the text's end, else at a space in its second half."""
    limit = start + SENTENCE_WINDOW
    if limit >= len(text):
        return len(text)
    space = text.rfind(" ", start + SENTENCE_WINDOW // 2, limit)
    return space if space > 0 else limit


def _sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans (in `text`) of pysbd's sentences of text[start:end], each found after the one before
    (pysbd's own `segment` locates them by re-searching the text for each one: quadratic)."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for sentence in _SEGMENTER.processor(text[start:end]).process():
        stripped = sentence.strip()
        found = text.find(stripped, cursor, end) if stripped else -1
        if found >= 0:
            spans.append((found, found + len(stripped)))
            cursor = found + len(stripped)
    return spans


def chunk_blocks(blocks: list[Block], title: str, sizes: ChunkSizes = ChunkSizes()) -> tuple[str, list[ChunkDraft]]:
    """The clean text and its chunks; `title` feeds each chunk's content hash (it is embedded too)."""
    text, placed = layout(blocks)
    groups = _group_units(_units(text, placed), sizes)
    chunks = []
    for ordinal, units in enumerate(groups):
        start, end = units[0].start, units[-1].end
        pages = [u.page for u in units if u.page is not None]
        body = text[start:end]
        section = units[0].section
        chunks.append(
            ChunkDraft(
                ordinal=ordinal,
                text=body,
                section=section,
                page_start=min(pages) if pages else None,
                page_end=max(pages) if pages else None,
                char_start=start,
                char_end=end,
                content_hash=hashlib.sha256(f"{title}\n{section}\n{body}".encode()).hexdigest(),
            )
        )
    return text, chunks


def _units(text: str, placed: list[tuple[Block, int, str]]) -> list[_Unit]:
    units: list[_Unit] = []
    for block, offset, section in placed:
        if block.kind == "paragraph" or len(block.text.split()) > 60:
            spans = split_sentences(block.text)
        else:
            spans = [(0, len(block.text))]
        for start, end in spans:
            words = len(text[offset + start : offset + end].split())
            units.append(_Unit(offset + start, offset + end, words, block.page, section))
    return units


def _group_units(units: list[_Unit], sizes: ChunkSizes) -> list[list[_Unit]]:
    """Pack units into chunks of about `target` words without crossing sections needlessly."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    words = 0

    def flush() -> list[_Unit]:
        nonlocal current, words
        groups.append(current)
        last = current[-1]
        carried = [last] if last.words <= sizes.overlap_max and len(current) > 1 else []
        current, words = list(carried), sum(u.words for u in carried)
        return carried

    for unit in units:
        new_section = bool(current) and unit.section != current[-1].section
        if new_section and words >= sizes.minimum:
            flush()
            current, words = [], 0  # no overlap across a section boundary
        elif current and words + unit.words > sizes.maximum and words >= sizes.minimum:
            flush()
        current.append(unit)
        words += unit.words
        if words >= sizes.target:
            flush()
    if current and (not groups or any(u not in groups[-1] for u in current)):
        groups.append(current)
    return groups
