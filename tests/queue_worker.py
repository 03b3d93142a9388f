"""`learnloop` in a process of its own for the queue tests, with the "stall-once" embedder registered.

Stall-once is the FakeEmbedder plus two things a test can watch from outside: it appends a line per
text it embeds to `embedded.log` (pid, text hash, whether the text holds STALL_MARK), and the
first process to meet STALL_MARK writes its pid to `stalled` and hangs there until it is killed.
Every later process meets the mark and goes on. Run as `python -m tests.queue_worker ARGS...`
with QUEUE_TEST_DIR naming the folder for those two files.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from index.records import Encoded
from ingest import register_embedder
from tests.conftest import FakeEmbedder

STALL_MARK = "zugzwang"


class StallOnce(FakeEmbedder):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def encode(self, texts: Sequence[str]) -> Encoded:
        lines = "".join(f"{os.getpid()} {hashlib.sha256(t.encode()).hexdigest()} {STALL_MARK in t}\n" for t in texts)
        with open(self.folder / "embedded.log", "a") as log:
            log.write(lines)
        if any(STALL_MARK in t for t in texts) and self._first_to_stall():
            threading.Event().wait()  # mid-file, until the test kills this process
        return super().encode(texts)

    def _first_to_stall(self) -> bool:
        try:
            os.close(os.open(self.folder / "stall.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # stays: one claim ever
        except FileExistsError:
            return False
        (self.folder / "stalled.tmp").write_text(str(os.getpid()))
        os.replace(self.folder / "stalled.tmp", self.folder / "stalled")  # the test never reads a half-written pid
        return True

if __name__ == "__main__":
    register_embedder("stall-once", lambda spec: StallOnce(Path(os.environ["QUEUE_TEST_DIR"])))
    from bot.cli.main import app

    app(sys.argv[1:], prog_name="learnloop")
