"""Loaders, one per format: bytes on disk -> text (and pages) or a clear IngestError.

Every failure a person can meet (empty, corrupt, truncated, password-protected, scanned without
a text layer, unknown format) becomes an IngestError whose message says what is wrong and what to do.
So does a hostile file: too many pages, too much text, too slow to read, a decompression bomb, or
front matter with YAML aliases (a "billion laughs" expands exponentially); the run goes on without it.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from charset_normalizer import from_bytes
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError, PdfStreamError, PyPdfError

from index.errors import IngestError
from ingest.clean import normalise_text

logging.getLogger("pypdf").setLevel(logging.ERROR)

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = set(TEXT_SUFFIXES) | PDF_SUFFIXES
MIN_TEXT_CHARS = 20
MAX_FRONT_MATTER_CHARS = 10_000  # a few lines of metadata; YAML is parsed in pure Python


@dataclass(frozen=True)
class LoadLimits:
    """Per-file budgets, so that one hostile file costs seconds, not the run.

    `seconds` bounds text extraction and is checked between PDF pages (one page is not interrupted);
    `clock` is there so tests can move time on.
    """

    max_pages: int = 2_000
    max_chars: int = 5_000_000
    seconds: float = 120.0
    clock: Callable[[], float] = time.monotonic


@dataclass
class LoadedFile:
    """A file's text: `pages` for PDFs (1-based by position), `text` for text formats."""

    format: str  # markdown | text | pdf
    text: str = ""
    pages: list[str] = field(default_factory=list)
    outline: dict[int, list[str]] = field(default_factory=dict)
    front_matter: dict = field(default_factory=dict)
    pdf_title: str = ""


def load_file(path: Path, data: bytes, limits: LoadLimits = LoadLimits()) -> LoadedFile:
    """Dispatch on the file suffix; `data` is the file's bytes (already read for hashing)."""
    suffix = path.suffix.lower()
    if not data.strip():
        raise IngestError("The file is empty (0 bytes of content); nothing to ingest.")
    if suffix in PDF_SUFFIXES:
        return load_pdf(data, limits)
    if suffix in TEXT_SUFFIXES:
        return load_text(data, TEXT_SUFFIXES[suffix], limits)
    raise IngestError(f"Unsupported file type '{suffix or path.name}'; Learnloop reads .pdf, .md and .txt files.")


def decode_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM) when valid, else the likeliest encoding, never a crash.

    Among charset-normalizer's plausible candidates Windows-1252 wins, since that is what legacy
    files in a UK public-sector corpus are; short texts are otherwise ambiguous (cp1250 vs cp1252).
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        matches = from_bytes(data)
        preferred = next((m for m in matches if m.encoding == "cp1252"), None) or matches.best()
        if preferred is not None:
            return str(preferred)
        return data.decode("cp1252", errors="replace")


def load_text(data: bytes, fmt: str, limits: LoadLimits = LoadLimits()) -> LoadedFile:
    if len(data) > 4 * limits.max_chars:  # no encoding spends more than 4 bytes on a character
        raise _too_much_text(limits)
    text = normalise_text(decode_bytes(data))
    if len(text) > limits.max_chars:
        raise _too_much_text(limits)
    front_matter, body = split_front_matter(text)
    if len(body.strip()) < MIN_TEXT_CHARS:
        raise IngestError("The file has no readable text (fewer than 20 characters after its front matter).")
    return LoadedFile(format=fmt, text=body, front_matter=front_matter)


