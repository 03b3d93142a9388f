"""Scale: one replica serving an N-chunk catalog, against the bundled corpus in the same run.

`python -m bench scale --chunks N --json` prints {"chunks", "baseline_p50_ms", "search_p50_ms",
"search_p99_ms", "recall_at_10", "rss_mb", "startup_s"} (and a few extra figures).

How the N-chunk catalog is made, synthetic where it must be: embedding a million chunks would take
hours here, so the bundled corpus is ingested for real (its few hundred chunks) and the rest are
written straight into the catalog tables in bulk, made from the real chunks:
- text: sentences of two real chunks recombined (so BM25 sees real vocabulary and phrases);
- vector: the first chunk's real vector plus half the second's plus Gaussian noise, renormalised
  (so the vectors spread around the real ones rather than piling onto a few hundred points);
- token vectors: the first chunk's real ones plus small noise, re-quantised;
- BM25 term ids: made from the text, as the catalog makes them for an ingested chunk.
Documents hold 20 such chunks each, with real titles' words, tags, source types and years.

Each catalog is served by a real `learnloop serve` in a subprocess. Start-up is process start to
/readyz 200: `startup_s` is the first start on the grown catalog, which builds every index and
saves it under the home's index/ folder, and writes the token file after it is ready
(`token_file_s`, from process start, until its stamp exists); `restart_s` is a second start, from
those files. Search is GET /search (hybrid, k=10) with every eval question, once right after
start-up (`first_start_warming_p50_ms`: the token file may still be being written) and, for the
figures, again once the token file is in place; RSS is the server process's after the searches. Recall@10 compares the dense index the server builds (rebuilt here by
the same code from the same catalog vectors) with exact search (a FAISS flat index) for the
questions' embeddings.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import faiss
import httpx
import numpy as np
import psutil
from sqlalchemy import create_engine, func, insert, select, update

from bench.common import REPO, corpus_copy, questions
from bot.services import build_services
from index.db import CatalogRevision, Chunk, ChunkTerms, ChunkTokens, Document
from index.late import pack_tokens, unpack_tokens
from index.records import contextual_text
from index.terms import pack_term_ids, text_term_ids
from index.vectors import VectorIndex
from tests.conftest import free_port

DEFAULT_CHUNKS = 100_000
QUICK_CHUNKS = 2_000
CHUNKS_PER_DOCUMENT = 20
BATCH = 5_000
VECTOR_NOISE = 0.6  # norm of the noise added to a (normalised) real vector before renormalising
TOKEN_NOISE = 0.05
READY_DEADLINE_S = 900.0  # and 1 ms more per chunk: a first start at 1,000,000 builds every index
EVAL_SETS = ("dev", "extra", "holdout", "tune")
SENTENCE = re.compile(r"[^.!?]+[.!?]*")  # linear: one character class, then another
SOURCE_TYPES = ("learning_log", "reflection", "report")


def run(quick: bool, chunks: int = DEFAULT_CHUNKS) -> dict:
    """Serve the bundled corpus, then an N-chunk catalog grown from it; figures for both."""
    chunks = QUICK_CHUNKS if quick and chunks == DEFAULT_CHUNKS else chunks
    asked = questions(EVAL_SETS)[: 10 if quick else None]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        settings = corpus_copy(root)
        services = build_services(settings)
        services.pipeline.run()
        services.catalog.engine.dispose()
        baseline = serve_and_measure(settings.home, settings.corpus, asked, READY_DEADLINE_S)
        scaled_home = root / "scaled"
        scaled_home.mkdir()
        shutil.copy(settings.home / "learnloop.db", scaled_home / "learnloop.db")
        built_s = grow_catalog(f"sqlite:///{scaled_home / 'learnloop.db'}", chunks, np.random.default_rng(15))
        deadline = READY_DEADLINE_S + chunks / 1000
        scaled = serve_and_measure(scaled_home, settings.corpus, asked, deadline)
        restart = serve_and_measure(scaled_home, settings.corpus, asked, deadline)  # from the index files the first start saved
        recall = dense_recall(f"sqlite:///{scaled_home / 'learnloop.db'}", services.embedder, asked)
    return {
        "chunks": chunks,
        "baseline_p50_ms": baseline["p50_ms"],
        "search_p50_ms": scaled["p50_ms"],
        "search_p99_ms": scaled["p99_ms"],
        "recall_at_10": recall,
        "rss_mb": scaled["rss_mb"],
        "startup_s": scaled["startup_s"],
        "first_start_warming_p50_ms": scaled["warming_p50_ms"],
        "token_file_s": scaled["token_file_s"],
        "restart_s": restart["startup_s"],
        "restart_p50_ms": restart["p50_ms"],
        "restart_rss_mb": restart["rss_mb"],
        "baseline_p99_ms": baseline["p99_ms"],
        "baseline_rss_mb": baseline["rss_mb"],
        "baseline_startup_s": baseline["startup_s"],
        "catalog_build_s": round(built_s, 1),
        "searches": scaled["searches"],
    }


def grow_catalog(url: str, target: int, rng: np.random.Generator) -> float:
    """Add synthetic chunks (module docstring) to the catalog at `url` until it holds `target`; seconds taken."""
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as connection:
        rows = connection.execute(
            select(Chunk.id, Chunk.text, Chunk.embedding, ChunkTokens.vectors, Document.title, Document.tags).join(ChunkTokens).join(Document)
        ).all()
        have = connection.execute(select(func.count()).select_from(Chunk)).scalar_one()
        next_document = connection.execute(select(func.max(Document.id))).scalar_one() + 1
        next_chunk = connection.execute(select(func.max(Chunk.id))).scalar_one() + 1
    sentences = [[s.strip() for s in SENTENCE.findall(text) if s.strip()] for _, text, *_ in rows]
    vectors = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
    tokens = [_dequantised(r[3], len(r[2]) // 4) for r in rows]
    titles = [r[4] for r in rows]
    tags = sorted({t for r in rows for t in r[5]}) or ["practice"]
    dim = vectors.shape[1]
    remaining = max(0, target - have)
    while remaining:
        count = min(BATCH, remaining)
        first = rng.integers(len(rows), size=count)
        second = rng.integers(len(rows), size=count)
        noise = rng.normal(size=(count, dim)).astype(np.float32) * (VECTOR_NOISE / np.sqrt(dim))
        mixed = vectors[first] + 0.5 * vectors[second] + noise
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        documents, chunks, token_rows, titles_of = [], [], [], {}
        for n in range(count):
            chunk_id = next_chunk + n
            document_id = next_document + n // CHUNKS_PER_DOCUMENT
            if n % CHUNKS_PER_DOCUMENT == 0:
                documents.append(_document(document_id, titles[first[n]], tags, rng))
                titles_of[document_id] = documents[-1]["title"]
            text = _recombined(sentences[first[n]], sentences[second[n]], rng)
            chunks.append(_chunk(chunk_id, document_id, n % CHUNKS_PER_DOCUMENT, text, mixed[n]))
            own = tokens[first[n]]
            token_rows.append({"chunk_id": chunk_id, "vectors": pack_tokens(own + rng.normal(scale=TOKEN_NOISE, size=own.shape).astype(np.float32))})
        with engine.begin() as connection:
            connection.execute(insert(Document.__table__), documents)
            connection.execute(insert(Chunk.__table__), chunks)
            connection.execute(insert(ChunkTokens.__table__), token_rows)
            connection.execute(insert(ChunkTerms.__table__), _term_rows(chunks, titles_of))
            connection.execute(update(CatalogRevision).values(revision=CatalogRevision.revision + 1))
        next_chunk += count
        next_document += -(-count // CHUNKS_PER_DOCUMENT)
        remaining -= count
        print(f"catalog: {target - remaining} of {target} chunks", file=sys.stderr, flush=True)
    engine.dispose()
    return time.perf_counter() - started


def _term_rows(chunks: list[dict], titles_of: dict[int, str]) -> list[dict]:
    """The ChunkTerms rows of `chunks`, as the catalog writes them for an ingested chunk."""
    texts = [contextual_text(titles_of[c["document_id"]], c["section"], c["text"]) for c in chunks]
    return [{"chunk_id": c["id"], "terms": pack_term_ids(ids)} for c, ids in zip(chunks, text_term_ids(texts), strict=True)]


def _dequantised(blob: bytes, dim: int) -> np.ndarray:
    codes, scales = unpack_tokens(blob, dim)
    return codes.astype(np.float32) * scales[:, None]


def _recombined(a: list[str], b: list[str], rng: np.random.Generator) -> str:
    """Sentences of chunk a and chunk b, interleaved from random starting points (about a chunk's length)."""
    picked = a[rng.integers(len(a)) :][:4] + b[rng.integers(len(b)) :][:3] if a and b else a + b
    return " ".join(picked) or "Synthetic passage."


def _document(document_id: int, title: str, tags: list[str], rng: np.random.Generator) -> dict:
    return {
        "id": document_id,
        "source": f"synthetic/log-{document_id:08d}.md",
        "content_hash": hashlib.sha256(str(document_id).encode()).hexdigest(),
        "title": f"{title} (log {document_id})",
        "authors": [],
        "publisher": "",
        "year": int(rng.integers(2010, 2026)),
        "source_type": SOURCE_TYPES[document_id % len(SOURCE_TYPES)],
        "tags": [tags[int(i)] for i in rng.integers(len(tags), size=2)],
        "extra": {},
        "ingested_at": datetime.now(UTC),
    }


def _chunk(chunk_id: int, document_id: int, ordinal: int, text: str, vector: np.ndarray) -> dict:
    return {
        "id": chunk_id,
        "document_id": document_id,
        "ordinal": ordinal,
        "text": text,
        "section": "",
        "page_start": None,
        "page_end": None,
        "char_start": 0,
        "char_end": len(text),
        "content_hash": hashlib.sha256(text.encode()).hexdigest(),
        "embedding": vector.astype(np.float32).tobytes(),
    }


def serve_and_measure(home: Path, corpus: Path, asked: list[str], deadline_s: float) -> dict:
    """Start `learnloop serve` on `home`, time it to /readyz 200, search with every question, read its RSS."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEARNLOOP_", "SLACK_"))}
    env.update(LEARNLOOP_HOME=str(home), LEARNLOOP_CORPUS=str(corpus))
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "learnloop"), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            startup = _wait_ready(client, server, started, deadline_s)
            warming = _searched(client, asked)  # a first start may still be writing its token file meanwhile
            tokens_s = _wait_for_token_file(home / "index" / "tokens.json", server, started, deadline_s)
            _searched(client, asked[:5])  # warm-up
            times = _searched(client, asked)
        rss = psutil.Process(server.pid).memory_info().rss / 2**20
    finally:
        server.terminate()
        server.wait(60)
    return {
        "startup_s": round(startup, 2),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(float(np.percentile(times, 99)), 2),
        "warming_p50_ms": round(statistics.median(warming), 2),
        "token_file_s": round(tokens_s, 2),
        "rss_mb": round(rss),
        "searches": len(times),
    }


def _searched(client: httpx.Client, asked: list[str]) -> list[float]:
    """Milliseconds each GET /search (hybrid, k=10) took, one question after another."""
    times = []
    for q in asked:
        start = time.perf_counter()
        client.get("/search", params={"q": q, "k": 10}).raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _wait_for_token_file(stamp: Path, server: subprocess.Popen, started: float, deadline_s: float) -> float:
    """Seconds from `started` until the token file's stamp exists (a first start writes the file
    after it is ready, index.search.Searcher._write_tokens_behind; a restart finds it there)."""
    while time.perf_counter() - started < deadline_s:
        if stamp.exists():
            return time.perf_counter() - started
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode} before its token file was written")
        time.sleep(0.1)
    raise RuntimeError(f"the token file was not written within {deadline_s:.0f} s")


def _wait_ready(client: httpx.Client, server: subprocess.Popen, started: float, deadline_s: float) -> float:
    """Seconds from `started` until /readyz answers 200 (polled; fails if the server dies or the deadline passes)."""
    while time.perf_counter() - started < deadline_s:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode} before it was ready")
        try:
            if client.get("/readyz", timeout=5).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server was not ready within {deadline_s:.0f} s")


def dense_recall(url: str, embedder: object, asked: list[str], k: int = 10) -> float:
    """Recall@k of the size-chosen dense index against exact inner-product search over the same vectors."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(Chunk.id, Chunk.embedding).order_by(Chunk.id)).all()
    engine.dispose()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    matrix = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
    del rows
    chosen = VectorIndex.build(list(ids), matrix)
    exact = faiss.IndexFlatIP(matrix.shape[1])
    exact.add(matrix)
    queries = np.asarray(embedder.encode(asked).vectors, dtype=np.float32)
    _, truth = exact.search(queries, k)
    found = 0
    for query, expected in zip(queries, truth, strict=True):
        got = {i for i, _ in chosen.search(query, k)}
        found += len(got & set(ids[expected].tolist()))
    return round(found / (k * len(asked)), 4)

