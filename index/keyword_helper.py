"""A first start's BM25 main tier, built in a helper process.

A replica starting on a catalog with no saved index files builds the vector index and the BM25
main tier (and writes its token file). The BM25 build reads every chunk's term ids and builds a
sparse matrix, about 5 s of one core at 200,000 chunks (it was 43.7 s while it tokenised every
chunk and counted in bm25s's Python loops); in a helper process it has a core of its own while
this process builds the vector index. The helper reads the catalog and saves the tier in the
index folder exactly as the replica would; the replica then loads it and applies what changed in
between. If the helper fails, nothing is saved and the replica builds the tier itself, as before.

The helper is `python -P -m index.build_keyword`, told what to build on its standard input (the
database URL may hold a password: never on a command line). Not multiprocessing: its spawn and
forkserver re-import the parent's main module, which runs again whatever a script without a
`__main__` guard does, and fork copies the locks of this process's threads in whatever state.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from index.catalog import Catalog

log = logging.getLogger(__name__)

HELPER_FROM = 20_000  # chunks: below this the helper's start (a new interpreter's imports) saves nothing
STOP_WAIT_S = 30.0
# The folder this process imported `index` from: the helper must run the same code, never an `index`
# package that happens to sit in its working directory (hence also -P).
PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


class KeywordHelper:
    """A started helper process building and saving the main tier for a set of chunk ids.

    Its standard input stays open while it works: it exits when that closes, so a replica that
    dies mid-start does not leave a helper building on. It ends on SIGTERM through its finally
    blocks, so a save under way removes its staging folder."""

    def __init__(self, catalog: Catalog, folder: Path, ids: np.ndarray) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._ids = tempfile.NamedTemporaryFile(dir=folder, prefix=".helper-ids-", suffix=".npy", delete=False)  # noqa: SIM115 - the helper removes it once read
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed in wait(); a pipe could fill and stall it
        try:
            np.save(self._ids, ids)
            self._ids.close()
            job = {"url": catalog.engine.url.render_as_string(hide_password=False), "folder": str(folder), "ids": self._ids.name}
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))}
            command = [sys.executable, "-P", "-m", "index.build_keyword"]
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._errors, env=env)
        except BaseException:
            self._errors.close()
            Path(self._ids.name).unlink(missing_ok=True)
            raise
        try:
            self._process.stdin.write((json.dumps(job) + "\n").encode())  # type: ignore[union-attr] - stdin=PIPE
            self._process.stdin.flush()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # it has already ended: wait() says how

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for it; whether it saved the tier (a failure is logged: the caller then builds it)."""
        try:
            self._process.wait(timeout)
            self._errors.seek(0)
            errors = self._errors.read().decode(errors="replace")
        finally:
            if self._process.returncode is not None:
                self._close()
        if self._process.returncode != 0:
            lines = [line for line in errors.strip().splitlines() if not line.startswith("(Background on this error")]
            log.warning("The BM25 index was not built in a helper process (exit code %s: %s).", self._process.returncode, lines[-1] if lines else "no message")
        return self._process.returncode == 0

    def stop(self) -> None:
        """End it (the start it served has failed): SIGTERM first, so it cleans up; SIGKILL if it will not."""
        self._process.terminate()
        try:
            self.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self.wait()

    def _close(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self._process.stdin.close()  # type: ignore[union-attr]
        self._errors.close()
        Path(self._ids.name).unlink(missing_ok=True)


def start_keyword_helper(catalog: Catalog, folder: Path, ids: np.ndarray) -> KeywordHelper | None:
    """A helper building the main tier for `ids` into `folder`; None when the catalog is too small
    to need one, there is no second core for it, or it cannot be started (the caller builds the tier)."""
    if len(ids) < HELPER_FROM or len(os.sched_getaffinity(0)) < 2:
        return None
    try:
        return KeywordHelper(catalog, folder, ids)
    except OSError as error:
        log.warning("No helper process for the BM25 index (%s): building it in this one.", error.strerror or error)
        return None
