"""A first start's BM25 main tier, built in a helper process.

A replica starting on a catalog with no saved index files builds three things: the vector index,
the token file and the BM25 main tier. The BM25 build is bound to Python (tokenising every chunk,
then bm25s's counting): in a thread it shares one core with the other two (at 200,000 chunks a
first start went from 73.6 s to 65.4 s), in a helper process it has a core of its own while this
process reads vectors and token vectors. The helper reads the catalog and saves the tier in the
index folder exactly as the replica would; the replica then loads it and applies what changed in
between. If the helper fails, nothing is saved and the replica builds the tier itself, as before.

The helper is `python -m index.build_keyword`, told what to build on its standard input (the
database URL may hold a password: never on a command line). Not multiprocessing: its spawn and
forkserver re-import the parent's main module, which runs again whatever a script without a
`__main__` guard does, and fork copies the locks of this process's threads in whatever state.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from index.catalog import Catalog

log = logging.getLogger(__name__)

HELPER_FROM = 20_000  # chunks: below this the helper's start (a new interpreter's imports) saves nothing


class KeywordHelper:
    """A started helper process building and saving the main tier for a set of chunk ids."""

    def __init__(self, catalog: Catalog, folder: Path, ids: np.ndarray) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._ids = tempfile.NamedTemporaryFile(dir=folder, prefix=".helper-ids-", suffix=".npy", delete=False)  # noqa: SIM115 - removed in wait()
        np.save(self._ids, ids)
        self._ids.close()
        job = {"url": catalog.engine.url.render_as_string(hide_password=False), "folder": str(folder), "ids": self._ids.name}
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed in wait(); a pipe could fill and stall it
        self._process = subprocess.Popen([sys.executable, "-m", "index.build_keyword"], stdin=subprocess.PIPE, stderr=self._errors)
        with self._process.stdin:  # type: ignore[union-attr] - stdin=PIPE
            self._process.stdin.write(json.dumps(job).encode())  # type: ignore[union-attr]

    def wait(self) -> bool:
        """Wait for it; whether it saved the tier (a failure is logged: the caller then builds it)."""
        try:
            self._process.wait()
            self._errors.seek(0)
            errors = self._errors.read()
        finally:
            self._errors.close()
            Path(self._ids.name).unlink(missing_ok=True)
        if self._process.returncode != 0:
            last = errors.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            log.warning("The BM25 index was not built in a helper process (exit code %s: %s): building it in this one.", self._process.returncode, last[0])
        return self._process.returncode == 0

    def stop(self) -> None:
        """End it at once (the start it served has failed)."""
        self._process.kill()
        self.wait()


def start_keyword_helper(catalog: Catalog, folder: Path, ids: np.ndarray) -> KeywordHelper | None:
    """A helper building the main tier for `ids` into `folder`, or None when the catalog is too small to need one."""
    return KeywordHelper(catalog, folder, ids) if len(ids) >= HELPER_FROM else None
