"""The ingest pipeline: files -> documents and chunks in the catalog, incrementally and idempotently.

A file is re-read only when its bytes or its metadata changed (content hash); a changed file's
chunks are replaced, and only passages whose text changed are embedded again; files that
disappeared from a scanned folder leave the catalog. One bad file is reported, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from index import Catalog, ChunkDraft, DocumentDraft, IngestError
from index.records import ChunkEncoding, contextual_text
from ingest.chunk import ChunkSizes, chunk_blocks
from ingest.embed import Embedder, encodings_of
from ingest.load import SUPPORTED_SUFFIXES, LoadedFile, LoadLimits, load_file, printable
from ingest.sources import as_list, read_sources, title_from_name, year_of
from ingest.structure import parse_pdf_pages, parse_text

PIPELINE_VERSION = "3"  # bump when cleaning or chunking changes, so every file is re-read once
LEARNING_LOG_DIR = "learning-logs"
REFLECTION_SOURCE_PREFIX = "reflection:"
FILE_SOURCE_TYPES = ("report", "learning_log")  # a file cannot pass itself off as a stored reflection
MAX_FIELD = 1000  # characters of one metadata value (title, author, tag ...)
EMBED_STEP = 64  # passages per embedding call: a progress report every second or two on CPU, batches still full

log = logging.getLogger(__name__)


class IngestProgress(Protocol):
    """Told how a run goes: `stage` is "reading" (files), "embedding" (new passages) or "backfilling"
    (token vectors for older passages); `done` of `total` items, reported at 0 and after each step."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


def no_progress(stage: str, done: int, total: int) -> None:
    """The progress callback of a caller that does not watch."""


@dataclass
class IngestReport:
    """The contract's summary, plus how many passages were embedded (0 on an unchanged re-run)."""

    documents: int = 0
    chunks: int = 0
    skipped: int = 0
    removed: int = 0
    embedded: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "skipped": self.skipped,
            "removed": self.removed,
            "embedded": self.embedded,
            "failed": self.failed,
        }


@dataclass
class _Parsed:
    path: Path
    draft: DocumentDraft
    chunks: list[ChunkDraft]


def is_ingestible(path: Path) -> bool:
    """Supported files, minus housekeeping: README*, NOTICE*, and names starting with '_' or '.'."""
    name = path.name
    if name.startswith(("_", ".")) or name.upper().startswith(("README", "NOTICE")):
        return False
    return path.suffix.lower() in SUPPORTED_SUFFIXES


