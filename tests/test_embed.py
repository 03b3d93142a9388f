"""Embedders: micro-batching shares the encoding thread among concurrent callers; the setting picks
the backend; the ONNX int8 backend gives the torch model's vectors, pooled and per token."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.services import build_services
from bot.settings import Settings
from index.errors import LearnloopError
from index.records import Encoded
from ingest import Embedder, load_embedder, onnx_embed
from ingest.embed import BACKENDS, BatchedEmbedder, native_bf16
from tests.conftest import FIXTURES, REPO, FakeEmbedder

DEADLINE_S = 10


def wait_until(condition: Callable[[], bool]) -> None:
    """Wait for `condition`, checking every few milliseconds, failing after DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        threading.Event().wait(0.002)


def text_vector(text: str, dim: int = 8) -> np.ndarray:
    """A vector that names its text: a caller handed another caller's row would see it."""
    vector = np.zeros(dim, dtype=np.float32)
    vector[int(hashlib.md5(text.encode()).hexdigest(), 16) % dim] = 1.0
    return vector


class GatedEmbedder(BatchedEmbedder):
    """Records every call the batching thread makes; the first call waits for `release`, so the jobs
    of other callers queue up behind it. A text "boom" makes its whole call fail."""

    name = "gated"
    dim = 8

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self.calls: list[tuple[list[str], bool]] = []
        self.first_call = threading.Event()
        self.release = threading.Event()
        self._start()

    def _run(self, texts: list[str], tokens: bool) -> Encoded:
        self.calls.append((texts, tokens))
        self.first_call.set()
        assert self.release.wait(DEADLINE_S)
        if "boom" in texts:
            raise ValueError("cannot encode boom")
        vectors = np.vstack([text_vector(text) for text in texts])
        return Encoded(vectors, [np.vstack([text_vector(word) for word in text.split()]) for text in texts] if tokens else [])


def in_threads(work: list[Callable[[], object]]) -> tuple[list[threading.Thread], dict[int, object]]:
    """Start each piece of work on its own thread; results (or the exception raised) by position."""
    results: dict[int, object] = {}

    def run(position: int, fn: Callable[[], object]) -> None:
        try:
            results[position] = fn()
        except Exception as error:  # the test inspects what each caller got
            results[position] = error

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(work)]
    for thread in threads:
        thread.start()
    return threads, results


def test_concurrent_callers_share_one_call_and_each_gets_its_own_rows() -> None:
    embedder = GatedEmbedder()
    first, first_result = in_threads([lambda: embedder.encode(["alpha one"])])
    assert embedder.first_call.wait(DEADLINE_S)
    asks = {i: [f"text {i} a", f"text {i} b"][: 1 + i % 2] for i in range(7)}
    wants_tokens = {i: i % 3 != 0 for i in asks}
    threads, results = in_threads(
        [(lambda i=i: embedder.encode(asks[i]) if wants_tokens[i] else embedder.embed_batch(asks[i])) for i in asks]
    )
    wait_until(lambda: embedder._batcher._queue.qsize() == len(asks))
    embedder.release.set()
    for thread in [*first, *threads]:
        thread.join(DEADLINE_S)

    assert len(embedder.calls) == 2, "the seven waiting callers go into one call"
    assert sorted(embedder.calls[1][0]) == sorted(text for texts in asks.values() for text in texts)
    assert embedder.calls[1][1] is True
    assert np.array_equal(first_result[0].vectors, text_vector("alpha one")[None])
    for i, texts in asks.items():
        got = results[i]
        vectors = got.vectors if wants_tokens[i] else got
        assert np.array_equal(vectors, np.vstack([text_vector(text) for text in texts]))
        if wants_tokens[i]:
            assert [len(tokens) for tokens in got.tokens] == [len(text.split()) for text in texts]
            assert np.array_equal(got.tokens[-1][-1], text_vector(texts[-1].split()[-1]))


