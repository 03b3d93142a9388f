"""The default embedding backend (float32 on ONNX Runtime) against torch: same answers, how much quicker.

Each backend gets its own ingest of the bundled corpus (so each catalog holds its own vectors),
then every question of six eval sets is answered by both, alternated (`bench.common.alternate`),
and the answers are compared whole: outcome and text. Query embedding and ingest-sized encodes are
timed the same way.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import alternate, compare, fresh_services, questions

SETS = ("dev", "extra", "holdout", "mixed", "unseen", "holdback")


def run(quick: bool) -> dict:
    asked = questions(SETS)[: 16 if quick else None]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        onnx = fresh_services(Path(tmp) / "onnx", embed_backend="onnx-fp32")
        onnx_ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        torch = fresh_services(Path(tmp) / "torch", embed_backend="torch")
        torch_ingest_s = time.perf_counter() - started
        answers: dict[str, list[tuple[str, str]]] = {"onnx": [], "torch": []}

        def answered(services: object, sink: list) -> object:
            return lambda q: sink.append((a := services.answers.answer(q, surface="bench")).outcome + a.answer)  # type: ignore[attr-defined]

        for q in asked[:5]:  # warm-up
            onnx.answers.answer(q, surface="bench"), torch.answers.answer(q, surface="bench")
        answer_onnx, answer_torch = alternate(answered(onnx, answers["onnx"]), answered(torch, answers["torch"]), asked)
        query_onnx, query_torch = alternate(lambda q: onnx.embedder.encode([q]), lambda q: torch.embedder.encode([q]), asked)
        texts = [meta.contextual_text for meta, _ in torch.catalog.chunk_metas()][: 32 if quick else 128]
        encode_onnx, encode_torch = alternate(lambda _: onnx.embedder.encode(texts), lambda _: torch.embedder.encode(texts), range(2 if quick else 4))
    return {
        "questions": len(asked),
        "identical_answers": sum(a == b for a, b in zip(answers["onnx"], answers["torch"], strict=True)),
        "answer_onnx_fp32_vs_torch": compare(answer_onnx, answer_torch),
        "query_embedding_onnx_fp32_vs_torch": compare(query_onnx, query_torch),
        f"encode_{len(texts)}_passages_onnx_fp32_vs_torch": compare(encode_onnx, encode_torch),
        "fresh_ingest_s": {"onnx_fp32": round(onnx_ingest_s, 1), "torch": round(torch_ingest_s, 1)},
    }