class IngestPipeline:
    """Reads files under a corpus root and keeps the catalog in step with them."""

    def __init__(
        self, catalog: Catalog, embedder: Embedder, corpus_root: Path, sizes: ChunkSizes = ChunkSizes(), limits: LoadLimits = LoadLimits(),
        embed_step: int = EMBED_STEP,
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.corpus_root = corpus_root.resolve()
        self.sizes = sizes
        self.limits = limits
        self.embed_step = embed_step

    def run(self, paths: Iterable[Path] = (), progress: IngestProgress = no_progress) -> IngestReport:
        """Ingest `paths` (files or folders), or the whole corpus when none are given."""
        targets = [Path(p).resolve() for p in paths] or [self.corpus_root]
        report = IngestReport()
        files = sorted({f for target in targets for f in self._files(target, report)})
        stored = self.catalog.document_hashes()
        parsed: list[_Parsed] = []
        progress("reading", 0, len(files))
        for done, path in enumerate(files, start=1):
            try:
                item = self._parse_if_changed(path, stored)
            except IngestError as error:
                report.failed.append({"path": str(path), "error": str(error)})
            else:
                if item is None:
                    report.skipped += 1
                else:
                    parsed.append(item)
            progress("reading", done, len(files))
        self._store(parsed, report, progress)
        report.removed = self._remove_missing(targets, {self.source_of(f) for f in files}, stored)
        report.embedded += self._backfill_tokens(progress)
        self.catalog.add_missing_terms()
        return report

    def source_of(self, path: Path) -> str:
        """The catalog key of a file: its path relative to the corpus root, else its absolute path."""
        try:
            return path.resolve().relative_to(self.corpus_root).as_posix()
        except ValueError:
            return path.resolve().as_posix()

    def _files(self, target: Path, report: IngestReport) -> list[Path]:
        if target.is_file():
            if target.suffix.lower() in SUPPORTED_SUFFIXES:
                return [target]
            report.failed.append({"path": str(target), "error": f"Unsupported file type '{target.suffix}'; Learnloop reads .pdf, .md and .txt files."})
            return []
        if target.is_dir():
            return [p for p in target.rglob("*") if p.is_file() and is_ingestible(p)]
        report.failed.append({"path": str(target), "error": "No such file or folder."})
        return []

    def _parse_if_changed(self, path: Path, stored: dict[str, str]) -> _Parsed | None:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise IngestError(f"The file cannot be read: {error.strerror or error}.") from error
        source = self.source_of(path)
        sources_meta = read_sources(path.parent).get(path.name, {})
        digest = hashlib.sha256(data + json.dumps(sources_meta, sort_keys=True, default=str).encode() + PIPELINE_VERSION.encode()).hexdigest()
        if stored.get(source) == digest:
            return None
        loaded = load_file(path, data, self.limits)
        reflection_id = printable(str(loaded.front_matter.get("reflection_id") or ""))[:64]
        if reflection_id and f"{REFLECTION_SOURCE_PREFIX}{reflection_id}" in stored:
            return None  # an exported reflection already in the catalog: never a duplicate
        if reflection_id and self.catalog.is_erased(f"{REFLECTION_SOURCE_PREFIX}{reflection_id}"):
            raise IngestError("This file is an exported copy of a reflection that was deleted or rejected, so it is not ingested; delete the file.")
        draft = self._describe(path, source, digest, loaded, sources_meta)
        blocks = parse_pdf_pages(loaded.pages, loaded.outline) if loaded.format == "pdf" else parse_text(loaded.text, guess_headings=loaded.format == "text")
        _, chunks = chunk_blocks(blocks, draft.title, self.sizes)
        if not chunks:
            raise IngestError("No text passages were found in the file after cleaning.")
        return _Parsed(path, draft, chunks)

    def _describe(self, path: Path, source: str, digest: str, loaded: LoadedFile, meta: dict) -> DocumentDraft:
        front = loaded.front_matter
        in_logs = LEARNING_LOG_DIR in path.resolve().parts
        source_type = printable(str(front.get("source_type") or meta.get("source_type") or ("learning_log" if in_logs else "report")))
        if source_type not in FILE_SOURCE_TYPES:
            raise IngestError(f"source_type must be one of {', '.join(FILE_SOURCE_TYPES)}; this file says '{source_type[:40]}'.")
        title = printable(str(meta.get("title") or front.get("title") or loaded.pdf_title or title_from_name(path)))[:MAX_FIELD]
        extra = {k: printable(str(v))[:MAX_FIELD] for k, v in front.items() if k in ("team", "place", "date", "reflection_id") and v is not None}
        extra.update({k: printable(str(meta[k]))[:MAX_FIELD] for k in ("kind", "rights", "url", "seed") if k in meta})
        return DocumentDraft(
            source=source,
            content_hash=digest,
            title=title,
            source_type=source_type,
            authors=[printable(a)[:MAX_FIELD] for a in as_list(meta.get("authors") or front.get("authors") or front.get("author"))],
            publisher=printable(str(meta.get("publisher") or front.get("publisher") or ""))[:MAX_FIELD],
            year=year_of(meta.get("year") or front.get("year") or front.get("date")),
            tags=[printable(t).lower()[:MAX_FIELD] for t in as_list(meta.get("tags") or front.get("tags"))],
            extra=extra,
        )

    def _store(self, parsed: list[_Parsed], report: IngestReport, progress: IngestProgress) -> None:
        """Embed every new passage of every changed file, then store file by file."""
        all_chunks = [(item, chunk) for item in parsed for chunk in item.chunks]
        known = self.catalog.encodings_by_hash(chunk.content_hash for _, chunk in all_chunks)
        missing = {chunk.content_hash: contextual_text(item.draft.title, chunk.section, chunk.text) for item, chunk in all_chunks if chunk.content_hash not in known}
        if missing:
            known.update(zip(missing, self._encode(list(missing.values()), "embedding", progress), strict=True))
        report.embedded += len(missing)
        for item in parsed:
            try:
                self.catalog.replace_document(item.draft, item.chunks, [known[c.content_hash] for c in item.chunks])
            except SQLAlchemyError as error:  # one file the database refuses must not end the run
                log.warning("storing %s failed: %s", item.path, error)
                report.failed.append({"path": str(item.path), "error": "The database refused this file's text or metadata; check its front matter."})
                continue
            report.documents += 1
            report.chunks += len(item.chunks)

    def _backfill_tokens(self, progress: IngestProgress) -> int:
        """Give token vectors to chunks stored before late interaction existed, reflections included
        (they have no file to re-read); a server started afterwards ranks them like the rest."""
        missing = self.catalog.chunks_without_tokens()
        if missing:
            encoded = self._encode([text for _, text in missing], "backfilling", progress)
            self.catalog.add_tokens({chunk_id: encoding.tokens for (chunk_id, _), encoding in zip(missing, encoded, strict=True)})
        return len(missing)

    def _encode(self, texts: list[str], stage: str, progress: IngestProgress) -> list[ChunkEncoding]:
        """Encode in steps of `embed_step` passages, so a watching caller sees the slow part move.

        Longest first across all steps, as sentence-transformers orders one call, so each model
        batch holds passages of like length and stepping adds no padding.
        """
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        encodings: dict[int, ChunkEncoding] = {}
        progress(stage, 0, len(texts))
        for start in range(0, len(texts), self.embed_step):
            step = order[start : start + self.embed_step]
            encodings.update(zip(step, encodings_of(self.embedder.encode([texts[i] for i in step])), strict=True))
            progress(stage, len(encodings), len(texts))
        return [encodings[i] for i in range(len(texts))]

    def _remove_missing(self, targets: list[Path], seen: set[str], stored: dict[str, str]) -> int:
        """Drop documents whose file vanished from a scanned folder (reflections are never touched)."""
        folders = [self.source_of(t) for t in targets if t.is_dir()]
        removed = 0
        for source in stored:
            if source.startswith(REFLECTION_SOURCE_PREFIX) or source in seen:
                continue
            inside = any(source == f or source.startswith(f"{f}/") or f == "." for f in folders)
            if inside and not (self.corpus_root / source).exists() and not Path(source).exists():
                removed += int(self.catalog.delete_document(source))
        return removed
