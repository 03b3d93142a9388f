"""The catalog behaves the same on SQLite and on PostgreSQL (a throwaway database per run)."""

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from sqlmodel import Session, delete, func, select

from index import Catalog, ChunkDraft, DocumentDraft, Searcher, SearchFilters, make_engine
from index.db import ChunkTerms, ChunkTokens
from index.late import unpack_tokens
from index.terms import text_term_ids, unpack_term_ids
from ingest import encodings_of
from tests.conftest import FakeEmbedder


def _draft(source: str, text: str) -> tuple[DocumentDraft, list[ChunkDraft]]:
    draft = DocumentDraft(source=source, content_hash=f"h-{text}", title=f"Doc {source}", source_type="report", year=2020, tags=["t"])
    chunk = ChunkDraft(ordinal=0, text=text, section="S", page_start=1, page_end=2, char_start=0, char_end=len(text), content_hash=f"c-{text}")
    return draft, [chunk]


@pytest.fixture
def engines() -> Iterator[list]:
    """Engines a test opens, disposed at the end so no connection outlives it."""
    opened: list = []
    yield opened
    for engine in opened:
        engine.dispose()


def test_store_replace_delete_and_revision(database_url: str, engines: list) -> None:
    engines.append(make_engine(database_url))
    catalog = Catalog(engines[-1])
    catalog.create()
    catalog.create()  # idempotent
    embedder = FakeEmbedder()
    start = catalog.revision()
    for source, text in (("a.md", "alpha beta gamma"), ("b.md", "delta epsilon")):
        draft, chunks = _draft(source, text)
        catalog.replace_document(draft, chunks, encodings_of(embedder.encode([text])))
    assert catalog.counts() == (2, 2)
    draft, chunks = _draft("a.md", "alpha replaced")
    catalog.replace_document(draft, chunks, encodings_of(embedder.encode(["alpha replaced"])))
    assert catalog.counts() == (2, 2)
    assert catalog.document_hashes() == {"a.md": "h-alpha replaced", "b.md": "h-delta epsilon"}
    assert set(catalog.encodings_by_hash(["c-alpha replaced", "missing"])) == {"c-alpha replaced"}
    assert catalog.delete_document("b.md") and not catalog.delete_document("b.md")
    assert catalog.counts() == (1, 1)
    assert _token_rows(catalog) == 1  # the replaced and the deleted chunks' token vectors went with them
    with Session(catalog.engine) as session:  # and their term ids: a deleted chunk's words leave the catalog
        [(chunk_id, blob)] = session.exec(select(ChunkTerms.chunk_id, ChunkTerms.terms)).all()
    assert {chunk_id} == catalog.chunk_ids() and unpack_term_ids(blob).tolist() == text_term_ids(["Doc a.md > S\nalpha replaced"])[0].tolist()
    assert catalog.revision() == start + 4


def test_token_vectors_round_trip_and_a_chunk_without_them_is_not_reused(database_url: str, engines: list) -> None:
    engines.append(make_engine(database_url))
    catalog = Catalog(engines[-1])
    catalog.create()
    embedder = FakeEmbedder()
    draft, chunks = _draft("a.md", "outcomes commissioning outcomes")
    encoded = embedder.encode([chunks[0].text])
    catalog.replace_document(draft, chunks, encodings_of(encoded))
    stored = catalog.encodings_by_hash([chunks[0].content_hash])[chunks[0].content_hash]
    codes, scales = unpack_tokens(stored.tokens, embedder.dim)
    assert np.allclose(codes * scales[:, None], encoded.tokens[0], atol=1 / 127)
    assert np.array_equal(np.frombuffer(stored.vector, dtype=np.float32), encoded.vectors[0])
    with Session(catalog.engine) as session:  # a catalog written before token vectors existed
        session.exec(delete(ChunkTokens))
        session.commit()
    assert catalog.encodings_by_hash([chunks[0].content_hash]) == {}
    [(meta, encoding)] = list(catalog.chunk_metas())
    assert meta.text == chunks[0].text and encoding.tokens == b""
    [(chunk_id, text)] = catalog.chunks_without_tokens()
    assert chunk_id == meta.chunk_id and text == f"{draft.title} > S\n{chunks[0].text}"
    revision = catalog.revision()
    catalog.add_tokens({chunk_id: stored.tokens})
    assert catalog.chunks_without_tokens() == [] and catalog.revision() == revision + 1
    assert catalog.encodings_by_hash([chunks[0].content_hash])[chunks[0].content_hash].tokens == stored.tokens


