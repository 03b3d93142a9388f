"""Ingestion: load files, clean them, chunk them by section and page, embed them, store them.

What other packages may use is listed in `__all__`.
"""

from ingest.chunk import ChunkSizes, chunk_blocks
from ingest.embed import DEFAULT_MODEL, Embedder, encodings_of, load_embedder, register_embedder
from ingest.pipeline import REFLECTION_SOURCE_PREFIX, IngestPipeline, IngestReport

__all__ = [
    "DEFAULT_MODEL",
    "REFLECTION_SOURCE_PREFIX",
    "ChunkSizes",
    "Embedder",
    "IngestPipeline",
    "IngestReport",
    "chunk_blocks",
    "encodings_of",
    "load_embedder",
    "register_embedder",
]
