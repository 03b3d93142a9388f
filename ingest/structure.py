"""Structure: turn cleaned lines into blocks (headings, paragraphs, list items, table rows) with pages.

Text and Markdown keep their headings as the section path; page-break splits are re-joined,
orphan quote marks re-attached and repeated pull-quotes dropped. PDFs take sections from the
document outline, since their visual headings do not survive text extraction reliably.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.clean import clean_heading, clean_inline, dehyphenate, is_noise_line

# Linear time on any line: the heading text is taken whole and its closing `#`s trimmed in Python
# (`(.+?)\s*#*\s*$` backtracked cubically over a run of spaces inside a heading).
_MD_HEADING = re.compile(r"^\s{0,3}+(#{1,6})\s++(.+)$")
_LIST_ITEM = re.compile(r"^\s*+(?:[-*+•]|\d{1,3}+[.)])\s++")
_NON_WORDS = re.compile(r"\W+")
_TERMINAL = tuple(".!?…:;\"”’')]")
_OPEN_QUOTES = {"“", '"', "‘"}
_DANGLING_WORDS = {"and", "or", "of", "the", "to", "a", "an", "in", "for", "with", "by", "on"}


@dataclass(frozen=True)
class Block:
    """A unit of document structure; `level` is the heading depth (0 for body blocks)."""

    kind: str  # heading | paragraph | list | table
    text: str
    level: int = 0
    page: int | None = None


def parse_text(text: str, guess_headings: bool) -> list[Block]:
    """Blocks of a Markdown or plain-text document (`guess_headings` for text without `#` markup)."""
    paragraphs = _paragraphs(text)
    blocks: list[Block] = []
    for index, lines in enumerate(paragraphs):
        following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
        blocks.extend(_classify(lines, guess_headings, following))
    return _tidy(blocks)


def parse_pdf_pages(pages: list[str], outline: dict[int, list[str]]) -> list[Block]:
    """Blocks of a PDF; `outline` maps a 1-based page to the outline titles that start on it."""
    blocks: list[Block] = []
    for number, page_text in enumerate(pages, start=1):
        for title in outline.get(number, []):
            blocks.append(Block("heading", clean_heading(title), level=1, page=number))
        for paragraph in _pdf_paragraphs(page_text):
            blocks.append(Block("paragraph", paragraph, page=number))
    return _tidy(blocks)


def _paragraphs(text: str) -> list[list[str]]:
    """Runs of non-blank lines, noise lines removed (they act as separators)."""
    result: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not line.strip() or is_noise_line(line):
            if current:
                result.append(current)
                current = []
            continue
        current.append(line.rstrip())
    if current:
        result.append(current)
    return result


def _classify(lines: list[str], guess_headings: bool, following: list[str] | None) -> list[Block]:
    blocks: list[Block] = []
    prose: list[str] = []

    def flush_prose() -> None:
        if prose:
            text = clean_inline(dehyphenate("\n".join(prose)).replace("\n", " "))
            if text:
                blocks.append(Block("paragraph", text))
            prose.clear()

    for line in lines:
        body = line.lstrip("> ").rstrip() if line.lstrip().startswith(">") else line
        heading = _md_heading(body)
        if heading and _reads_as_heading(heading[1]):
            flush_prose()
            text = clean_heading(heading[1])
            if text:
                blocks.append(Block("heading", text, level=heading[0]))
        elif heading or _LIST_ITEM.match(body):
            flush_prose()
            text = clean_inline(_LIST_ITEM.sub("", heading[1] if heading else body, count=1))
            if text:
                blocks.append(Block("paragraph" if heading else "list", text))
        elif "\t" in body:
            flush_prose()
            cells = [clean_inline(cell) for cell in body.split("\t")]
            text = " | ".join(cell for cell in cells if cell)
            if text:
                blocks.append(Block("table", text))
        else:
            prose.append(body)
    flush_prose()
    if guess_headings and len(blocks) == 1 and blocks[0].kind == "paragraph" and len(lines) == 1:
        if _looks_like_heading(blocks[0].text, following):
            return [Block("heading", clean_heading(blocks[0].text), level=2)]
    return blocks


def _md_heading(line: str) -> tuple[int, str] | None:
    """Level and text of a `#` heading line, without the optional closing `#`s (`## Title ##`)."""
    match = _MD_HEADING.match(line)
    if match is None:
        return None
    text = match.group(2)
    return len(match.group(1)), text.rstrip().rstrip("#").rstrip() or text[:1]


def _reads_as_heading(text: str) -> bool:
    """A `#` line that is really a sentence (ends in a dash or comma, or is long) is body text."""
    stripped = clean_inline(text)
    return bool(stripped) and not stripped.endswith(("–", "-", ",")) and len(stripped.split()) <= 16


def _looks_like_heading(text: str, following: list[str] | None) -> bool:
    """A short single line without closing punctuation, starting with a capital, before more text."""
    words = text.split()
    if following is None or not 1 <= len(words) <= 10 or len(text) > 80:
        return False
    if text.endswith(_TERMINAL) or text[0] in _OPEN_QUOTES or not (text[0].isupper() or text[0].isdigit()):
        return False
    if words[-1].lower() in _DANGLING_WORDS:
        return False
    return sum(ch.isalpha() for ch in text) >= 3


def _pdf_paragraphs(page_text: str) -> list[str]:
    """Re-flow a PDF page's hard-wrapped lines into paragraphs at sentence-ending line breaks."""
    lines = [ln.strip() for ln in dehyphenate(page_text).split("\n")]
    lines = [ln for ln in lines if ln and not is_noise_line(ln) and not ln.isdigit()]
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if line.endswith((".", "!", "?", ":")) and len(" ".join(current).split()) >= 40:
            paragraphs.append(clean_inline(" ".join(current)))
            current = []
    if current:
        paragraphs.append(clean_inline(" ".join(current)))
    return [p for p in paragraphs if p]


def _tidy(blocks: list[Block]) -> list[Block]:
    """Re-join page-break splits, attach orphan opening quotes, drop repeated pull-quotes."""
    result: list[Block] = []
    seen: set[str] = set()
    pending_quote = ""
    for block in blocks:
        if block.kind == "paragraph" and block.text in _OPEN_QUOTES:
            pending_quote = block.text
            continue
        if pending_quote and block.kind == "paragraph":
            block = Block(block.kind, pending_quote + block.text, block.level, block.page)
        pending_quote = ""
        key = _NON_WORDS.sub(" ", block.text).strip().lower()
        if block.kind != "heading" and len(key) >= 60 and key in seen:
            continue
        seen.add(key)
        previous = result[-1] if result else None
        if (
            previous is not None
            and previous.kind == block.kind == "paragraph"
            and not previous.text.endswith(_TERMINAL)
            and block.text[:1].islower()
        ):
            result[-1] = Block("paragraph", f"{previous.text} {block.text}", 0, previous.page)
            continue
        result.append(block)
    return result