def _token_rows(catalog: Catalog) -> int:
    with Session(catalog.engine) as session:
        return session.exec(select(func.count()).select_from(ChunkTokens)).one()


def test_a_second_searcher_catches_up_with_another_process_writes(database_url: str, engines: list) -> None:
    engines.extend([make_engine(database_url), make_engine(database_url)])
    writer, reader_catalog = Catalog(engines[0]), Catalog(engines[1])
    writer.create()
    embedder = FakeEmbedder()
    reader = Searcher(reader_catalog, embedder, background_keyword=False)
    draft, chunks = _draft("x.md", "commissioning for outcomes in complex systems")
    writer.replace_document(draft, chunks, encodings_of(embedder.encode([chunks[0].text])))
    hits = reader.search("commissioning outcomes", 3)
    assert hits and hits[0].text == chunks[0].text and hits[0].page_start == 1
    writer.delete_document("x.md")
    assert reader.search("commissioning outcomes", 3) == []


def test_each_search_filter_admits_only_what_it_names(database_url: str, engines: list) -> None:
    engines.append(make_engine(database_url))
    catalog = Catalog(engines[-1])
    catalog.create()
    embedder = FakeEmbedder()
    ids = {}
    for source, source_type, year, tags in (("r.md", "report", 2015, ["pooled-budgets"]), ("l.md", "learning_log", 2021, ["housing"])):
        draft, chunks = _draft(source, f"commissioning for outcomes {source}")
        draft = replace(draft, source_type=source_type, year=year, tags=tags)
        ids[source] = catalog.replace_document(draft, chunks, encodings_of(embedder.encode([chunks[0].text]))).id
    searcher = Searcher(catalog, embedder, background_keyword=False)

    def sources(**filters: object) -> list[str]:
        return sorted(hit.source for hit in searcher.search("commissioning outcomes", 5, SearchFilters(**filters)))

    assert sources() == ["l.md", "r.md"]
    assert sources(source_type="report") == ["r.md"]
    assert sources(tag="Housing") == ["l.md"]
    assert sources(year_from=2016) == ["l.md"] and sources(year_to=2016) == ["r.md"]
    assert sources(document_id=ids["r.md"]) == ["r.md"]
    assert sources(source_type="report", tag="housing") == []


def test_a_deleted_chunk_leaves_every_structure_of_the_searcher(database_url: str, engines: list) -> None:
    engines.append(make_engine(database_url))
    catalog = Catalog(engines[-1])
    catalog.create()
    embedder = FakeEmbedder()
    searcher = Searcher(catalog, embedder, background_keyword=False)
    draft, chunks = _draft("x.md", "commissioning for outcomes in complex systems")
    catalog.replace_document(draft, chunks, encodings_of(embedder.encode([chunks[0].text])))
    [hit] = searcher.search("commissioning outcomes", 3)
    assert len(searcher) == 1 and searcher.meta(hit.chunk_id) is not None
    catalog.delete_document("x.md")
    assert searcher.search("commissioning outcomes", 3) == []
    assert len(searcher) == 0 and searcher.meta(hit.chunk_id) is None  # no stale copy left to cite or count


def test_an_erased_source_stays_erased_until_it_is_written_again(database_url: str, engines: list) -> None:
    engines.append(make_engine(database_url))
    catalog = Catalog(engines[-1])
    catalog.create()
    draft, chunks = _draft("x.md", "commissioning for outcomes")
    encodings = encodings_of(FakeEmbedder().encode([chunks[0].text]))
    catalog.replace_document(draft, chunks, encodings)
    assert not catalog.is_erased("x.md")
    assert catalog.erase_document("x.md") and catalog.is_erased("x.md") and catalog.counts() == (0, 0)
    assert not catalog.erase_document("x.md") and catalog.is_erased("x.md")  # erasing twice keeps one tombstone
    catalog.replace_document(draft, chunks, encodings)  # its owner writes it again (a reflection approved after a reject)
    assert not catalog.is_erased("x.md") and catalog.counts() == (1, 1)
