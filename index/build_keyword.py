"""The helper process of index.keyword_helper: build a BM25 main tier from the catalog and save it.

Run as `python -P -m index.build_keyword` with one line of JSON on standard input: {"url", "folder",
"ids"} (a .npy of sorted chunk ids, removed once read). Standard input then stays open: when it
closes (the replica ended or died) the helper ends too. SIGTERM ends it through its finally
blocks. A failure exits non-zero with its traceback on standard error.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
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
        index = KeywordIndex(catalog.term_ids, catalog.chunk_id_array, folder, background=False, database=catalog.database)
        if not index.has_saved():  # another process saved one meanwhile: the replica loads that
            index.start(ids)
    finally:
        engine.dispose()


def _end_with_the_replica() -> None:
    """Read standard input to its end, which comes when the replica closes it or dies; then end.
    From the descriptor: a daemon thread blocked in sys.stdin's buffered reader holds its lock, and
    the interpreter aborts when it exits while that lock is held."""
    while os.read(sys.stdin.fileno(), 65536):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def _raise_exit(*_: object) -> None:
    sys.exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _raise_exit)  # through the finally blocks: a save under way removes its staging folder
    job = json.loads(sys.stdin.buffer.readline())
    ids = np.load(job["ids"])
    Path(job["ids"]).unlink(missing_ok=True)
    threading.Thread(target=_end_with_the_replica, name="end-with-the-replica", daemon=True).start()
    build_keyword_tier(job["url"], Path(job["folder"]), ids)
