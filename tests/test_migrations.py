"""Upgrades keep data: a database made by 0.1.0 (before migrations) comes up to date with every
reflection, feedback, logged question and Slack thread intact, on SQLite and on PostgreSQL; the
models match the migrated schema; several processes may migrate one database at once."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Boolean, DateTime, MetaData, Table, text
from sqlmodel import Session, SQLModel, select

from bot.migrations import BOT_VERSIONS
from bot.records import Feedback, ProcessedEvent, QueryLog, Reflection, SlackThread
from bot.services import build_services
from index import make_engine
from index.db import Chunk, ChunkTokens, Document
from index.late import pack_tokens, unpack_tokens
from index.migrations import upgrade
from tests.conftest import FIXTURES, REPO, FakeEmbedder, make_settings, throwaway_database

OLD_DATABASE = FIXTURES / "upgrade" / "learnloop-0.1.0.db"
DIM = 384  # the fixture's vectors: all-MiniLM-L6-v2's
TABLES = ("document", "chunk", "chunktokens", "catalogrevision", "reflection", "feedback", "querylog", "slackthread", "processedevent")


def _old_rows() -> dict[str, list[tuple]]:
    with sqlite3.connect(OLD_DATABASE) as old:
        return {table: sorted(old.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in TABLES}


def _copy_into(url: str, rows: dict[str, list[tuple]]) -> None:
    """Fill a database at the 0.1.0 schema with the fixture's rows (how a PostgreSQL deployment of 0.1.0 looks)."""
    engine = make_engine(url)
    upgrade(engine, [BOT_VERSIONS], targets=("c0001", "b0001"))
    with engine.begin() as connection:
        for name in TABLES:
            table = Table(name, MetaData(), autoload_with=connection)
            for row in rows[name]:
                values = {c.name: _typed(c.type, v) for c, v in zip(table.columns, row, strict=True)}
                connection.execute(table.insert().values(**values))
        for name in ("document", "chunk"):  # rows came with their ids: move the sequences past them
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))
    engine.dispose()


def _int8_vectors(blob: bytes, dim: int) -> np.ndarray:
    """Token vectors as 0.1.0 stored them: per-token float32 scales, then int8 codes."""
    count = len(blob) // (dim + 4)
    return np.frombuffer(blob, np.int8, offset=4 * count).reshape(count, dim) * np.frombuffer(blob, "<f4", count=count)[:, None]


def _typed(kind: object, value: object) -> object:
    """SQLite's stored value as the PostgreSQL column wants it (booleans, JSON, timestamps)."""
    if value is None:
        return None
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, JSON):
        return json.loads(value)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def old_database(request: pytest.FixtureRequest, tmp_path: Path):
    """A database holding exactly what 0.1.0 wrote, on each backend."""
    if request.param == "sqlite":
        shutil.copy(OLD_DATABASE, tmp_path / "learnloop.db")
        yield f"sqlite:///{tmp_path / 'learnloop.db'}"
        return
    with throwaway_database("postgresql", tmp_path) as url:
        _copy_into(url, _old_rows())
        yield url


def test_upgrade_from_0_1_0_keeps_every_reflection_feedback_and_gap(old_database: str, tmp_path: Path) -> None:
    with sqlite3.connect(OLD_DATABASE) as old:
        reflections = {row[0]: row[1:3] for row in old.execute("SELECT id, what_happened, what_we_learned FROM reflection")}
        feedback = {row for row in old.execute("SELECT question_id, helpful, comment FROM feedback")}
        questions = {row[0]: row[1] for row in old.execute("SELECT id, surface FROM querylog")}
        chunks = {row[0] for row in old.execute("SELECT id FROM chunk")}
        int8_tokens = {row[0]: _int8_vectors(row[1], DIM) for row in old.execute("SELECT chunk_id, vectors FROM chunktokens")}
    assert len(reflections) == 3 and len(feedback) == 2 and len(questions) == 2  # the fixture is what the test believes

    services = build_services(make_settings(tmp_path / "var", REPO / "corpus", database_url=old_database), embedder=FakeEmbedder())
    try:
        with Session(services.catalog.engine) as session:
            assert {r.id: (r.what_happened, r.what_we_learned) for r in session.exec(select(Reflection))} == reflections
            assert {(f.question_id, f.helpful, f.comment) for f in session.exec(select(Feedback))} == {(q, bool(h), c) for q, h, c in feedback}
            logged = session.exec(select(QueryLog)).all()
            assert {q.id: q.private for q in logged} == {qid: surface == "slack" for qid, surface in questions.items()}  # 0.1.0 never said where
            assert session.exec(select(SlackThread)).one().turns[0]["text"] == "What did Devon learn?"
            assert session.exec(select(ProcessedEvent)).one().event_id == "Ev0123456"
            assert {c.id for c in session.exec(select(Chunk))} == chunks
            four_bit = {t.chunk_id: unpack_tokens(t.vectors, DIM) for t in session.exec(select(ChunkTokens))}
        assert four_bit.keys() == int8_tokens.keys() and int8_tokens  # every chunk's token vectors kept, in the new format
        for chunk_id, (codes, scales) in four_bit.items():
            before = int8_tokens[chunk_id]
            assert codes.shape == before.shape and (np.abs(codes * scales[:, None] - before) <= scales[:, None] / 2 + 1e-6).all()
        made = {chunk_id: ids.tolist() for chunk_id, ids in services.catalog.term_ids()}  # no rows yet: made from the text
        assert made.keys() == chunks and services.catalog.add_missing_terms() == len(chunks)  # what the next ingest does
        assert {chunk_id: ids.tolist() for chunk_id, ids in services.catalog.term_ids()} == made and services.catalog.add_missing_terms() == 0
        gaps = services.gaps.gaps()
        public = {qid for qid, surface in questions.items() if surface != "slack"}
        assert public and {q for g in gaps for q in g.question_ids} == public  # open gaps kept; Slack ones may have been DMs
        published = services.reflections.list(status="published")
        assert len(published) == 2
        codeword = published[0].what_we_learned.split()[0]
        assert services.searcher.search(codeword, k=10)  # the stored index still serves searches
    finally:
        services.catalog.engine.dispose()


