"""How a source is named in an answer: who said it, in what, and when."""

from __future__ import annotations

from index import Hit


def who(hit: Hit) -> str:
    """'Richard Selwyn', 'A and B', 'A et al.'; reflections and untitled sources fall back to the title."""
    authors = [a.split(" (")[0] for a in hit.authors]
    if not authors:
        return hit.title
    if len(authors) == 1:
        return authors[0]
    if len(authors) == 2:
        return f"{authors[0]} and {authors[1]}"
    return f"{authors[0]} et al."


def attribution(hit: Hit) -> str:
    """'Richard Selwyn (Outcomes & Efficiency Leadership Handbook, 2012)'; year 'n.d.' when unknown;
    a reflection or learning log names its team, place and date instead of a year."""
    year = str(hit.year) if hit.year else "n.d."
    when = hit.provenance or year
    if hit.source_type == "reflection":
        return f"A reflection shared by {who(hit)} ({when})" if hit.authors else f"A shared reflection ({when})"
    if hit.source_type == "learning_log":
        return f"{who(hit)} ({hit.title}, {when})" if hit.authors else f"{hit.title} ({when})"
    return f"{who(hit)} ({hit.title}, {year})" if hit.authors else f"{hit.title} ({year})"
