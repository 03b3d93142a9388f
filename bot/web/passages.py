"""A passage in its place: the chunks either side of it in its document.

Each document's chunks in reading order are read once per catalog revision and kept (a few dozen
documents), so opening passage after passage costs what GET /chunks/{id} does; any write to the
catalog bumps its revision, and the next page reads the document again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from index.db import Chunk, Document

NEIGHBOURS = 1  # passages shown before and after: enough to read a quote in context
DOCUMENTS_KEPT = 64


@dataclass(frozen=True)
class Neighbour:
    chunk_id: int
    section: str
    text: str


@dataclass(frozen=True)
class Place:
    """Where a chunk sits: its position among its document's chunks (1-based), how many there are,
    the chunks around it in reading order (itself included), and the document's publisher."""

    position: int
    total: int
    around: list[Neighbour]
    publisher: str


@dataclass(frozen=True)
class _Document:
    chunks: list[Neighbour]
    publisher: str


class Passages:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kept: OrderedDict[int, tuple[int, _Document]] = OrderedDict()
        self._lock = threading.Lock()

    def place_of(self, document_id: int, chunk_id: int, revision: int) -> Place | None:
        """The chunk's place in its document as of catalog `revision`; None when it is not there."""
        document = self._document(document_id, revision)
        ids = [c.chunk_id for c in document.chunks]
        if chunk_id not in ids:
            return None
        at = ids.index(chunk_id)
        around = document.chunks[max(at - NEIGHBOURS, 0) : at + NEIGHBOURS + 1]
        return Place(position=at + 1, total=len(ids), around=around, publisher=document.publisher)

    def _document(self, document_id: int, revision: int) -> _Document:
        with self._lock:
            kept = self._kept.get(document_id)
            if kept and kept[0] == revision:
                self._kept.move_to_end(document_id)
                return kept[1]
        with self.engine.connect() as connection:
            rows = connection.execute(select(Chunk.id, Chunk.section, Chunk.text).where(Chunk.document_id == document_id).order_by(Chunk.ordinal)).all()
            publisher = connection.execute(select(Document.publisher).where(Document.id == document_id)).scalar() or ""
        document = _Document([Neighbour(row.id, row.section, row.text) for row in rows], publisher)
        with self._lock:
            self._kept[document_id] = (revision, document)
            self._kept.move_to_end(document_id)
            while len(self._kept) > DOCUMENTS_KEPT:
                self._kept.popitem(last=False)
        return document
