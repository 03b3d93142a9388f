"""Index files are written whole or not at all.

A save goes to a temporary file beside the target, is flushed to disk (fsync), and only then is
renamed over the target (os.replace, atomic on one file system). A crash or a full disk part way
through leaves the old file exactly as it was, and the temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

Sink = Callable[[bytes], None]


def write_atomically(path: Path, produce: Callable[[Sink], None]) -> None:
    """Replace `path` with the bytes `produce` passes to its sink, or leave it untouched on any error.

    `produce` streams (FAISS writes an index piece by piece), so a large index never needs a
    second copy in memory.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        produce(lambda data: _write_all(fd, data))
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(temporary)
        raise
    os.close(fd)
    os.replace(temporary, path)
    fsync_folder(path.parent)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    write_atomically(path, lambda sink: sink(data))


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is down (it may write fewer); raises OSError (ENOSPC) when the disk is full."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_folder(folder: Path) -> None:
    """Make the rename itself durable: a crash right after it must not bring the old name back."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def index_files_lock(folder: Path) -> FileLock:
    """One process at a time changes the index files of a folder (a server and `learnloop ingest`
    may share it): taken around saves that replace or extend them, never around reads."""
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(folder / ".lock")


def fsync_folder_files(folder: Path) -> None:
    """Flush every file a library wrote into `folder`, then the folder, before anything names it."""
    for path in folder.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_folder(folder)
