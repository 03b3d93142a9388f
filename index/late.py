"""Late interaction: MaxSim over the embedding model's contextual token vectors (as in ColBERT).

One pooled vector per passage blurs a 150-word passage into its gist, so a question about one
line of it ("what does the Human bit of HLS mean?") can miss. Scoring each query token against
its best-matching passage token keeps that line visible. The token vectors come from the same
forward pass as the pooled vector, so ingest pays nothing extra for them; they rerank the best
dense and keyword candidates as a third list for fusion (README, Retrieval quality).

Each token vector is stored as 4-bit codes (-7..7, two to a byte) with one float scale per token:
an eighth of float32, about 90 tokens and 18 KB a chunk. int8 scored the eval sets exactly as
float32 did; 4 bits moved the older sets' pooled hybrid MRR@10 from 0.854 to 0.846, left the
answers citing gold evidence as they were (README, Scale), and halved what a million chunks keep
on disk twice (catalog and token file). Product codes (96 bytes a token) and a rotation before
4 bits scored worse, and product codes would need a codebook every process shares; these codes
need nothing but the vector. Token vectors are the bulk of a replica's
memory when kept in it, so a serving process keeps them in a file, memory-mapped, and reads only a
query's candidates. Projecting them to fewer dimensions was tried and left out: 128 dimensions
(PCA of the corpus's tokens) cost dev 0.03 of hybrid MRR@10 and one gold answer.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from index.atomic import fsync_folder, write_atomically, write_bytes_atomically
from index.table import positions_in

_SCALE = np.dtype("<f4")
# (chunk id, packed token vectors) of those of the sorted chunk ids given that have them: the catalog's.
BlobReader = Callable[[np.ndarray], Iterable[tuple[int, bytes]]]
# The stored format, named in the token file's stamp: a file written in another is written again.
# The catalog's blobs are converted by migration c0005 (int8 before it).
TOKEN_FORMAT = "int4"
_LEVELS = 7  # codes -7..7, stored as 1..15 in a nibble

# A MaxSim is a few million multiply-adds, done in about a millisecond on one thread. OpenBLAS's
# second thread kept spinning after each one and fought torch for the two cores, which slowed
# the next query embedding: an answer took 28 ms with it, 19 ms without (bench/slack.py).
threadpool_limits(limits=1, user_api="blas")


def pack_tokens(vectors: np.ndarray) -> bytes:
    """(tokens, dim) float vectors as bytes: per-token float32 scales, then the 4-bit codes."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.size == 0:
        return b""
    scales = np.abs(matrix).max(axis=1) / _LEVELS
    scales[scales == 0] = 1.0
    codes = np.clip(np.rint(matrix / scales[:, None]), -_LEVELS, _LEVELS).astype(np.int8)
    return pack_codes(codes, scales)


def pack_codes(codes: np.ndarray, scales: np.ndarray) -> bytes:
    """The bytes `unpack_tokens` read (codes, scales) from. A token's first half of dimensions goes in
    the high nibbles and its second half in the low ones, so unpacking is two whole-array operations
    (7 us a chunk; interleaved pairs took 270 us through a lookup table). An odd dimension gets a zero
    code to fill its last byte."""
    stored = np.asarray(codes, dtype=np.int16) + (_LEVELS + 1)
    if stored.shape[1] % 2:
        stored = np.pad(stored, ((0, 0), (0, 1)), constant_values=_LEVELS + 1)
    half = stored.shape[1] // 2
    nibbles = (stored[:, :half] << 4) | stored[:, half:]
    return scales.astype(_SCALE).tobytes() + nibbles.astype(np.uint8).tobytes()


