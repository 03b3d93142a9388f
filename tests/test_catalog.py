"""The catalog behaves the same on SQLite and on PostgreSQL (a throwaway database per run)."""

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from index import Catalog, ChunkDraft, DocumentDraft, Searcher, make_engine
from tests.conftest import FakeEmbedder

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    name = f"learnloop_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
        catalog.replace_document(draft, chunks, [embedder.embed_batch([text])[0].tobytes()])
    assert catalog.counts() == (2, 2)
    draft, chunks = _draft("a.md", "alpha replaced")
    catalog.replace_document(draft, chunks, [embedder.embed_batch(["alpha replaced"])[0].tobytes()])
    assert catalog.counts() == (2, 2)
    assert catalog.document_hashes() == {"a.md": "h-alpha replaced", "b.md": "h-delta epsilon"}
    assert "c-alpha replaced" in catalog.embeddings_by_hash(["c-alpha replaced", "missing"])
    assert catalog.delete_document("b.md") and not catalog.delete_document("b.md")
    assert catalog.counts() == (1, 1)
    assert catalog.revision() == start + 4


def test_a_second_searcher_catches_up_with_another_process_writes(database_url: str, engines: list) -> None:
    engines.extend([make_engine(database_url), make_engine(database_url)])
    writer, reader_catalog = Catalog(engines[0]), Catalog(engines[1])
    writer.create()
    embedder = FakeEmbedder()
    reader = Searcher(reader_catalog, embedder, background_keyword=False)
    draft, chunks = _draft("x.md", "commissioning for outcomes in complex systems")
    writer.replace_document(draft, chunks, [embedder.embed_batch([chunks[0].text])[0].tobytes()])
    hits = reader.search("commissioning outcomes", 3)
    assert hits and hits[0].text == chunks[0].text and hits[0].page_start == 1
    writer.delete_document("x.md")
    assert reader.search("commissioning outcomes", 3) == []
