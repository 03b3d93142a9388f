"""Text as the pages show it: escaped first, then marked up (matched words, [n] links, citations)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

from bot.citations import MARKER
from bot.lexical import terms

WORD = re.compile(r"\w+")


def highlight(text: str, query: str) -> Markup:
    """`text` escaped, with each word that shares a search term with `query` (same stem, so 'collaborating'
    matches 'collaboration') inside <mark>."""
    wanted = terms(query)
    if not wanted:
        return Markup(escape(text))
    parts: list[str] = []
    last = 0
    for match in WORD.finditer(text):
        if terms(match.group()) & wanted:
            parts += [escape(text[last:match.start()]), Markup("<mark>"), escape(match.group()), Markup("</mark>")]
            last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def linked_markers(line: str) -> Markup:
    """One line of an answer, escaped, with each [n] a link to citation n below it."""

    def link(match: re.Match[str]) -> str:
        space = match.group()[: match.start(1) - match.start() - 1]
        n = int(match.group(1))
        return f'{space}<a class="govuk-link" href="#citation-{n}" aria-label="source {n}">[{n}]</a>'

    return Markup(MARKER.sub(link, str(escape(line))))


def pages(page_start: int | None, page_end: int | None) -> str:
    """'p. 4', 'pp. 4-5' or '' when the passage has no page (text and Markdown sources)."""
    if page_start is None:
        return ""
    return f"p. {page_start}" if page_end in (None, page_start) else f"pp. {page_start}-{page_end}"


def reference(authors: Sequence[str], year: int | None, title: str, publisher: str = "", section: str = "", page_start: int | None = None, page_end: int | None = None) -> str:
    """A Harvard-style reference a person can paste into a report: Authors (Year) Title. Publisher. Section, p. N."""
    who = ", ".join(authors) if authors else (publisher or "Unknown author")
    parts = [f"{who} ({year if year else 'n.d.'}) {title}."]
    if publisher and publisher != who:
        parts.append(f"{publisher}.")
    where = ", ".join(p for p in (section, pages(page_start, page_end)) if p)
    if where:
        parts.append(f"{where}.")
    return " ".join(parts)