def unpack_tokens(blob: bytes | memoryview, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The (int8 codes, scales) that `pack_tokens` wrote; empty arrays for an empty blob."""
    width = (dim + 1) // 2
    count = len(blob) // (width + _SCALE.itemsize)
    if count * (width + _SCALE.itemsize) != len(blob):
        raise ValueError(f"a token blob of {len(blob)} bytes does not hold {dim}-dimensional vectors")
    scales = np.frombuffer(blob, dtype=_SCALE, count=count)
    packed = np.frombuffer(blob, dtype=np.uint8, offset=count * _SCALE.itemsize).reshape(count, width)
    codes = np.concatenate([packed >> 4, packed & 15], axis=1).view(np.int8) - np.int8(_LEVELS + 1)
    return codes[:, :dim], scales


class TokenFile:
    """Packed token blobs of many chunks, one after another in a file read through a memory map.

    The file holds the catalog's blobs as they are; beside it, in memory and in a .index file, only
    the sorted chunk ids and their byte offsets (16 bytes a chunk). A stamp file, written last,
    says how many chunks the index describes, so a restart maps the files instead of reading the
    catalog and appends only the chunks added since (`extend`); files that do not agree with their
    stamp are written again.
    """

    def __init__(self, path: Path | None, dim: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        self.path = path
        self.dim = dim
        self._ids = ids
        self._offsets = offsets
        self._data = np.memmap(path, dtype=np.uint8, mode="r") if path is not None and offsets[-1] else np.empty(0, np.uint8)
        # the mapped file itself, not whatever a later start renames over its name (`erase`, `prefetch`)
        self._fd = os.open(path, os.O_RDWR) if path is not None else None

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> np.ndarray:
        return self._ids

    def get(self, chunk_id: int) -> tuple[np.ndarray, np.ndarray] | None:
        at = int(np.searchsorted(self._ids, chunk_id))
        if at == len(self._ids) or self._ids[at] != chunk_id:
            return None
        return unpack_tokens(memoryview(self._data[self._offsets[at] : self._offsets[at + 1]]), self.dim)

    def prefetch(self, chunk_ids: list[int]) -> None:
        """Ask the kernel to read these chunks' token vectors, all at once, before they are used.

        At a million chunks the file (18 GB) and the catalog do not both fit in the page cache, so a
        query's candidates are read from disk; touched through the map one after another, each
        waits for the last. Asked for together, the reads overlap: ranking 60 candidates from a
        cold 5 GB file took a median of 9 ms instead of 30 ms, and 10 ms instead of 170 at the 90th
        percentile (README, Scale)."""
        if self._fd is None or not hasattr(os, "posix_fadvise") or not chunk_ids:
            return
        for start, end in self._spans(chunk_ids):
            os.posix_fadvise(self._fd, start, end - start, os.POSIX_FADV_WILLNEED)

    def erase(self, chunk_ids: list[int]) -> None:
        """Overwrite removed chunks' token vectors with zeros on disk: an erased reflection must not
        stay in the file until the next start."""
        if self._fd is None:
            return
        spans = self._spans(chunk_ids)
        for start, end in spans:
            os.pwrite(self._fd, bytes(end - start), start)
        if spans:
            os.fsync(self._fd)

    def _spans(self, chunk_ids: list[int]) -> list[tuple[int, int]]:
        """(start, end) byte offsets of those chunks the file holds."""
        at = positions_in(self._ids, chunk_ids)
        return list(zip(self._offsets[at].tolist(), self._offsets[at + 1].tolist(), strict=True))

    @classmethod
    def write(cls, path: Path | None, dim: int, blobs: Iterable[tuple[int, bytes]], revision: int) -> TokenFile:
        """Write (chunk id, blob) pairs in ascending id order, atomically, and map the result.

        With no `path` the file is an anonymous temporary one (gone when the process ends).
        """
        ids: list[int] = []
        offsets = [0]

        def produce(sink: object) -> None:
            for chunk_id, blob in blobs:
                if blob:
                    sink(blob)
                    ids.append(chunk_id)
                    offsets.append(offsets[-1] + len(blob))

        if path is None:
            fd, name = tempfile.mkstemp(prefix="learnloop-tokens-")
            os.close(fd)
            path = Path(name)
            write_atomically(path, produce)
            mapped = cls(path, dim, np.array(ids, dtype=np.int64), np.array(offsets, dtype=np.int64))
            path.unlink()  # the map keeps the data; nothing is left behind
            os.close(mapped._fd)
            mapped.path, mapped._fd = None, None
            return mapped
        _stamp_path(path).unlink(missing_ok=True)  # no stamp may vouch for an index over other data
        write_atomically(path, produce)
        _write_index(path, dim, ids, offsets, revision)
        return cls(path, dim, np.array(ids, dtype=np.int64), np.array(offsets, dtype=np.int64))

    def extend(self, blobs: Iterable[tuple[int, bytes]], revision: int) -> TokenFile:
        """This file with `blobs` appended (ids above every id it holds, ascending), mapped anew.

        The blobs go after the last indexed byte (a tail left by an append that failed is cut
        first), then the index and the stamp are replaced atomically: until they are, the file
        reads as it was."""
        if self.path is None:
            raise ValueError("an anonymous token file cannot be extended")
        ids, offsets = self._ids.tolist(), self._offsets.tolist()
        with open(self.path, "r+b") as handle:
            handle.truncate(offsets[-1])
            handle.seek(offsets[-1])
            for chunk_id, blob in blobs:
                if blob:
                    if ids and chunk_id <= ids[-1]:
                        raise ValueError("token blobs are appended in ascending id order, above every id held")
                    handle.write(blob)
                    ids.append(chunk_id)
                    offsets.append(offsets[-1] + len(blob))
            handle.flush()
            os.fsync(handle.fileno())
        _write_index(self.path, self.dim, ids, offsets, revision)
        return TokenFile(self.path, self.dim, np.array(ids, dtype=np.int64), np.array(offsets, dtype=np.int64))

    def land(self, path: Path) -> TokenFile:
        """This file, written whole under another name in `path`'s folder, renamed to `path` with its
        index and its stamp (last: until it lands, no stamp vouches for the data there). The caller
        holds the folder's lock; the map and descriptor follow the file, not its name."""
        if self.path is None:
            raise ValueError("an anonymous token file cannot be renamed")
        _stamp_path(path).unlink(missing_ok=True)
        os.replace(self.path, path)
        os.replace(_index_path(self.path), _index_path(path))
        os.replace(_stamp_path(self.path), _stamp_path(path))
        fsync_folder(path.parent)
        self.path = path
        return self

    @classmethod
    def open(cls, path: Path, dim: int) -> TokenFile | None:
        """The file as its stamp describes it, mapped; None when it is missing, unreadable or does not agree."""
        try:
            stamp = json.loads(_stamp_path(path).read_text())
            if stamp.get("dim") != dim or stamp.get("format") != TOKEN_FORMAT or stamp.get("file") != path.stat().st_ino:
                return None
            count = stamp.get("chunks")
            index = np.fromfile(_index_path(path), dtype="<i8")
            if not isinstance(count, int) or len(index) != 2 * count + 1 or index[-1] != stamp.get("bytes") or path.stat().st_size < index[-1]:
                return None
            ids, offsets = index[:count], index[count:]
            return cls(path, dim, ids, offsets)
        except (OSError, ValueError, KeyError):
            return None


def _write_index(path: Path, dim: int, ids: list[int], offsets: list[int], revision: int) -> None:
    """The .index file (ids, then offsets), then the stamp that vouches for it: for this data file
    (its inode: a file written anew is another one) up to its `bytes`, in this `format`."""
    write_bytes_atomically(_index_path(path), np.array(ids + offsets, dtype="<i8").tobytes())
    stamp = {"revision": revision, "chunks": len(ids), "bytes": offsets[-1], "dim": dim, "format": TOKEN_FORMAT, "file": path.stat().st_ino}
    write_bytes_atomically(_stamp_path(path), json.dumps(stamp).encode())


def _index_path(path: Path) -> Path:
    return path.with_suffix(".index")


def _stamp_path(path: Path) -> Path:
    return path.with_suffix(".json")


class TokenIndex:
    """Token vectors of each chunk, scored against a query's token vectors.

    The bulk sits in a memory-mapped TokenFile written at start-up; chunks added later are kept in
    memory (a delta), and removed ones are hidden, until the next start writes a new file. While a
    first start writes that file behind the replica, the bulk is read from the catalog instead, a
    query's candidates at a time (`read_from`, then `adopt`).
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._file = TokenFile(None, self.dim, np.empty(0, np.int64), np.zeros(1, np.int64))
        self._read: BlobReader | None = None
        self._delta: dict[int, bytes] = {}  # packed, as the catalog holds them
        self._hidden: set[int] = set()
        self._lock = threading.Lock()

    def replace_file(self, token_file: TokenFile) -> None:
        """Serve from `token_file` (the whole catalog at one revision) and forget the delta."""
        with self._lock:
            self._file, self._read, self._delta, self._hidden = token_file, None, {}, set()

    def read_from(self, read: BlobReader) -> None:
        """Serve the whole catalog at one revision by asking `read` for each query's candidates, and
        forget the delta: until `adopt` hands over the file being written from that revision."""
        with self._lock:
            self._read, self._delta, self._hidden = read, {}, set()

    def adopt(self, token_file: TokenFile) -> None:
        """Serve from `token_file`, written from the revision `read_from` began at, instead of
        reading the catalog; the delta stays, and chunks removed meanwhile are erased from it."""
        with self._lock:
            self._file, self._read = token_file, None
            hidden = sorted(self._hidden)
        token_file.erase(hidden)

    def add(self, blobs: dict[int, bytes]) -> None:
        """Store chunks' packed token vectors as they are, unpacked only when a query reads them: a
        third of the memory of unpacked codes (with the blob they were read from) in a replica
        taking reflections all day. A chunk without any (empty blob) is left out."""
        packed = {i: bytes(blob) for i, blob in blobs.items() if blob}
        with self._lock:  # a new dict, never changed in place: a ranking reads the one it took
            self._delta = {**self._delta, **packed}

    def remove(self, ids: Iterable[int]) -> None:
        gone = set(ids)
        with self._lock:
            self._delta = {i: v for i, v in self._delta.items() if i not in gone}
            self._hidden = self._hidden | gone
            token_file = self._file
        token_file.erase(sorted(gone))

    def _stored(self, candidates: Iterable[int]) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray]]]:
        with self._lock:
            token_file, read, delta, hidden = self._file, self._read, self._delta, self._hidden
        candidates = list(dict.fromkeys(candidates))
        wanted = [chunk_id for chunk_id in candidates if chunk_id not in delta and chunk_id not in hidden]
        if read is not None:
            lookup = {i: unpack_tokens(bytes(blob), self.dim) for i, blob in read(np.sort(np.array(wanted, dtype=np.int64))) if blob}.get
        else:
            token_file.prefetch(wanted)
            lookup = token_file.get
        for chunk_id in candidates:
            added = delta.get(chunk_id)
            found = unpack_tokens(added, self.dim) if added else (None if chunk_id in hidden else lookup(chunk_id))
            if found is not None:
                yield chunk_id, found

    def rank(self, query_tokens: np.ndarray, candidates: Iterable[int]) -> list[tuple[int, float]]:
        """Candidates best first by MaxSim: the mean over query tokens of the best cosine in the chunk."""
        if len(query_tokens) == 0:
            return []
        stored = list(self._stored(candidates))
        if not stored:
            return []
        codes = np.concatenate([c for _, (c, _) in stored]).astype(np.float32)
        scales = np.concatenate([s for _, (_, s) in stored])
        cosines = (np.asarray(query_tokens, dtype=np.float32) @ codes.T) * scales
        starts = np.cumsum([0] + [len(c) for _, (c, _) in stored[:-1]])
        best = np.maximum.reduceat(cosines, starts, axis=1)
        scores = best.mean(axis=0)
        order = np.argsort(-scores, kind="stable")
        return [(stored[p][0], float(scores[p])) for p in order]
