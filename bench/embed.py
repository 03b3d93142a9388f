"""Embedding backends (torch, ONNX Runtime int8) and micro-batching.

- ingest throughput: the ONNX backend's encode (vectors and token vectors, what the pipeline
  stores) against plain `SentenceTransformer.encode` (vectors only) on the same corpus passages;
- query embedding: one question at a time, torch against ONNX, with torch's threads as `serve`
  sets them (LEARNLOOP_SERVE_EMBED_THREADS);
- over HTTP, 8 clients searching at once, with the encoding thread taking every waiting query in
  one call (micro-batching) or one query per call, as a share of the embedding-bound rate (1000 /
  one query's embedding in ms: what the embedding thread alone could serve one by one);
- quality: the eval sets' retrieval and answer figures with each backend, each on its own ingest.
Every pair is alternated (bench/common.py).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import EVAL, alternate, compare, fresh_services, p50, questions, timed
from bot.evaluation import answer_metrics, load_questions, retrieval_metrics
from bot.http.app import create_app
from bot.services import Services
from bot.serving import tune_for_serving
from index.records import contextual_text
from ingest import Embedder
from tests.conftest import LiveServer

CLIENTS = 8
QUALITY_KEYS = ("hit@5", "mrr@10", "answer_with_gold", "answer_or_related_with_gold", "false_abstention", "unanswerable_answered", "keyword_recall")


def passages(services: Services, limit: int) -> list[str]:
    """Corpus passages as the pipeline embeds them (title and section first)."""
    metas = [meta for meta, _ in services.catalog.chunk_metas(with_tokens=False)]
    return [contextual_text(meta.title, meta.section, meta.text) for meta in metas[:limit]]


def quality(services: Services) -> dict:
    figures = {}
    for name in ("dev", "extra", "holdout", "tune"):
        asked = load_questions(EVAL / f"{name}.jsonl")
        metrics = {**retrieval_metrics(services.searcher, asked, "hybrid"), **answer_metrics(services.answers, services.searcher, asked)}
        figures[name] = {key: metrics[key] for key in QUALITY_KEYS}
    return figures


def concurrent_rate(url: str, asked: list[str], rounds: int) -> float:
    """Searches per second that CLIENTS threads get, each asking `rounds` questions in turn."""
    start_line = threading.Barrier(CLIENTS + 1)
    failures: list[BaseException] = []

    def client(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            start_line.wait()
            try:
                for turn in range(rounds):
                    http.get("/search", params={"q": asked[(offset + turn) % len(asked)], "k": 5}).raise_for_status()
            except httpx.HTTPError as error:
                failures.append(error)

    threads = [threading.Thread(target=client, args=(i * 7,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return CLIENTS * rounds / (time.perf_counter() - began)


def http_concurrency(services: Services, embedder: Embedder, asked: list[str], rounds: int, repeats: int) -> dict:
    """Micro-batched against one query per call, alternated, on one server."""
    one_query_ms = [timed(lambda q=q: embedder.encode([q])) for q in asked]
    bound = 1000 / statistics.median(one_query_ms)
    batcher = embedder._batcher
    batch_size = batcher.max_texts
    rates: dict[str, list[float]] = {"micro_batched": [], "one_by_one": []}
    with LiveServer(create_app(services.settings, services)) as server:
        concurrent_rate(server.url, asked, 2)  # warm-up
        for turn in range(repeats):
            for name in ("micro_batched", "one_by_one") if turn % 2 == 0 else ("one_by_one", "micro_batched"):
                batcher.max_texts = batch_size if name == "micro_batched" else 1
                rates[name].append(concurrent_rate(server.url, asked, rounds))
    batcher.max_texts = batch_size
    return {
        "clients": CLIENTS,
        "one_query_embedding_ms_p50": p50(one_query_ms),
        "embedding_bound_rate_per_s": round(bound, 1),
        **{f"{name}_rate_per_s": round(statistics.median(values), 1) for name, values in rates.items()},
        **{f"{name}_share_of_bound": round(statistics.median(values) / bound, 2) for name, values in rates.items()},
    }


def run(quick: bool) -> dict:
    asked = questions()[: 16 if quick else None]
    with tempfile.TemporaryDirectory() as tmp:
        torch = fresh_services(Path(tmp) / "torch", embed_backend="torch")
        onnx = fresh_services(Path(tmp) / "onnx", embed_backend="onnx")
        texts = passages(torch, 32 if quick else 128)
        for embedder in (torch.embedder, onnx.embedder):  # warm-up
            embedder.encode(texts[:8])
        ingest_onnx, ingest_plain = alternate(lambda _: onnx.embedder.encode(texts), lambda _: torch.embedder.embed_batch(texts), range(2 if quick else 6))
        tune_for_serving(torch.settings.serve_embed_threads)  # queries as `serve` embeds them (torch on one thread by default)
        query_onnx, query_torch = alternate(lambda q: onnx.embedder.encode([q]), lambda q: torch.embedder.encode([q]), asked)
        rounds, repeats = (4, 2) if quick else (12, 6)
        return {
            "passages": len(texts),
            "ingest_onnx_encode_vs_plain_torch_encode": compare(ingest_onnx, ingest_plain),
            "ingest_onnx_chunks_per_s": round(len(texts) / p50(ingest_onnx) * 1000, 1),
            "ingest_plain_torch_chunks_per_s": round(len(texts) / p50(ingest_plain) * 1000, 1),
            "ingest_speedup": round(statistics.median(ingest_plain) / statistics.median(ingest_onnx), 2),
            "query_onnx_vs_torch": compare(query_onnx, query_torch),
            "http_8_clients": {
                "torch": http_concurrency(torch, torch.embedder, asked, rounds, repeats),
                "onnx": http_concurrency(onnx, onnx.embedder, asked, rounds, repeats),
            },
            "quality": {"torch": quality(torch), "onnx": quality(onnx)},
        }