def test_a_call_takes_waiting_jobs_only_up_to_the_batch_size_and_asks_tokens_only_when_wanted() -> None:
    embedder = GatedEmbedder(batch_size=4)
    first, _ = in_threads([lambda: embedder.embed_batch(["x"])])
    assert embedder.first_call.wait(DEADLINE_S)
    threads, results = in_threads([(lambda i=i: embedder.embed_batch([f"q{i}", f"r{i}"])) for i in range(4)])
    wait_until(lambda: embedder._batcher._queue.qsize() == 4)
    embedder.release.set()
    for thread in [*first, *threads]:
        thread.join(DEADLINE_S)
    assert [len(texts) for texts, _ in embedder.calls] == [1, 4, 4]
    assert all(tokens is False for _, tokens in embedder.calls)
    assert all(results[i].shape == (2, 8) for i in range(4))


def test_a_failed_call_fails_its_callers_and_the_thread_serves_on() -> None:
    embedder = GatedEmbedder()
    first, first_result = in_threads([lambda: embedder.embed_batch(["boom"])])
    assert embedder.first_call.wait(DEADLINE_S)
    embedder.release.set()
    first[0].join(DEADLINE_S)
    assert isinstance(first_result[0], ValueError)
    assert np.array_equal(embedder.embed_batch(["after"]), text_vector("after")[None])
    assert embedder.encode([]).vectors.shape == (0, 8)


def test_the_setting_chooses_the_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: list[tuple[str, Path, Path | None]] = []

    def factory(backend: str) -> Callable[[Path, Path | None], Embedder]:
        def make(model_dir: Path, cache: Path | None) -> Embedder:
            made.append((backend, model_dir, cache))
            return FakeEmbedder()

        return make

    monkeypatch.setattr("ingest.embed.BACKENDS", {"torch": factory("torch"), "onnx": factory("onnx")})
    monkeypatch.setenv("LEARNLOOP_EMBED_BACKEND", "onnx")
    monkeypatch.setenv("LEARNLOOP_EMBED_CACHE", str(tmp_path / "exports"))
    settings = Settings(home=tmp_path / "var", corpus=tmp_path / "corpus")
    build_services(settings)
    build_services(settings.model_copy(update={"embed_backend": "torch", "embed_model": str(tmp_path)}))
    assert [(backend, cache) for backend, _, cache in made] == [("onnx", tmp_path / "exports"), ("torch", tmp_path / "exports")]
    assert made[0][1].name == "model" and made[1][1] == tmp_path


def test_an_unknown_backend_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEARNLOOP_EMBED_BACKEND", "tensorflow")
    with pytest.raises(ValueError, match="embed_backend"):
        Settings()
    with pytest.raises(LearnloopError, match="Unknown embedding backend 'tensorflow'"):
        load_embedder("all-MiniLM-L6-v2", "tensorflow")
    assert set(BACKENDS) == {"torch", "torch-bf16", "onnx-fp32", "onnx"}


def corpus_texts() -> list[str]:
    """Passages from every bundled report, and the dev questions: long and short texts alike."""
    paragraphs = [
        part.strip() for path in sorted((REPO / "corpus" / "reports").glob("*.*")) if path.suffix in (".md", ".txt")
        for part in path.read_text().split("\n\n") if len(part.split()) >= 25
    ]
    questions = [json.loads(line)["question"] for line in (FIXTURES / "eval" / "dev.jsonl").read_text().splitlines() if line.strip()]
    return paragraphs[::6][:60] + questions



def assert_torchs_vectors(embedder: Embedder, torch_embedder: Embedder, pooled: float, tokens: float) -> tuple[Encoded, Encoded]:
    """`embedder` gives torch's pooled and token vectors on corpus texts, to at least these cosines,
    and so shares torch's embedding space. Both encodings, the embedder's first."""
    texts = corpus_texts()
    ours, theirs = embedder.encode(texts), torch_embedder.encode(texts)
    cosines = (ours.vectors * theirs.vectors).sum(axis=1)
    assert cosines.min() >= pooled, cosines.min()
    for mine, torchs in zip(ours.tokens, theirs.tokens, strict=True):
        assert mine.shape == torchs.shape and (mine * torchs).sum(axis=1).min() >= tokens
    assert embedder.space == torch_embedder.space
    return ours, theirs

