"""Erasure reaches the logs: answers and Slack thread memory that quoted an erased reflection forget it.

A deleted or rejected reflection leaves the catalog in one transaction (Catalog.erase_document);
what it leaves behind elsewhere is the text earlier answers quoted from it. Logged answers citing
it are blanked (the question stays: those are the asker's words) and assistant turns in Slack
threads that cited or quoted it are dropped, so neither a shared answer nor a follow-up repeats it.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.models import Answer
from bot.records import QueryLog, SlackThread

MIN_FRAGMENT = 25  # characters: shorter pieces of a reflection are too common to identify it


def forget_quotes(engine: Engine, document_ids: Collection[int], texts: Collection[str]) -> int:
    """Blank logged answers citing `document_ids` and drop thread turns citing or quoting `texts`;
    returns how many answers and turns were forgotten."""
    fragments = _fragments(texts)
    with Session(engine) as session:
        forgotten = _blank_answers(session, set(document_ids)) + _drop_turns(session, set(document_ids), fragments)
        session.commit()
    return forgotten


def _blank_answers(session: Session, document_ids: set[int]) -> int:
    if not document_ids:
        return 0
    blanked = 0
    for entry in session.exec(select(QueryLog).where(col(QueryLog.answer) != "")):
        answer = Answer.model_validate_json(entry.answer)
        if any(c.document_id in document_ids for c in answer.citations):
            entry.answer, entry.hits = "", []
            session.add(entry)
            blanked += 1
    return blanked


def _drop_turns(session: Session, document_ids: set[int], fragments: list[str]) -> int:
    dropped = 0
    for thread in session.exec(select(SlackThread)):
        kept = [turn for turn in thread.turns if not _quotes(turn, document_ids, fragments)]
        if len(kept) != len(thread.turns):
            dropped += len(thread.turns) - len(kept)
            thread.turns = kept
            session.add(thread)
    return dropped


def _quotes(turn: dict, document_ids: set[int], fragments: list[str]) -> bool:
    if turn.get("role") != "assistant":
        return False
    if document_ids & set(turn.get("documents") or ()):
        return True
    text = str(turn.get("text", ""))
    return any(fragment in text for fragment in fragments)  # turns stored before cited ids were kept


def _fragments(texts: Collection[str]) -> list[str]:
    """Sentence-sized pieces of the erased text, long enough to be its own words."""
    pieces = (piece.strip() for text in texts for line in text.splitlines() for piece in line.split(". "))
    return [piece for piece in pieces if len(piece) >= MIN_FRAGMENT]