def split_front_matter(text: str) -> tuple[dict, str]:
    """YAML front matter between leading `---` lines; malformed front matter is an IngestError."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    if end - 4 > MAX_FRONT_MATTER_CHARS:
        raise IngestError(
            f"The YAML front matter is longer than {MAX_FRONT_MATTER_CHARS:,} characters; keep it to a few lines of metadata."
        )
    try:
        meta = yaml.load(text[4:end], Loader=_NoAliasLoader) or {}
    except _AliasRefused as error:
        raise IngestError(
            "The YAML front matter uses an alias (*name), which Learnloop does not accept because aliases can expand without limit; write each value out in full."
        ) from error
    except RecursionError as error:
        raise IngestError("The YAML front matter is nested too deeply; keep it to plain keys and values.") from error
    except yaml.YAMLError as error:
        raise IngestError(f"The YAML front matter is malformed: {str(error).splitlines()[0]}") from error
    if not isinstance(meta, dict):
        raise IngestError("The YAML front matter must be a mapping of keys to values.")
    body_start = text.find("\n", end + 4)
    return meta, text[body_start + 1 :] if body_start >= 0 else ""


class _AliasRefused(yaml.YAMLError):
    """Front matter used an alias, which _NoAliasLoader refuses."""


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases: front matter never needs them, and nested ones are an alias bomb."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise _AliasRefused(f"alias at {self.peek_event().start_mark}")
        return super().compose_node(parent, index)


def _too_much_text(limits: LoadLimits) -> IngestError:
    return IngestError(
        f"The file has more than {limits.max_chars:,} characters of text, more than Learnloop reads from one file; split it and ingest the parts."
    )


def load_pdf(data: bytes, limits: LoadLimits = LoadLimits()) -> LoadedFile:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("The PDF is password-protected; save an unprotected copy and ingest that.")
        pages = _page_texts(reader, limits)
    except IngestError:
        raise
    except FileNotDecryptedError as error:
        raise IngestError("The PDF is password-protected; save an unprotected copy and ingest that.") from error
    except LimitReachedError as error:
        raise IngestError(
            "The PDF holds more data than it is safe to unpack (pypdf's limit was reached: a possible decompression bomb); re-save it from the application that made it, then ingest again."
        ) from error
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise IngestError(f"The PDF is damaged or truncated and cannot be read ({type(error).__name__}).") from error
    if not pages:
        raise IngestError("The PDF has no pages.")
    if sum(len(p.strip()) for p in pages) < MIN_TEXT_CHARS:
        raise IngestError(
            "The PDF has no text layer (it looks like a scanned image); run it through OCR, e.g. ocrmypdf, then ingest the result."
        )
    return LoadedFile(format="pdf", pages=pages, outline=_outline(reader), pdf_title=_pdf_title(reader))


def _page_texts(reader: PdfReader, limits: LoadLimits) -> list[str]:
    """Each page's text, within the page, character and time budgets."""
    count = len(reader.pages)
    if count > limits.max_pages:
        raise IngestError(
            f"The PDF has {count:,} pages, more than the {limits.max_pages:,} Learnloop reads from one file; split it and ingest the parts."
        )
    deadline = limits.clock() + limits.seconds
    pages: list[str] = []
    chars = 0
    for number, page in enumerate(reader.pages, start=1):
        if limits.clock() > deadline:
            raise IngestError(
                f"Reading the PDF's text took longer than {limits.seconds:g} seconds (stopped before page {number} of {count}); "
                "the file may be damaged or built to be slow to read. Re-save or split it, then ingest again."
            )
        page.get_contents()  # decoded first: past pypdf's decompression limits this raises, where extract_text returns ""
        pages.append(normalise_text(page.extract_text() or ""))
        chars += len(pages[-1])
        if chars > limits.max_chars:
            raise _too_much_text(limits)
    return pages


def _outline(reader: PdfReader) -> dict[int, list[str]]:
    """Top-level outline (bookmark) titles by the 1-based page they start on; empty when absent or broken."""
    starts: dict[int, list[str]] = {}
    try:
        for item in reader.outline:
            if isinstance(item, list):
                continue
            page = reader.get_destination_page_number(item)
            if page is not None and page >= 0:
                starts.setdefault(page + 1, []).append(printable(str(item.title)))
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return {}
    return starts


def _pdf_title(reader: PdfReader) -> str:
    try:
        title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError):
        return ""
    return printable(str(title)).strip() if title else ""


def printable(text: str) -> str:
    """Metadata text without NUL and other C0 controls (but tabs and newlines), which PostgreSQL refuses."""
    return text.translate(_CONTROLS)


_CONTROLS = {code: None for code in range(32) if chr(code) not in "\t\n\r"}
