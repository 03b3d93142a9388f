"""Cleaning: remove extraction noise (page furniture, markup residue, junk lines) and keep every content word.

Works line by line on text that still has its Markdown structure, so headings and list markers
survive for the structure parser; inline markup is removed by `clean_inline` once blocks are known.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

# Every pattern here runs on file and user text, so each must match in linear time: no two unbounded
# quantifiers may compete for the same characters (possessive `*+`/`++` where the next token cannot
# match what they took), and a scan from one start stops where the next start would begin.

# Running headers/footers such as `4 \( \sigma \) Introduction`, `Introduction  $\sim$  5`,
# `8 \square Introduction`, `10 — Introduction`, `Index ~ 59`: a page number, a separator that OCR or
# LaTeX conversion left behind, and a short running title.
_SEPARATOR = r"(?:\\\(\s*+\\?\w++\s*+\\\)|\$\\?\w++\$|\\square|—|~|\|)"
_PAGE_HEADER = re.compile(
    rf"^\s*+(?:\d{{1,3}}+\s*+{_SEPARATOR}\s*+[A-Z][\w ,&'-]{{0,50}}|[A-Z][\w ,&'-]{{0,50}}?\s*+{_SEPARATOR}\s*+\d{{1,3}}+)\s*+$"
)
_TOC_LINE = re.compile(r"^[^\t]{2,80}\t++\d{1,3}+\s*+$")  # "FOREWORD BY MARK ROGERS<TAB>1"
_INDEX_ENTRY = re.compile(r"[A-Za-z)'’]\s*+,\s\d{1,3}+\b")  # "feedback loop, 4" in a back-of-book index
_LATEX_JUNK = re.compile(r"\$\\\w++\$|\\\(\s*+\\?\w*+\s*+\\\)|\\square")
_SUP = re.compile(r"<sup>([^<]*+)</sup>", re.IGNORECASE)  # the marker's text, stripped by the caller
# Tag attributes stop at the next `<`, so a run of unclosed `<p <p <p` is scanned once, not once per `<p`.
_TAG = re.compile(r"</?(?:p|br|span|div|b|i|em|strong|u|sub|font)\b[^<>]*+>", re.IGNORECASE)
# Neither the label nor the target runs past a `[`, where the next link could start.
_LINK = re.compile(r"\[([^\[\]\n]++)\]\(([^)\[\s]*+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ESCAPE = re.compile(r"(?<!\\)\\++([_*#\[\]()`>~|-])")  # from the first backslash of a run only
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_HYPHEN_BREAK = re.compile(r"(\w)-\n(?=[a-z])")
_HAS_WORD = re.compile(r"[A-Za-z]{3}")
_CONTINUED = re.compile(r"(?<!\s)\s*+\((?:continued|cont(?:'|’)?d)\)\s*+$", re.IGNORECASE)
_SOFT_HYPHEN = "\u00ad"


def normalise_text(text: str) -> str:
    """Unicode NFC, unified line ends, no control characters or soft hyphens; words untouched."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace(_SOFT_HYPHEN, "").replace("\ufeff", "")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def is_noise_line(line: str) -> bool:
    """True for lines that carry no content: page furniture, index rows, contents rows, garbage."""
    stripped = line.strip()
    if not stripped:
        return False
    if _PAGE_HEADER.match(stripped) or _TOC_LINE.match(stripped):
        return True
    if len(_INDEX_ENTRY.findall(stripped)) >= 2 and ("\t" in line or len(_INDEX_ENTRY.findall(stripped)) >= 4):
        return True
    if "\t" in stripped and not _HAS_WORD.search(stripped):
        return True  # "77. 0<TAB><TAB>W 0": table residue with no words
    return False


def dehyphenate(text: str) -> str:
    """Join words split across lines by a hyphen ("trans-\\nformation"), keeping real compounds' hyphen out."""
    return _HYPHEN_BREAK.sub(r"\1", text)


def clean_inline(text: str) -> str:
    """Remove markup residue inside a block: footnote markers, HTML cells, links, emphasis, escapes."""
    text = html.unescape(text)
    text = _SUP.sub(_footnote_text, text)
    text = _TAG.sub(" ", text)
    text = _LATEX_JUNK.sub(" ", text)
    text = _LINK.sub(_link_text, text)
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ITALIC.sub(r"\1", text)
    text = _ESCAPE.sub(r"\1", text)
    text = _SPACES.sub(" ", text)
    return text.strip()


def _footnote_text(match: re.Match[str]) -> str:
    """`<sup>rd</sup>` keeps its letters (an ordinal); a numbered footnote marker goes."""
    text = match.group(1).strip()
    return text if text.isalpha() else ""


def _link_text(match: re.Match[str]) -> str:
    label, target = match.group(1), match.group(2)
    if target.startswith(("http://", "https://")) and target not in label:
        return f"{label} ({unquote(target)})"
    return label


def clean_heading(text: str) -> str:
    """Heading text without markup, trailing colons or "(continued)" of a continuation page."""
    text = clean_inline(text).strip(" *#:")
    return _CONTINUED.sub("", text)