@pytest.mark.slow
def test_onnx_int8_vectors_match_torch_on_corpus_texts(real_embedder: Embedder) -> None:
    onnx = load_embedder("all-MiniLM-L6-v2", "onnx", Settings().embed_cache)
    texts = corpus_texts()
    torch_encoded, onnx_encoded = real_embedder.encode(texts), onnx.encode(texts)

    cosines = (torch_encoded.vectors * onnx_encoded.vectors).sum(axis=1)
    assert onnx_encoded.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx_encoded.vectors, axis=1), 1, atol=1e-5)
    assert cosines.min() >= 0.97 and cosines.mean() >= 0.99, (cosines.min(), cosines.mean())
    assert np.array_equal(onnx.embed_batch(texts[2:5]), onnx_encoded.vectors[2:5]), "a text's vector never depends on its company"
    for ours, theirs in zip(onnx_encoded.tokens, torch_encoded.tokens, strict=True):
        assert ours.shape == theirs.shape
        assert (ours * theirs).sum(axis=1).mean() >= 0.95


@pytest.mark.slow
def test_onnx_fp32_gives_torchs_vectors_and_shares_its_space(real_embedder: Embedder) -> None:
    """Float32 on ONNX Runtime is torch's arithmetic with fused operators: the same pooled and token
    vectors (to float rounding), so it may serve a catalog torch embedded, and the int8 graph may not."""
    fp32 = load_embedder("all-MiniLM-L6-v2", "onnx-fp32", Settings().embed_cache)
    assert_torchs_vectors(fp32, real_embedder, pooled=0.99999, tokens=0.9999)
    assert load_embedder("all-MiniLM-L6-v2", "onnx", Settings().embed_cache).space != real_embedder.space


@pytest.mark.slow
def test_a_served_process_embeds_large_calls_on_its_one_query_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` gives each embedding one thread (bot.serving): a gap re-check's 32 questions then run on
    the query session, and no second session (another copy of the weights, about 90 MB) is opened."""
    texts = corpus_texts()[: onnx_embed.WIDE_FROM + 4]
    wide = load_embedder("all-MiniLM-L6-v2", "onnx-fp32", Settings().embed_cache)
    expected = wide.encode(texts)
    assert wide._wide is not None

    monkeypatch.setattr(onnx_embed, "_wide_threads", onnx_embed._wide_threads)  # restored after the test
    onnx_embed.limit_embedding_threads(1)
    served = load_embedder("all-MiniLM-L6-v2", "onnx-fp32", Settings().embed_cache)
    encoded = served.encode(texts)
    assert served._wide is None
    assert np.allclose(encoded.vectors, expected.vectors, atol=1e-5)


@pytest.mark.slow
def test_torch_bf16_gives_torchs_vectors_to_bfloat16_precision_and_shares_its_space(real_embedder: Embedder) -> None:
    """bfloat16 keeps float32's range and accumulates in float32: its vectors are torch's to a cosine
    of 0.9999 or better, so ingest workers may run it for a catalog float32 replicas serve."""
    bf16 = load_embedder("all-MiniLM-L6-v2", "torch-bf16")
    bf16_encoded, torch_encoded = assert_torchs_vectors(bf16, real_embedder, pooled=0.9999, tokens=0.999)
    assert not np.array_equal(bf16_encoded.vectors, torch_encoded.vectors) or not native_bf16(), "bfloat16 ran where the CPU has it"


@pytest.mark.slow
def test_torch_bf16_embeds_in_float32_and_says_so_where_the_cpu_lacks_bfloat16(
    real_embedder: Embedder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("ingest.embed.native_bf16", lambda: False)
    with caplog.at_level("WARNING", logger="ingest.embed"):
        fallback = load_embedder("all-MiniLM-L6-v2", "torch-bf16")
    assert "no native bfloat16" in caplog.text
    texts = corpus_texts()[:8]
    assert np.array_equal(fallback.embed_batch(texts), real_embedder.embed_batch(texts))
