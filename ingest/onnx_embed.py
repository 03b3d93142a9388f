"""The embedding model on ONNX Runtime: float32, or its weights quantised to int8.

ONNX Runtime's fused attention and layer norms spare torch's per-operator overhead, which dominates
a short query: in float32 an answer takes 0.8x torch's time in process (`python -m bench backends`),
with the same vectors (cosine 1.000000 to torch's on 253 eval questions, pooled and token vectors
alike) and the same answers, so a float32 graph shares torch's embedding space and serves a catalog
torch embedded. On a CPU with VNNI, int8 matrix products are cheaper still, but int8 moves the
vectors (its own space, README).
The graph is exported from the installed sentence-transformers folder (no download): once, at
install time by `python -m ingest.onnx_embed` (the Makefile does), or else on first use; a file
lock keeps concurrent processes from exporting twice, and the export lands by an atomic rename.
The graph outputs the token embeddings, so late interaction gets its token vectors from the
same pass as the pooled vector.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
from filelock import FileLock

from index.records import Encoded
from ingest.embed import BatchedEmbedder, content_token_vectors, weights_digest

if TYPE_CHECKING:
    import onnxruntime

EXPORT_RECIPE = 1  # bump when `_export` changes, so an older export is never reused
Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
WIDE_FROM = 16  # texts in one call from which every core works on it (an ingest step, not a few queries)
# Threads an ingest-sized call may use: 0 is ONNX Runtime's default (one a physical core); `serve`
# sets its own (bot.serving), process-wide as torch.set_num_threads is.
_wide_threads = 0


def limit_embedding_threads(threads: int) -> None:
    """Every later ingest-sized call gets `threads` threads; with one, it runs on the query session,
    and no second session (another copy of the weights) is ever opened."""
    global _wide_threads
    _wide_threads = threads


def export_path(model_dir: Path, cache: Path, precision: Precision) -> Path:
    """Where this model's export lives: named by its weights' digest, the recipe, ONNX Runtime's
    version and the precision, so a changed model or runtime gets a fresh export."""
    import onnxruntime

    return cache / f"{weights_digest(model_dir)}-r{EXPORT_RECIPE}-ort{onnxruntime.__version__}-{precision}.onnx"


def ensure_exported(model_dir: Path, cache: Path, precision: Precision) -> Path:
    """The model's ONNX graph in `precision`, exported first if no process has done so yet."""
    target = export_path(model_dir, cache, precision)
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(cache / ".export.lock"):
        if not target.exists():
            with tempfile.TemporaryDirectory(dir=cache) as work:
                os.replace(_export(model_dir, Path(work), precision), target)
    return target


def _export(model_dir: Path, work: Path, precision: Precision) -> Path:
    """Trace the transformer to ONNX, fuse its attention and layer norms, and for int8 quantise the weights."""
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel

    class TokenEmbeddings(torch.nn.Module):
        """The transformer with its last hidden state as the one output."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    config = json.loads((model_dir / "config.json").read_text())
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", local_files_only=True).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = torch.ones((2, 8), dtype=torch.long)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TokenEmbeddings(model), (sample, sample, torch.zeros_like(sample)), str(work / "traced.onnx"), dynamo=False,
            input_names=names, output_names=["token_embeddings"], opset_version=17,
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "token_embeddings"]},
        )
    fused = optimize_model(str(work / "traced.onnx"), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"])
    fused.save_model_to_file(str(work / "fused.onnx"))
    if precision == "fp32":
        return work / "fused.onnx"
    quantize_dynamic(
        work / "fused.onnx", work / "int8.onnx", weight_type=QuantType.QInt8, per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # the fused operators have no inferred output types
    )
    return work / "int8.onnx"


class OnnxEmbedder(BatchedEmbedder):
    """A sentence-transformers folder (mean pooling) run as an ONNX graph by ONNX Runtime."""

    def __init__(self, model_dir: Path, cache: Path, precision: Precision, batch_size: int = 32) -> None:
        """`batch_size` bounds how many waiting texts one turn of the encoding thread takes."""
        from tokenizers import Tokenizer

        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            from index.errors import LearnloopError

            raise LearnloopError(f"The ONNX backend needs a mean-pooling model; {model_dir} pools otherwise: use LEARNLOOP_EMBED_BACKEND=torch.")
        self.name = f"{model_dir}+onnx-{precision}"
        self.batch_size = batch_size
        max_tokens = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)
        self._special = frozenset(token.content for token in self._tokenizer.get_added_tokens_decoder().values() if token.special)
        self._graph = ensure_exported(model_dir, cache, precision)
        self._narrow = self._open(threads=1)
        self._wide: onnxruntime.InferenceSession | None = None
        self._inputs = {node.name for node in self._narrow.get_inputs()}
        self.dim = int(self._narrow.get_outputs()[0].shape[-1])
        # float32 gives torch's vectors (module docstring), so it is torch's space
        self._space = f"{weights_digest(model_dir)}+{'torch' if precision == 'fp32' else 'onnx-int8'}"
        self._start()

    @property
    def space(self) -> str:
        return self._space

    def _open(self, threads: int) -> onnxruntime.InferenceSession:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle workers must not spin against the web threads and BLAS
        return onnxruntime.InferenceSession(str(self._graph), options, providers=["CPUExecutionProvider"])

    def _session(self, texts: int) -> onnxruntime.InferenceSession:
        """One thread for a few queries, as while serving: a second thread on a busy two-core machine
        took a query from 2.8 ms to 4.2 ms. Every core for an ingest-sized call (about 2x the
        passages a second); that session is opened on the first such call."""
        if texts < WIDE_FROM or _wide_threads == 1:
            return self._narrow
        if self._wide is None:
            self._wide = self._open(threads=_wide_threads)
        return self._wide

    def _run(self, texts: list[str], tokens: bool) -> Encoded:
        """One text per run. Dynamic quantisation scales a run's activations as a whole, so in a batch
        a text's vector would move with its company (cosine 0.99 to itself alone): alone, a text
        always gets the same vector. Unpadded runs are also quicker than padded batches here, in
        either precision."""
        session = self._session(len(texts))
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        token_vectors: list[np.ndarray] = []
        for row, encoding in enumerate(self._tokenizer.encode_batch(texts)):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {name: value for name, value in feed.items() if name in self._inputs})[0][0]
            pooled = hidden.mean(axis=0)
            vectors[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
            if tokens:
                token_vectors.append(content_token_vectors(encoding.tokens, hidden, self._special))
        return Encoded(vectors, token_vectors)


def main() -> None:
    """Export the bundled model's graphs (float32 and int8) at install time, so no process pays for it later."""
    parser = argparse.ArgumentParser(prog="python -m ingest.onnx_embed", description=main.__doc__)
    parser.add_argument("cache", type=Path, help="the export folder (LEARNLOOP_EMBED_CACHE)")
    from ingest.embed import bundled_model_path

    cache = parser.parse_args().cache
    for precision in PRECISIONS:
        print(ensure_exported(bundled_model_path(), cache, precision))


if __name__ == "__main__":
    main()
