"""Cold ingest (model load included), unchanged re-ingest, and pipeline embedding vs plain encode()."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import timed
from bot.services import build_services
from bot.settings import Settings
from index.records import contextual_text

REPO = Path(__file__).resolve().parent.parent


def run() -> dict:
    cold, rerun, embedded_rerun = [], [], []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(REPO / "corpus", Path(tmp) / "corpus")
            settings = Settings(home=Path(tmp) / "var", corpus=Path(tmp) / "corpus")
            start = time.perf_counter()
            services = build_services(settings)  # loads the model
            report = services.pipeline.run()
            services.searcher.sync()
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            again = services.pipeline.run()
            rerun.append(time.perf_counter() - start)
            embedded_rerun.append(again.embedded)
            chunks = [meta for meta, _ in services.catalog.chunk_metas()]
            texts = [contextual_text(m.title, m.section, m.text) for m in chunks]
    model = services.embedder._model  # the same SentenceTransformer the pipeline uses
    plain_ms, pipeline_ms = [], []
    for _ in range(3):  # alternated, so drift in the machine's speed hits both alike
        plain_ms.append(timed(lambda: model.encode(texts, batch_size=32, normalize_embeddings=True)))
        pipeline_ms.append(timed(lambda: services.embedder.embed_batch(texts)))
    plain, pipeline = statistics.median(plain_ms) / 1000, statistics.median(pipeline_ms) / 1000
    return {
        "chunks": report.chunks,
        "cold_ingest_s_median": round(statistics.median(cold), 2),
        "unchanged_reingest_s_median": round(statistics.median(rerun), 3),
        "unchanged_reingest_embedded": max(embedded_rerun),
        "plain_encode_chunks_per_s": round(len(texts) / plain, 1),
        "pipeline_embed_chunks_per_s": round(len(texts) / pipeline, 1),
        "pipeline_vs_plain_ratio": round(plain / pipeline, 3),
    }
