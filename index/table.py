"""What a replica keeps in memory per chunk: its id and its document, in two arrays.

Everything a filter asks about (source type, year, tags) belongs to the document, and a catalog
holds about twenty chunks per document; a passage's text, title and section are read from the
catalog for the hits a search returns. A Python record per chunk, text included, cost about
2 KB a chunk; these arrays cost 12 bytes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from index.records import SearchFilters

ADMITTED_KEPT = 64  # filters whose admitted documents a table remembers


def positions_in(ordered: np.ndarray, ids: np.ndarray | list[int]) -> np.ndarray:
    """Where those of `ids` that the ascending `ordered` holds sit in it: a binary search each,
    not a pass over `ordered`."""
    wanted = np.asarray(ids, dtype=np.int64)
    at = np.searchsorted(ordered, wanted)
    held = at < len(ordered)
    held[held] = ordered[at[held]] == wanted[held]
    return at[held]


@dataclass(frozen=True)
class DocumentFacts:
    """The filterable facts of one document."""

    source_type: str
    year: int | None
    tags: tuple[str, ...]  # lower-cased

    def admits(self, filters: SearchFilters) -> bool:
        if filters.source_type is not None and self.source_type != filters.source_type:
            return False
        if filters.tag is not None and filters.tag.lower() not in self.tags:
            return False
        if filters.year_from is not None and (self.year is None or self.year < filters.year_from):
            return False
        if filters.year_to is not None and (self.year is None or self.year > filters.year_to):
            return False
        return True


class ChunkTable:
    """Sorted chunk ids with their document ids, and each document's facts; never changed in
    place (a change makes a new table), so a search reads the one it took without a lock."""

    def __init__(self, ids: np.ndarray, documents: np.ndarray, facts: dict[int, DocumentFacts]) -> None:
        order = np.argsort(ids, kind="stable")
        self.ids = np.asarray(ids, dtype=np.int64)[order]
        self.documents = np.asarray(documents, dtype=np.int64)[order]
        self.facts = facts
        self._admitted: dict[SearchFilters, np.ndarray] = {}  # per filter, the documents it admits
        self._admitted_lock = threading.Lock()  # searches share a table

    @classmethod
    def empty(cls) -> ChunkTable:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), {})

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, chunk_id: int) -> bool:
        at = int(np.searchsorted(self.ids, chunk_id))
        return at < len(self.ids) and int(self.ids[at]) == chunk_id

    def changed(self, added: ChunkTable, removed: np.ndarray) -> ChunkTable:
        """A new table without the `removed` ids and with the `added` table's chunks and documents."""
        keep = ~np.isin(self.ids, removed)
        documents = np.concatenate([self.documents[keep], added.documents])
        live = set(np.unique(documents).tolist())
        facts = {d: f for d, f in (self.facts | added.facts).items() if d in live}
        return ChunkTable(np.concatenate([self.ids[keep], added.ids]), documents, facts)

    def allowed(self, filters: SearchFilters) -> np.ndarray:
        """Sorted ids of the chunks `filters` admit."""
        mask = np.ones(len(self.ids), dtype=bool)
        if filters.document_id is not None:
            mask &= self.documents == filters.document_id
        if any(v is not None for v in (filters.source_type, filters.tag, filters.year_from, filters.year_to)):
            mask &= np.isin(self.documents, self._documents_admitted(filters))
        return self.ids[mask]

    def _documents_admitted(self, filters: SearchFilters) -> np.ndarray:
        """The documents whose facts `filters` admit, worked out once per filter for this table
        (a pass over every document's facts; commissioners repeat the same few filters)."""
        with self._admitted_lock:
            found = self._admitted.get(filters)
        if found is None:
            found = np.array(sorted(d for d, f in self.facts.items() if f.admits(filters)), dtype=np.int64)
            with self._admitted_lock:
                if len(self._admitted) >= ADMITTED_KEPT:
                    self._admitted.pop(next(iter(self._admitted)))
                self._admitted[filters] = found
        return found
