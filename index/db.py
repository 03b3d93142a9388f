"""Catalog tables and the database engine.

The catalog is the source of truth: FAISS and BM25 are derived from the chunks stored here, so
either index can be rebuilt at any time. Works the same on SQLite and PostgreSQL (psycopg 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, Column, LargeBinary, event
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel, create_engine


def utcnow() -> datetime:
    return datetime.now(UTC)


class Document(SQLModel, table=True):
    """One source: a report file, a learning log or a stored reflection."""

    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused (migration c0002)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True, unique=True, max_length=1000)
    content_hash: str = Field(max_length=64)
    title: str
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    publisher: str = ""
    year: int | None = None
    source_type: str = Field(index=True, max_length=32)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    extra: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ingested_at: datetime = Field(default_factory=utcnow)


class Chunk(SQLModel, table=True):
    """A passage of a document, with where it sits (section, pages, offsets) and its embedding."""

    __table_args__ = {"sqlite_autoincrement": True}  # a replica must never mistake a new chunk for a deleted one

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True, ondelete="CASCADE")
    ordinal: int
    text: str
    section: str = ""
    page_start: int | None = None
    page_end: int | None = None
    char_start: int = 0
    char_end: int = 0
    content_hash: str = Field(max_length=64, index=True)
    embedding: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ChunkTokens(SQLModel, table=True):
    """A chunk's packed token vectors for late interaction (index.late).

    A table of its own rather than a column of Chunk, so a catalog created before late
    interaction gains it on the next start; the next ingest fills in chunks without a row.
    """

    chunk_id: int = Field(foreign_key="chunk.id", primary_key=True, ondelete="CASCADE")
    vectors: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ChunkTerms(SQLModel, table=True):
    """A chunk's BM25 term ids (index.terms), in order, 8 bytes each: tokenised once, when the chunk
    is written, rather than by every replica at every start. A chunk without a row (stored before
    this table existed) is tokenised from its text until the next ingest fills its row in."""

    chunk_id: int = Field(foreign_key="chunk.id", primary_key=True, ondelete="CASCADE")
    terms: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CatalogRevision(SQLModel, table=True):
    """A counter bumped by every change to chunks, so each process knows when to catch up."""

    id: int = Field(default=1, primary_key=True)
    revision: int = 0


class ErasedSource(SQLModel, table=True):
    """A source erased for good (a deleted or rejected reflection): a copy of it is never ingested back."""

    source: str = Field(primary_key=True, max_length=1000)
    erased_at: datetime = Field(default_factory=utcnow)


def make_engine(url: str) -> Engine:
    """Create the engine for `url`; SQLite gets WAL and foreign keys so it behaves like PostgreSQL.

    Parameters are hidden from SQLAlchemy's error messages: a failed insert would otherwise put the
    question or reflection it was storing into any log line or traceback that shows the error."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # an erased reflection's text is overwritten, not left in free pages
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_schema(engine: Engine, extra_versions: Sequence[Path] = ()) -> None:
    """Bring the schema up to date: the catalog's migrations and any other branch (the bot's)."""
    from index.migrations import upgrade

    upgrade(engine, extra_versions)
