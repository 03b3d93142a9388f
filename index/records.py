"""Plain records that cross package boundaries: what ingest hands to the catalog, what search returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field


def contextual_text(title: str, section: str, text: str) -> str:
    """Title and section before the passage: what is embedded and keyword-indexed, never quoted."""
    head = f"{title} > {section}" if section else title
    return f"{head}\n{text}"


@dataclass(frozen=True)
class Encoded:
    """What an embedder makes of texts: one pooled vector per text for dense search, and per text
    the vectors of its content tokens (stop words and punctuation left out) for late interaction."""

    vectors: np.ndarray
    tokens: list[np.ndarray]


@dataclass(frozen=True)
class ChunkEncoding:
    """A chunk's stored encoding: its float32 vector and its packed token vectors (index.late)."""

    vector: bytes
    tokens: bytes


@dataclass(frozen=True)
class DocumentDraft:
    """A document as ingest describes it, before the catalog gives it an id."""

    source: str
    content_hash: str
    title: str
    source_type: str
    authors: list[str] = field(default_factory=list)
    publisher: str = ""
    year: int | None = None
    tags: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkDraft:
    """A passage as the chunker cut it; `text` is what is shown and quoted, `context` is the header."""

    ordinal: int
    text: str
    section: str
    page_start: int | None
    page_end: int | None
    char_start: int
    char_end: int
    content_hash: str


@dataclass(frozen=True)
class ChunkMeta:
    """What search keeps in memory per chunk: enough to filter, rank and render a Hit."""

    chunk_id: int
    document_id: int
    title: str
    source: str
    source_type: str
    section: str
    page_start: int | None
    page_end: int | None
    text: str
    tags: tuple[str, ...]
    year: int | None
    authors: tuple[str, ...]
    provenance: str = ""

    @property
    def contextual_text(self) -> str:
        return contextual_text(self.title, self.section, self.text)


class PassageRef(BaseModel):
    """Where a passage is: the fields a Hit and a Citation share."""

    chunk_id: int
    document_id: int
    title: str
    source: str
    source_type: str
    section: str
    page_start: int | None
    page_end: int | None
    authors: list[str] = Field(default_factory=list, description="Extension: the document's authors")
    year: int | None = Field(default=None, description="Extension: the document's year, when known")
    provenance: str = Field("", description="Extension: team, place and date of a reflection or learning log")

    def ref(self) -> dict:
        """Just the shared fields, to build another PassageRef from this one."""
        return {name: getattr(self, name) for name in PassageRef.model_fields}


class Hit(PassageRef):
    """One search result (the contract's Hit shape)."""

    text: str
    score: float = Field(description="Fused rank score: higher is better; comparable within one search only")
    similarity: float | None = Field(default=None, description="Extension: cosine similarity of query and passage")

    @classmethod
    def from_meta(cls, meta: ChunkMeta, score: float, similarity: float | None = None) -> Hit:
        fields = {name: getattr(meta, name) for name in PassageRef.model_fields}
        fields["authors"] = list(meta.authors)
        return cls(**fields, text=meta.text, score=round(score, 6), similarity=None if similarity is None else round(similarity, 4))


@dataclass(frozen=True)
class SearchFilters:
    """Optional restrictions on a search; all given ones must hold."""

    source_type: str | None = None
    document_id: int | None = None
    tag: str | None = None
    year_from: int | None = None
    year_to: int | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in (self.source_type, self.document_id, self.tag, self.year_from, self.year_to))
