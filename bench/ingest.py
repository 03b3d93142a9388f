"""Ingest of the bundled corpus: cold (a new process, nothing imported) against warm (in process,
model loaded), an unchanged re-ingest, and the pipeline's embedding against plain encode()."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import alternate, compare, corpus_copy, fresh_services, p50, timed
from bot.services import build_services
from bot.settings import Settings
from ingest import Embedder, encodings_of
from ingest.embed import load_embedder

LEARNLOOP = Path(sys.executable).with_name("learnloop")  # the console script installed beside this interpreter


def cold_ingest(settings: Settings) -> dict:
    """`learnloop ingest` in a new process: Python start, imports, model load, ingest, index cache."""
    env = {**os.environ, "LEARNLOOP_HOME": str(settings.home), "LEARNLOOP_CORPUS": str(settings.corpus)}
    done = subprocess.run([str(LEARNLOOP), "ingest", "--json"], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def warm_ingest(settings: Settings, embedder: Embedder) -> dict:
    """What `learnloop ingest` does after its start-up, in this process with the model already loaded."""
    services = build_services(settings, embedder=embedder)
    report = services.pipeline.run()
    services.searcher.sync()
    services.searcher.save_cache()
    return report.as_dict()


def run(quick: bool) -> dict:
    runs, rounds = (2, 2) if quick else (5, 5)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        services = fresh_services(root / "base")  # loads the model for the warm runs and the embedding pair
        embedder = services.embedder
        homes = [(corpus_copy(root / f"cold{i}"), corpus_copy(root / f"warm{i}")) for i in range(runs)]  # copied untimed
        reports: list[dict] = []
        cold_ms, warm_ms = alternate(
            lambda i: cold_ingest(homes[i][0]), lambda i: warm_ingest(homes[i][1], embedder), range(runs), after=reports.append
        )
        if any(r["failed"] or r["chunks"] != reports[0]["chunks"] for r in reports):
            raise RuntimeError(f"the ingest runs disagree: {reports}")
        rerun_ms = [timed(services.pipeline.run) for _ in range(runs)]
        embedded_again = services.pipeline.run().embedded

        texts = [meta.contextual_text for meta, _ in services.catalog.chunk_metas()][: 64 if quick else None]

        torch_embedder = load_embedder(services.settings.embed_model, "torch")

        def plain(_: int) -> object:
            """Plain SentenceTransformer.encode (torch's embed_batch is exactly that), whatever backend ingest is set to."""
            return torch_embedder.embed_batch(texts)

        def pipeline(_: int) -> object:
            """What IngestPipeline stores per chunk: pooled and token vectors from one pass, packed."""
            return encodings_of(embedder.encode(texts))

        plain(0), pipeline(0)  # warm-up
        plain_ms, pipeline_ms = alternate(plain, pipeline, range(rounds))
    return {
        "chunks": reports[0]["chunks"],
        "cold_vs_warm_ingest": compare(cold_ms, warm_ms),
        "unchanged_reingest_ms_p50": p50(rerun_ms),
        "unchanged_reingest_embedded": embedded_again,
        "embedded_chunks": len(texts),
        "pipeline_encode_vs_plain_encode": compare(pipeline_ms, plain_ms),
        "plain_encode_chunks_per_s": round(len(texts) / p50(plain_ms) * 1000, 1),
        "pipeline_encode_chunks_per_s": round(len(texts) / p50(pipeline_ms) * 1000, 1),
    }
