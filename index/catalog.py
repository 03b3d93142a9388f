"""The catalog: documents and chunks in the database, and the revision counter replicas watch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

import numpy as np
from sqlalchemy import ColumnElement, Select, func, null, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from index.db import CatalogRevision, Chunk, ChunkTerms, ChunkTokens, Document, ErasedSource, create_schema, utcnow
from index.records import ChunkDraft, ChunkEncoding, ChunkMeta, DocumentDraft, contextual_text
from index.table import ChunkTable, DocumentFacts
from index.terms import pack_term_ids, text_term_ids, unpack_term_ids

# Asked for by id in batches up to this many ids; above it the whole table is streamed and filtered.
STREAM_ABOVE = 20_000
TERMS_BATCH = 2_000  # chunks whose term ids are made from their text at a time


class Catalog:
    """Reads and writes documents and chunks; every write bumps the revision in the same transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def database(self) -> str:
        """The database's name (a SQLite file's path): what background work on it is labelled with."""
        return self.engine.url.database or ""

    def create(self, extra_versions: Sequence[Path] = ()) -> None:
        """Bring the schema up to date (migrations, with other branches' `extra_versions`) and make
        sure the revision row exists; safe to call on every start, from several processes at once."""
        create_schema(self.engine, extra_versions)
        with Session(self.engine) as session:
            if session.get(CatalogRevision, 1) is None:
                session.add(CatalogRevision(id=1, revision=0))
                try:
                    session.commit()
                except Exception:  # another process created it first: that is the goal
                    session.rollback()

    def revision(self) -> int:
        with Session(self.engine) as session:
            row = session.get(CatalogRevision, 1)
            return row.revision if row else 0

    def document_hashes(self, source_prefix: str = "") -> dict[str, str]:
        """Source -> content hash of stored documents (optionally those under a prefix)."""
        with Session(self.engine) as session:
            query = select(Document.source, Document.content_hash)
            if source_prefix:
                query = query.where(col(Document.source).startswith(source_prefix))
            return dict(session.exec(query).all())

    def encodings_by_hash(self, hashes: Iterable[str]) -> dict[str, ChunkEncoding]:
        """Stored encodings for chunk content hashes, so unchanged passages are never re-embedded
        (a chunk stored before it had token vectors is not reused: it is embedded again)."""
        wanted = list(set(hashes))
        found: dict[str, ChunkEncoding] = {}
        with Session(self.engine) as session:
            for start in range(0, len(wanted), 500):
                batch = wanted[start : start + 500]
                query = (
                    select(Chunk.content_hash, Chunk.embedding, ChunkTokens.vectors)
                    .join(ChunkTokens, col(ChunkTokens.chunk_id) == Chunk.id)
                    .where(col(Chunk.content_hash).in_(batch))
                )
                found.update((digest, ChunkEncoding(vector, tokens)) for digest, vector, tokens in session.exec(query))
        return found

    def chunks_without_tokens(self) -> list[tuple[int, str]]:
        """(chunk id, contextual text) of chunks stored before token vectors existed, to backfill them."""
        query = (
            select(Chunk.id, Document.title, Chunk.section, Chunk.text)
            .join(Document, col(Chunk.document_id) == Document.id)
            .outerjoin(ChunkTokens, col(ChunkTokens.chunk_id) == Chunk.id)
            .where(col(ChunkTokens.chunk_id).is_(None))
            .order_by(col(Chunk.id))
        )
        with Session(self.engine) as session:
            return [(chunk_id, contextual_text(title, section, text)) for chunk_id, title, section, text in session.exec(query)]

    def add_tokens(self, tokens: dict[int, bytes]) -> None:
        """Store packed token vectors for chunks that have none yet."""
        with Session(self.engine) as session:
            session.add_all(ChunkTokens(chunk_id=chunk_id, vectors=blob) for chunk_id, blob in tokens.items())
            _bump_revision(session)
            session.commit()

    def replace_document(self, draft: DocumentDraft, chunks: list[ChunkDraft], encodings: list[ChunkEncoding]) -> Document:
        """Store `draft` with its chunks, replacing any document with the same source, atomically."""
        if len(chunks) != len(encodings):
            raise ValueError("one encoding per chunk is required")
        terms = text_term_ids([contextual_text(draft.title, chunk.section, chunk.text) for chunk in chunks])
        with Session(self.engine) as session:
            old = session.exec(select(Document).where(Document.source == draft.source)).first()
            session.exec(delete(ErasedSource).where(col(ErasedSource.source) == draft.source))  # its owner wrote it again
            if old is not None:
                _delete_chunks(session, old.id)
                session.delete(old)
                session.flush()
            document = Document(
                source=draft.source,
                content_hash=draft.content_hash,
                title=draft.title,
                authors=list(draft.authors),
                publisher=draft.publisher,
                year=draft.year,
                source_type=draft.source_type,
                tags=list(draft.tags),
                extra=dict(draft.extra),
                ingested_at=utcnow(),
            )
            session.add(document)
            session.flush()
            rows = [Chunk(document_id=document.id, embedding=encoding.vector, **_chunk_fields(chunk)) for chunk, encoding in zip(chunks, encodings, strict=True)]
            session.add_all(rows)
            session.flush()
            session.add_all(ChunkTokens(chunk_id=row.id, vectors=encoding.tokens) for row, encoding in zip(rows, encodings, strict=True))
            session.add_all(ChunkTerms(chunk_id=row.id, terms=pack_term_ids(ids)) for row, ids in zip(rows, terms, strict=True))
            _bump_revision(session)
            session.commit()
            session.refresh(document)
            return document

    def delete_document(self, source: str) -> bool:
        """Remove a document and its chunks; False when there was none."""
        with Session(self.engine) as session:
            document = session.exec(select(Document).where(Document.source == source)).first()
            if document is None:
                return False
            _delete_chunks(session, document.id)
            session.delete(document)
            _bump_revision(session)
            session.commit()
            return True

    def erase_document(self, source: str) -> bool:
        """Remove a document for good, in one transaction: its chunks go, and the source is
        remembered as erased so that no copy of it is ingested back. False when it was not stored."""
        with Session(self.engine) as session:
            document = session.exec(select(Document).where(Document.source == source)).first()
            if document is not None:
                _delete_chunks(session, document.id)
                session.delete(document)
            if session.get(ErasedSource, source) is None:
                session.add(ErasedSource(source=source))
            _bump_revision(session)
            session.commit()
            return document is not None

    def is_erased(self, source: str) -> bool:
        with Session(self.engine) as session:
            return session.get(ErasedSource, source) is not None

    def sources_where(self, source_type: str, key: str, value: str) -> list[str]:
        """Sources of `source_type` documents whose metadata has `key` == `value` (e.g. an ingested
        copy of an exported reflection); scanned in Python so it reads the same on SQLite and PostgreSQL."""
        with Session(self.engine) as session:
            rows = session.exec(select(Document.source, Document.extra).where(Document.source_type == source_type))
            return [source for source, extra in rows if str((extra or {}).get(key, "")) == value]

    def document_ids(self, sources: list[str]) -> dict[str, int]:
        """Source -> document id for the given sources that are stored."""
        with Session(self.engine) as session:
            rows = session.exec(select(Document.source, Document.id).where(col(Document.source).in_(sources)))
            return dict(rows.all())

    def chunk_ids(self) -> set[int]:
        """Every stored chunk id (a Core query: ORM row loading tripled its time at 10,000 chunks)."""
        with self.engine.connect() as connection:
            return set(connection.execute(select(Chunk.id)).scalars())

    def chunk_table(self, ids: np.ndarray | None = None) -> ChunkTable:
        """Every stored chunk's id and document (or those among the sorted `ids`), with their
        documents' filterable facts: what a replica keeps per chunk (index/table.py)."""
        if ids is None:  # unordered (the table sorts): SQLite then reads the narrow document index, not every row's blobs
            with self.engine.connect() as connection:
                rows = connection.execute(select(Chunk.id, Chunk.document_id)).all()
        else:
            rows = list(self._by_id(select(Chunk.id, Chunk.document_id), col(Chunk.id), ids))
        chunk_ids = np.fromiter((row[0] for row in rows), np.int64, len(rows))  # np.array over Row objects took 1.7 s at 50,000
        documents = np.fromiter((row[1] for row in rows), np.int64, len(rows))
        query = select(Document.id, Document.source_type, Document.year, Document.tags)
        if ids is not None:
            query = query.where(col(Document.id).in_(np.unique(documents).tolist()))
        with self.engine.connect() as connection:
            found = connection.execute(query).all()
        facts = {document_id: DocumentFacts(source_type, year, tuple(t.lower() for t in tags or ())) for document_id, source_type, year, tags in found}
        return ChunkTable(chunk_ids, documents, facts)

    def chunk_id_array(self) -> np.ndarray:
        """Every stored chunk id, sorted (a replica compares it with what it serves at each change)."""
        with self.engine.connect() as connection:  # unordered: SQLite then reads a narrow index, not every row's blobs (4x faster)
            return np.sort(np.fromiter(connection.execute(select(Chunk.id)).scalars(), np.int64))

    def token_blobs(self, ids: np.ndarray | None = None) -> Iterator[tuple[int, bytes]]:
        """(chunk id, packed token vectors) of every chunk that has them (or of those among the
        sorted `ids`), by ascending id, streamed."""
        yield from self._by_id(select(ChunkTokens.chunk_id, ChunkTokens.vectors), col(ChunkTokens.chunk_id), ids)

    def token_ids(self, among: np.ndarray) -> np.ndarray:
        """Sorted ids of the chunks among the sorted `among` that have token vectors (looked up by
        key: a scan of the token table read every row's first pages, 1 s at 50,000 chunks)."""
        return np.fromiter((row[0] for row in self._by_id(select(ChunkTokens.chunk_id), col(ChunkTokens.chunk_id), among)), np.int64)

    def term_ids(self, ids: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(chunk id, BM25 term ids) of every chunk (or of those among the sorted `ids`), by
        ascending id, streamed; a chunk stored without them (index.db.ChunkTerms) is tokenised here."""
        query = select(Chunk.id, ChunkTerms.terms).outerjoin(ChunkTerms, col(ChunkTerms.chunk_id) == Chunk.id)
        rows = self._by_id(query, col(Chunk.id), ids)
        while batch := list(islice(rows, TERMS_BATCH)):
            lacking = np.array([chunk_id for chunk_id, terms in batch if terms is None], dtype=np.int64)
            made = self._made_term_ids(lacking) if len(lacking) else {}
            for chunk_id, terms in batch:
                if terms is not None:
                    yield chunk_id, unpack_term_ids(terms)
                elif chunk_id in made:  # else it was deleted while this was read
                    yield chunk_id, made[chunk_id]

    def add_missing_terms(self) -> int:
        """Store the term ids of chunks written without them (before ChunkTerms existed); how many.
        No revision: a replica already made the same terms from their text. A batch that another
        process filled in, or whose chunk went meanwhile, is left to it."""
        query = select(Chunk.id).outerjoin(ChunkTerms, col(ChunkTerms.chunk_id) == Chunk.id).where(col(ChunkTerms.chunk_id).is_(None))
        with Session(self.engine) as session:
            lacking = np.sort(np.fromiter(session.exec(query), np.int64))
        added = 0
        for start in range(0, len(lacking), TERMS_BATCH):
            made = self._made_term_ids(lacking[start : start + TERMS_BATCH])
            with Session(self.engine) as session:
                session.add_all(ChunkTerms(chunk_id=chunk_id, terms=pack_term_ids(ids)) for chunk_id, ids in made.items())
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    continue
            added += len(made)
        return added

    def _made_term_ids(self, ids: np.ndarray) -> dict[int, np.ndarray]:
        """Term ids made from the texts of the stored chunks among the sorted `ids`."""
        texts = dict(self.contextual_texts(ids))
        return dict(zip(texts, text_term_ids(list(texts.values())), strict=True))

    def vectors(self, ids: np.ndarray | None = None) -> Iterator[tuple[int, bytes]]:
        """(chunk id, float32 embedding) of every chunk (or of those among the sorted `ids`), by ascending id, streamed."""
        yield from self._by_id(select(Chunk.id, Chunk.embedding), col(Chunk.id), ids)

    def contextual_texts(self, ids: np.ndarray | None = None) -> Iterator[tuple[int, str]]:
        """(chunk id, contextual text) of every chunk (or of those among the sorted `ids`), by ascending id, streamed."""
        query = select(Chunk.id, Document.title, Chunk.section, Chunk.text).join(Document, col(Chunk.document_id) == Document.id)
        for chunk_id, title, section, text in self._by_id(query, col(Chunk.id), ids):
            yield chunk_id, contextual_text(title, section, text)

    def _by_id(self, query: Select, key: ColumnElement, ids: np.ndarray | None) -> Iterator[tuple]:
        """Rows of `query` by ascending `key`, all of them or those whose key is among `ids`:
        a few ids are asked for in batches, most of the catalog is streamed and filtered here."""
        with self.engine.connect() as connection:
            if ids is not None and len(ids) <= STREAM_ABOVE:
                for start in range(0, len(ids), 500):
                    batch = [int(i) for i in ids[start : start + 500]]
                    yield from connection.execute(query.where(key.in_(batch)).order_by(key)).all()
                return
            wanted = None if ids is None else np.asarray(ids, dtype=np.int64)
            rows = connection.execution_options(yield_per=2000).execute(query.order_by(key))
            for partition in rows.partitions():
                if wanted is None:
                    yield from partition
                    continue
                keys = np.array([row[0] for row in partition], dtype=np.int64)
                at = np.minimum(np.searchsorted(wanted, keys), len(wanted) - 1)  # both sorted: a binary search each
                yield from (row for row, keep in zip(partition, wanted[at] == keys, strict=True) if keep)

    def chunk_metas(self, ids: Iterable[int] | None = None, with_tokens: bool = True) -> Iterator[tuple[ChunkMeta, ChunkEncoding]]:
        """Chunks with their document's metadata and encoding; all of them, or only `ids`.

        A chunk stored before token vectors existed, or any chunk when not `with_tokens`, comes
        with empty token bytes."""
        wanted = None if ids is None else sorted(ids)
        batches = [None] if wanted is None else [wanted[i : i + 500] for i in range(0, len(wanted), 500)]
        with Session(self.engine) as session:
            for batch in batches:
                query = select(Chunk, Document, ChunkTokens.vectors if with_tokens else null()).join(Document, col(Chunk.document_id) == Document.id)
                if with_tokens:
                    query = query.outerjoin(ChunkTokens, col(ChunkTokens.chunk_id) == Chunk.id)
                if batch is not None:
                    query = query.where(col(Chunk.id).in_(batch))
                for chunk, document, tokens in session.exec(query.order_by(col(Chunk.id))):
                    yield to_meta(chunk, document), ChunkEncoding(chunk.embedding, tokens or b"")

    def get_chunk(self, chunk_id: int) -> ChunkMeta | None:
        with Session(self.engine) as session:
            chunk = session.get(Chunk, chunk_id)
            if chunk is None:
                return None
            return to_meta(chunk, session.get(Document, chunk.document_id))

    def get_document(self, document_id: int) -> Document | None:
        with Session(self.engine) as session:
            return session.get(Document, document_id)

    def list_documents(self, source_type: str | None = None, limit: int = 100, offset: int = 0) -> list[Document]:
        with Session(self.engine) as session:
            query = select(Document).order_by(col(Document.id))
            if source_type:
                query = query.where(Document.source_type == source_type)
            return list(session.exec(query.offset(offset).limit(limit)).all())

    def count_documents(self, source_type: str | None = None) -> int:
        """How many documents `list_documents` pages through (for the API's X-Total-Count)."""
        with Session(self.engine) as session:
            query = select(func.count()).select_from(Document)
            if source_type:
                query = query.where(Document.source_type == source_type)
            return session.exec(query).one()

    def counts(self) -> tuple[int, int]:
        """(documents, chunks) in the catalog."""
        with Session(self.engine) as session:
            documents = session.exec(select(func.count()).select_from(Document)).one()
            chunks = session.exec(select(func.count()).select_from(Chunk)).one()
            return documents, chunks

    def chunk_count(self, document_id: int) -> int:
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(Chunk).where(Chunk.document_id == document_id)).one()


def to_meta(chunk: Chunk, document: Document) -> ChunkMeta:
    return ChunkMeta(
        chunk_id=chunk.id,
        document_id=document.id,
        title=document.title,
        source=document.source,
        source_type=document.source_type,
        section=chunk.section,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        text=chunk.text,
        tags=tuple(t.lower() for t in document.tags),
        year=document.year,
        authors=tuple(document.authors),
        provenance=", ".join(str(document.extra[k]) for k in ("team", "place", "date") if document.extra.get(k)),
    )


def _chunk_fields(chunk: ChunkDraft) -> dict:
    return {
        "ordinal": chunk.ordinal,
        "text": chunk.text,
        "section": chunk.section,
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "content_hash": chunk.content_hash,
    }


def _delete_chunks(session: Session, document_id: int | None) -> None:
    """Delete a document's chunks, their token vectors and term ids (explicitly: no reliance on cascades)."""
    chunk_ids = select(Chunk.id).where(col(Chunk.document_id) == document_id)
    session.exec(delete(ChunkTokens).where(col(ChunkTokens.chunk_id).in_(chunk_ids)))
    session.exec(delete(ChunkTerms).where(col(ChunkTerms.chunk_id).in_(chunk_ids)))
    session.exec(delete(Chunk).where(col(Chunk.document_id) == document_id))


def _bump_revision(session: Session) -> None:
    session.exec(update(CatalogRevision).where(col(CatalogRevision.id) == 1).values(revision=CatalogRevision.revision + 1))
