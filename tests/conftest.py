"""Shared fixtures: a fake embedder registered like the real ones, a corpus copy, and one real ingest per session."""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psycopg
import pytest
import uvicorn

from bot.services import Services, build_services
from bot.settings import Settings
from index import Catalog, ChunkDraft, DocumentDraft, background, make_engine
from index.records import Encoded
from ingest import Embedder, encodings_of, load_embedder, register_embedder
from ingest.embed import is_content_token

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class FakeEmbedder(Embedder):
    """Hashed bag of words: deterministic, instant, and similar texts get similar vectors."""

    name = "fake"
    dim = 384

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._word_vectors(re.findall(r"\w+", text.lower())).sum(axis=0)
            out[row] /= max(np.linalg.norm(out[row]), 1e-9)
        return out

    def encode(self, texts: Sequence[str]) -> Encoded:
        """Each content word is a token whose vector is its own hashed axis."""
        tokens = [self._word_vectors([w for w in re.findall(r"\w+", text.lower()) if is_content_token(w)]) for text in texts]
        return Encoded(self.embed_batch(texts), tokens)

    @classmethod
    def _word_vectors(cls, words: list[str]) -> np.ndarray:
        vectors = np.zeros((len(words), cls.dim), dtype=np.float32)
        for row, word in enumerate(words):
            vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % cls.dim] = 1.0
        return vectors


register_embedder("fake", lambda spec: FakeEmbedder())


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL: SQLite in tmp_path, or a throwaway PostgreSQL database dropped afterwards."""
    with throwaway_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", target)
    return target


def make_settings(home: Path, corpus: Path, **overrides: object) -> Settings:
    return Settings(home=home, corpus=corpus, **overrides)


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Services:
    """The bundled corpus ingested once with the real model (SQLite). Its catalog is never changed;
    answers asked of it are logged there, so a test that reads logs, gaps or feedback back, or
    changes anything, works on its own copy (clone_services)."""
    root = tmp_path_factory.mktemp("ingested")
    shutil.copytree(REPO / "corpus", root / "corpus")
    services = build_services(make_settings(root / "var", root / "corpus"), embedder=real_embedder)
    report = services.pipeline.run()
    assert report.failed == [] and report.documents == 5
    services.searcher.sync()
    return services


def add_passage(catalog: Catalog, n: int, text: str, source_type: str = "report") -> None:
    """Store document "n.md" (title "Doc") holding one chunk, `text`, embedded by the fake embedder."""
    draft = DocumentDraft(source=f"{n}.md", content_hash=str(n), title="Doc", source_type=source_type)
    chunk = ChunkDraft(ordinal=0, text=text, section="", page_start=None, page_end=None, char_start=0, char_end=len(text), content_hash=f"c{n}")
    catalog.replace_document(draft, [chunk], encodings_of(FakeEmbedder().encode([f"Doc\n{text}"])))


def passage_catalog(folder: Path, texts: list[str]) -> Catalog:
    """A new SQLite catalog in `folder` with one single-chunk document per text (`add_passage`)."""
    folder.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(make_engine(f"sqlite:///{folder / 'c.db'}"))
    catalog.create()
    for n, text in enumerate(texts):
        add_passage(catalog, n, text)
    return catalog


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real uvicorn server on loopback in a background thread."""

    def __init__(self, app: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_server() -> Iterator[type[LiveServer]]:
    yield LiveServer


LOG_TABLES = ("querylog", "feedback", "slackthread", "processedevent", "reflection")


def clone_services(source: Services, home: Path, **overrides: object) -> Services:
    """A private copy of an ingested catalog (SQLite backup API), with its own settings and none of
    the questions, feedback, threads or reflections other tests logged in the source."""
    import sqlite3

    home.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source.settings.resolved_database_url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(home / "learnloop.db")
    src.backup(dst)
    src.close()
    with dst:
        for table in LOG_TABLES:
            dst.execute(f"DELETE FROM {table}")
    dst.close()
    corpus = home.parent / "corpus"
    shutil.copytree(source.settings.corpus, corpus, dirs_exist_ok=True)
    settings = source.settings.model_copy(update={"home": home, "corpus": corpus, **overrides})
    return build_services(settings, embedder=source.embedder)


@contextmanager
def throwaway_database(kind: str, folder: Path) -> Iterator[str]:
    """A SQLAlchemy URL for an empty database of `kind` ('sqlite' or 'postgresql'), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'throwaway.db'}"
        return
    name = f"learnloop_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        # its workers first: one retrying against the dropped database would log its give-up error
        # minutes later, into whichever test runs then
        background.close_workers_of(name)
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def small_services(root: Path, database_url: str, **overrides: object) -> Services:
    """One bundled report ingested with the FakeEmbedder into `database_url`: a real catalog in a second."""
    corpus = root / "corpus"
    (corpus / "reports").mkdir(parents=True)
    (corpus / "learning-logs").mkdir()
    for name in ("behaving-like-a-system-collaborate-2015.txt", "sources.toml"):
        shutil.copy(REPO / "corpus" / "reports" / name, corpus / "reports" / name)
    built = build_services(make_settings(root / "var", corpus, database_url=database_url, **overrides), embedder=FakeEmbedder())
    assert built.pipeline.run().documents == 1
    built.searcher.sync()
    return built
