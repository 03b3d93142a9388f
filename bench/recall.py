"""Dense recall on real embeddings: what `bench scale`'s synthetic vectors cannot tell.

`bench scale` grows its catalog with vectors made of real ones plus noise, around a few hundred
points. Such clusters flatter an inverted-file index: there, one list in eight probed found
0.999 of the exact top ten. Here the passages are recombined from the corpus's sentences as in
`bench scale`, and each is embedded for real (with the int8 ONNX model, four times quicker than
torch and the same model); the dense index is built by the code a replica runs
(`VectorIndex.build`), and every eval question is searched at several probe shares, one list in
PROBE_SHARE being what a replica probes above 8 x MIN_PROBE lists (about 150,000 chunks).

`python -m bench recall --chunks N` (default 100,000; about a quarter of an hour to embed here).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from bench.common import fresh_services, questions
from bench.scale import SENTENCE, _recombined
from index.vectors import PROBE_SHARE, VectorIndex
from ingest.embed import load_embedder

DEFAULT_PASSAGES = 100_000
QUICK_PASSAGES = 12_000  # just above EXACT_BELOW: an inverted file, as at scale
SHARES = (16, PROBE_SHARE, 4, 2)  # one inverted list in this many probed
EVAL_SETS = ("dev", "extra", "holdout", "tune", "heldout", "blind", "fresh", "mixed", "unseen", "holdback")
BATCH = 128


def run(quick: bool, passages: int = DEFAULT_PASSAGES) -> dict:
    passages = QUICK_PASSAGES if quick and passages == DEFAULT_PASSAGES else passages
    with tempfile.TemporaryDirectory(prefix="bench-recall-") as tmp:
        services = fresh_services(Path(tmp))
        texts = [meta.text for meta in map(services.searcher.meta, services.catalog.chunk_id_array().tolist()) if meta]
        settings = services.settings
    sentences = [[s.strip() for s in SENTENCE.findall(text) if s.strip()] for text in texts]
    rng = np.random.default_rng(7)
    pairs = zip(rng.integers(len(texts), size=passages), rng.integers(len(texts), size=passages), strict=True)
    recombined = [_recombined(sentences[a], sentences[b], rng) for a, b in pairs]
    model = load_embedder(settings.embed_model, "onnx", settings.embed_cache)
    started = time.perf_counter()
    vectors = np.vstack([model.encode(recombined[i : i + BATCH]).vectors for i in range(0, passages, BATCH)]).astype(np.float32)
    embed_s = time.perf_counter() - started
    asked = np.vstack([model.encode([question]).vectors for question in questions(EVAL_SETS)]).astype(np.float32)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(asked, 10)
    index = VectorIndex.build(list(range(passages)), vectors)
    result: dict = {"chunks": passages, "questions": len(asked), "embed_s": round(embed_s, 1), "index": "exact" if index.exact else "ivf"}
    if index.exact:
        return result
    ivf = index._index
    result["lists"] = ivf.nlist
    probes = {"replica": ivf.nprobe, **{f"probe_1_in_{share}": max(1, ivf.nlist // share) for share in SHARES}}
    for label, count in probes.items():
        ivf.nprobe = count
        started = time.perf_counter()
        found = [[i for i, _ in index.search(query, 10)] for query in asked]
        result[label] = {
            "probes": count,
            "recall_at_10": round(float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth.tolist(), strict=True)])), 4),
            "ms_a_query": round((time.perf_counter() - started) * 1000 / len(asked), 3),
        }
    return result
