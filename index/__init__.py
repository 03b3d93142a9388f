"""The catalog (SQLModel over SQLite or PostgreSQL) and hybrid search over it.

What other packages may use is listed in `__all__`; the modules behind it are private.
"""

from index.catalog import Catalog
from index.db import make_engine
from index.errors import AnswerError, IngestError, InputRejected, LearnloopError, SearchError
from index.records import ChunkDraft, ChunkMeta, DocumentDraft, Hit, PassageRef, SearchFilters
from index.search import MODES as RETRIEVAL_MODES
from index.search import QueryEncoder, Searcher

__all__ = [
    "AnswerError",
    "Catalog",
    "ChunkDraft",
    "ChunkMeta",
    "DocumentDraft",
    "Hit",
    "IngestError",
    "InputRejected",
    "LearnloopError",
    "PassageRef",
    "QueryEncoder",
    "RETRIEVAL_MODES",
    "SearchError",
    "Searcher",
    "SearchFilters",
    "make_engine",
]
