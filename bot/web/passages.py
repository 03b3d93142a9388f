"""A passage in its place: the chunks either side of it in its document, read from the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from index.db import Chunk

NEIGHBOURS = 1  # passages shown before and after: enough to read a quote in context


@dataclass(frozen=True)
class Place:
    """Where a chunk sits: its position among its document's chunks (1-based), how many there are,
    and the ids of the chunks around it in reading order (the chunk itself included)."""

    position: int
    total: int
    around: list[int]


def place_of(engine: Engine, chunk_id: int) -> Place | None:
    """The chunk's place in its document, in one query; None when the catalog has no such chunk."""
    same_document = select(Chunk.document_id).where(Chunk.id == chunk_id).scalar_subquery()
    with Session(engine) as session:
        order = [row[0] for row in session.exec(select(Chunk.id, Chunk.ordinal).where(Chunk.document_id == same_document).order_by(col(Chunk.ordinal)))]
    if chunk_id not in order:
        return None
    at = order.index(chunk_id)
    return Place(position=at + 1, total=len(order), around=order[max(at - NEIGHBOURS, 0) : at + NEIGHBOURS + 1])
