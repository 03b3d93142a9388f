"""Cold ingest (model load included), unchanged re-ingest, and pipeline embedding vs plain encode()."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

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
    plain = statistics.median(_seconds(lambda: model.encode(texts, batch_size=32, normalize_embeddings=True)) for _ in range(3))
    pipeline = statistics.median(_seconds(lambda: services.embedder.embed_batch(texts)) for _ in range(3))
    return {
        "chunks": report.chunks,
        "cold_ingest_s_median": round(statistics.median(cold), 2),
        "unchanged_reingest_s_median": round(statistics.median(rerun), 3),
        "unchanged_reingest_embedded": max(embedded_rerun),
        "plain_encode_chunks_per_s": round(len(texts) / plain, 1),
        "pipeline_embed_chunks_per_s": round(len(texts) / pipeline, 1),
        "pipeline_vs_plain_ratio": round(plain / pipeline, 3),
    }


def _seconds(fn) -> float:  # noqa: ANN001 - any callable
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
