"""Ingest in bfloat16 (`torch-bf16`) against plain encode(), and what it does to retrieval and answers.

Speed: the pipeline's encode (pooled and token vectors from one pass, packed as the catalog stores
them) in bfloat16, and in float32 for reference, each alternated with plain
`SentenceTransformer.encode` in float32 on the same passages (`bench.common.alternate`).

Quality: bfloat16 vectors are in torch's embedding space, so a catalog it ingested is served by the
default backend's queries (onnx-fp32), as a team would run it: bfloat16 ingest workers, float32
replicas. That catalog is scored against one the default backend ingested, on every eval set:
retrieval by each retriever and answer figures, and every answer compared whole.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import EVAL, alternate, compare, fresh_services
from bot.evaluation import answer_metrics, compare_retrievers, load_questions
from bot.services import Services, build_services
from bot.settings import Settings
from index import RETRIEVAL_MODES
from ingest import encodings_of
from ingest.embed import load_embedder, native_bf16

SETS = ("dev", "extra", "holdout", "tune", "heldout", "blind", "fresh", "mixed", "unseen", "holdback", "sealed")


def run(quick: bool) -> dict:
    names = SETS[:1] if quick else SETS
    sets = {name: load_questions(EVAL / f"{name}.jsonl") for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        fresh_services(Path(tmp) / "bf16", embed_backend="torch-bf16")
        bf16_ingest_s = time.perf_counter() - started
        served = build_services(Settings(home=Path(tmp) / "bf16" / "var", corpus=Path(tmp) / "bf16" / "corpus", embed_backend="onnx-fp32"))
        served.searcher.sync()
        started = time.perf_counter()
        default = fresh_services(Path(tmp) / "default")
        default_ingest_s = time.perf_counter() - started
        speed = _encode_speed(default, quick)
        figures = {name: {"bf16_ingest": _figures(served, questions), "default_ingest": _figures(default, questions)} for name, questions in sets.items()}
        answers = {name: _same_answers(served, default, questions) for name, questions in sets.items()}
    differences = [abs(a - b) for name in figures for a, b in zip(_numbers(figures[name]["bf16_ingest"]), _numbers(figures[name]["default_ingest"]), strict=True)]
    return {
        "native_bf16": native_bf16(),
        **speed,
        "fresh_ingest_s": {"torch_bf16": round(bf16_ingest_s, 1), "onnx_fp32": round(default_ingest_s, 1)},
        "largest_figure_difference": round(max(differences), 4),
        "identical_answers": {name: f"{same} of {total}" for name, (same, total) in answers.items()},
        "figures": figures,
    }


def _encode_speed(services: Services, quick: bool) -> dict:
    texts = [meta.contextual_text for meta, _ in services.catalog.chunk_metas()][: 32 if quick else 128]
    plain = load_embedder(services.settings.embed_model, "torch")
    bf16 = load_embedder(services.settings.embed_model, "torch-bf16")
    rounds = range(2 if quick else 5)
    bf16_ms, plain_ms = alternate(lambda _: encodings_of(bf16.encode(texts)), lambda _: plain.embed_batch(texts), [0, *rounds])
    fp32_ms, plain_again_ms = alternate(lambda _: encodings_of(plain.encode(texts)), lambda _: plain.embed_batch(texts), [0, *rounds])
    return {
        "passages": len(texts),
        "pipeline_encode_bf16_vs_plain_encode": compare(bf16_ms[1:], plain_ms[1:]),  # the first pair warms up
        "pipeline_encode_fp32_vs_plain_encode": compare(fp32_ms[1:], plain_again_ms[1:]),
    }


def _figures(services: Services, questions: list) -> dict:
    return {"retrieval": compare_retrievers(services.searcher, questions, list(RETRIEVAL_MODES)), "answers": answer_metrics(services.answers, services.searcher, questions)}


def _same_answers(one: Services, other: Services, questions: list) -> tuple[int, int]:
    pairs = [(one.answers.answer(q.question, surface="bench"), other.answers.answer(q.question, surface="bench")) for q in questions]
    return sum(a.outcome == b.outcome and a.answer == b.answer for a, b in pairs), len(pairs)


def _numbers(tree: object) -> list[float]:
    """Every number in a nested result, in order (the two trees have the same shape)."""
    if isinstance(tree, dict):
        return [n for key in sorted(tree) for n in _numbers(tree[key])]
    if isinstance(tree, list | tuple):
        return [n for item in tree for n in _numbers(item)]
    return [float(tree)] if isinstance(tree, int | float) and not isinstance(tree, bool) else []
