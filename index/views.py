"""Query views: a practitioner's message is often context, then the ask ("Our dashboards are all
about KPIs. Is there a different way of thinking about what the numbers are for?"). One pooled
vector of the whole message blurs the two, so dense search also looks with each sentence alone
and fuses the views' rankings. A one-sentence query has one view and costs nothing extra.
"""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
MIN_WORDS = 3  # "Honestly?" or "Hi all." is not a view of anything
MAX_SENTENCE_VIEWS = 3  # bounds the embedding cost of a long message: its first sentence and its last two


def query_views(query: str) -> list[str]:
    """The whole query first, then its sentences of several words when it has more than one."""
    sentences = [part for part in SENTENCE_END.split(query.strip()) if len(part.split()) >= MIN_WORDS]
    if len(sentences) < 2:
        return [query]
    if len(sentences) > MAX_SENTENCE_VIEWS:
        sentences = sentences[:1] + sentences[-(MAX_SENTENCE_VIEWS - 1) :]
    return [query, *sentences]