def test_token_vectors_migrate_to_what_pack_tokens_writes_keeping_empty_ones_and_dropping_unreadable_ones(database_url: str) -> None:
    rng = np.random.default_rng(5)
    engine = make_engine(database_url)
    upgrade(engine, targets=("c0004",))
    vectors = {1: rng.normal(size=(6, DIM)).astype(np.float32), 2: np.zeros((0, DIM), np.float32), 3: rng.normal(size=(97, DIM)).astype(np.float32)}
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO document (id, source, content_hash, title, authors, publisher, source_type, tags, extra, ingested_at) "
                                    "VALUES (1, 'a.md', 'h', 'A', '[]', '', 'report', '[]', '{}', '2026-01-01')"))
            for chunk_id in (1, 2, 3, 4):
                connection.execute(
                    text("INSERT INTO chunk (id, document_id, ordinal, text, section, char_start, char_end, content_hash, embedding) "
                         "VALUES (:id, 1, :id, 't', '', 0, 1, 'c', :embedding)"),
                    {"id": chunk_id, "embedding": np.zeros(DIM, np.float32).tobytes()},
                )
            old = {i: _int8_blob(v) for i, v in vectors.items()} | {4: b"\x01" * 7}  # 4: no whole int8 vectors
            for chunk_id, blob in old.items():
                connection.execute(text("INSERT INTO chunktokens (chunk_id, vectors) VALUES (:id, :blob)"), {"id": chunk_id, "blob": blob})
        upgrade(engine, targets=("c0005",))
        with Session(engine) as session:
            stored = {t.chunk_id: bytes(t.vectors) for t in session.exec(select(ChunkTokens))}
        dequantised = {i: _int8_vectors(old[i], DIM) for i in vectors}
        assert stored == {1: pack_tokens(dequantised[1]), 2: b"", 3: pack_tokens(dequantised[3])}  # 4 is embedded again by the next ingest
    finally:
        engine.dispose()


def _int8_blob(vectors: np.ndarray) -> bytes:
    """Token vectors as 0.1.0 to c0004 stored them."""
    if not len(vectors):
        return b""
    scales = (np.abs(vectors).max(axis=1) / 127).astype("<f4")
    return scales.tobytes() + np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8).tobytes()


def test_ids_are_never_reused_after_the_newest_is_deleted(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with Session(engine) as session:
            first = Document(source="a", content_hash="h", title="A", source_type="report")
            session.add(first)
            session.commit()
            newest = first.id
            session.delete(first)
            session.commit()
            second = Document(source="b", content_hash="h", title="B", source_type="report")
            session.add(second)
            session.commit()
            assert second.id > newest
    finally:
        engine.dispose()


def test_models_match_the_migrated_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, [BOT_VERSIONS])
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        assert differences == [], "a model changed without a migration (or the reverse)"
    finally:
        engine.dispose()


MIGRATE = "import sys; from bot.migrations import BOT_VERSIONS; from index import Catalog, make_engine; Catalog(make_engine(sys.argv[1])).create([BOT_VERSIONS])"


def test_several_processes_can_migrate_one_database_at_once(database_url: str) -> None:
    processes = [subprocess.Popen([sys.executable, "-c", MIGRATE, database_url], stderr=subprocess.PIPE, text=True, cwd=REPO) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], errors
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            versions = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
            revision_rows = connection.execute(text("SELECT count(*) FROM catalogrevision")).scalar_one()
        assert versions == {"c0006", "b0004"} and revision_rows == 1
    finally:
        engine.dispose()
