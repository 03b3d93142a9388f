"""The ingest queue on PostgreSQL: `learnloop ingest --queue` and two `learnloop worker` processes, one
killed (SIGKILL) in the middle of a file. The file is retried, and the catalog is the one a
single-process ingest of the same files makes; every other file is embedded once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli.main import app
from bot.services import build_services
from index import make_engine
from tests.conftest import REPO, FakeEmbedder, make_settings, throwaway_database
from tests.pg_cluster import wait_until
from tests.queue_worker import STALL_MARK

LOG = """---
title: {title}
team: Team {n}
place: Place {n}
date: 2024-0{n}-01
---

# What happened

Team {n} tried a {word} approach to commissioning support for families, meeting monthly.

# What we learned

Trust between providers and commissioners grew once reports asked what was learned, not only what was spent.
"""


def _corpus(root: Path) -> tuple[Path, int]:
    """The bundled reports plus six learning logs, one of them holding the stall mark; and its file count."""
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    words = ["patient", "bold", "careful", STALL_MARK, "shared", "local"]
    for n, word in enumerate(words, start=1):
        (corpus / "learning-logs" / f"log-{n}.md").write_text(LOG.format(title=f"Learning log {n}", n=n, word=word))
    reports = [p for p in (corpus / "reports").iterdir() if p.suffix in (".md", ".txt") and not p.name.startswith(("NOTICE", "README"))]
    return corpus, len(reports) + len(words)


def _catalog(engine: Engine) -> tuple[list, list]:
    """Documents and chunks as comparable rows (ids differ between catalogs; content does not)."""
    with engine.connect() as connection:
        documents = sorted(connection.execute(text("SELECT source, content_hash, title, source_type, year FROM document")).all())
        chunks = sorted(
            connection.execute(
                text(
                    "SELECT d.source, c.ordinal, c.content_hash, c.section, c.char_start, c.char_end, c.embedding, t.vectors"
                    " FROM chunk c JOIN document d ON d.id = c.document_id JOIN chunktokens t ON t.chunk_id = c.id"
                )
            ).all()
        )
    return documents, chunks


def _learnloop(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as stderr:
        return subprocess.Popen([sys.executable, "-m", "tests.queue_worker", *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr)


def _jobs(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")).all())


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_one_killed_mid_file_make_the_catalog_of_a_single_ingest(tmp_path: Path) -> None:
    corpus, files = _corpus(tmp_path)
    with throwaway_database("postgresql", tmp_path) as single_url, throwaway_database("postgresql", tmp_path) as queue_url:
        single = build_services(make_settings(tmp_path / "single", corpus, database_url=single_url), embedder=FakeEmbedder())
        assert single.pipeline.run().failed == []
        expected = _catalog(single.catalog.engine)
        single.catalog.engine.dispose()

        env = {
            **os.environ,
            "LEARNLOOP_DATABASE_URL": queue_url,
            "LEARNLOOP_HOME": str(tmp_path / "queued"),
            "LEARNLOOP_CORPUS": str(corpus),
            "LEARNLOOP_EMBED_MODEL": "stall-once",
            "QUEUE_TEST_DIR": str(tmp_path),
        }
        enqueuer = _learnloop(["ingest", "--queue", "--json"], env, tmp_path / "enqueue.log")
        queued = json.loads(enqueuer.communicate(timeout=120)[0])
        assert enqueuer.returncode == 0 and queued == {"queued": files, "already_queued": 0, "failed": []}

        workers = [_learnloop(["worker", "--stalled-after", "3"], env, tmp_path / f"worker-{i}.log") for i in range(2)]
        engine = make_engine(queue_url)
        try:
            wait_until(lambda: (tmp_path / "stalled").exists(), timeout=120, what="a worker stalled mid-file")
            victim = int((tmp_path / "stalled").read_text())
            assert victim in {w.pid for w in workers}
            os.kill(victim, signal.SIGKILL)
            wait_until(lambda: _jobs(engine) == {"succeeded": files}, timeout=120, what=f"every job done (now {_jobs(engine)})")
            survivor = next(w for w in workers if w.pid != victim)
            survivor.send_signal(signal.SIGTERM)
            assert survivor.wait(timeout=60) == 0
            assert next(w for w in workers if w.pid == victim).wait(timeout=10) == -signal.SIGKILL

            assert _catalog(engine) == expected
            with engine.connect() as connection:
                attempts = dict(connection.execute(text("SELECT args->>'path', attempts FROM procrastinate_jobs")).all())
            assert attempts == {path: 2 if path.endswith("log-4.md") else 1 for path in attempts}  # only the killed worker's file ran twice
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait(timeout=10)
            engine.dispose()

    embedded = [line.split() for line in (tmp_path / "embedded.log").read_text().splitlines()]
    others = Counter(digest for _, digest, marked in embedded if marked == "False")
    assert others and set(others.values()) == {1}  # embedded once, though two workers shared the files
    marked = Counter(digest for _, digest, marked in embedded if marked == "True")
    assert marked and set(marked.values()) == {2} and {pid for pid, _, m in embedded if m == "True"} == {str(w.pid) for w in workers}


def test_the_queue_needs_postgresql(tmp_path: Path) -> None:
    env = {"LEARNLOOP_HOME": str(tmp_path), "LEARNLOOP_CORPUS": str(REPO / "corpus"), "LEARNLOOP_DATABASE_URL": ""}
    for args in (["ingest", "--queue"], ["worker"]):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines() == [
            "error: The ingest queue needs PostgreSQL (LEARNLOOP_DATABASE_URL=postgresql+psycopg://...); with SQLite, run `learnloop ingest` without --queue."
        ]
    assert not (tmp_path / "learnloop.db").exists()  # refused before anything was created
