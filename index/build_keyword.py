"""The helper process of index.keyword_helper: build a BM25 main tier from the catalog and save it.

Run as `python -m index.build_keyword` with {"url", "folder", "ids"} (a .npy of sorted chunk ids)
as JSON on standard input. A failure exits non-zero with its traceback on standard error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from index.catalog import Catalog
from index.db import make_engine
from index.keyword import KeywordIndex


def build_keyword_tier(url: str, folder: Path, ids: np.ndarray) -> None:
    """Build the main tier over the stored chunks among `ids` and save it in `folder`, as a replica's start would."""
    engine = make_engine(url)
    try:
        catalog = Catalog(engine)
        KeywordIndex(catalog.contextual_texts, catalog.chunk_id_array, folder, background=False, database=catalog.database).start(ids)
    finally:
        engine.dispose()


if __name__ == "__main__":
    job = json.loads(sys.stdin.read())
    build_keyword_tier(job["url"], Path(job["folder"]), np.load(job["ids"]))
