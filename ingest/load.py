"""Loaders, one per format: bytes on disk -> text (and pages) or a clear IngestError.

Every failure a person can meet (empty, corrupt, truncated, password-protected, scanned without
a text layer, unknown format) becomes an IngestError whose message says what is wrong and what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from charset_normalizer import from_bytes
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

from index.errors import IngestError
from ingest.clean import normalise_text

logging.getLogger("pypdf").setLevel(logging.ERROR)

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = set(TEXT_SUFFIXES) | PDF_SUFFIXES
MIN_TEXT_CHARS = 20


@dataclass
class LoadedFile:
    """A file's text: `pages` for PDFs (1-based by position), `text` for text formats."""

    format: str  # markdown | text | pdf
    text: str = ""
    pages: list[str] = field(default_factory=list)
    outline: dict[int, list[str]] = field(default_factory=dict)
    front_matter: dict = field(default_factory=dict)
    pdf_title: str = ""


def load_file(path: Path, data: bytes) -> LoadedFile:
    """Dispatch on the file suffix; `data` is the file's bytes (already read for hashing)."""
    suffix = path.suffix.lower()
    if not data.strip():
        raise IngestError("The file is empty (0 bytes of content); nothing to ingest.")
    if suffix in PDF_SUFFIXES:
        return load_pdf(data)
    if suffix in TEXT_SUFFIXES:
        return load_text(data, TEXT_SUFFIXES[suffix])
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


def load_text(data: bytes, fmt: str) -> LoadedFile:
    text = normalise_text(decode_bytes(data))
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
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as error:
        raise IngestError(f"The YAML front matter is malformed: {str(error).splitlines()[0]}") from error
    if not isinstance(meta, dict):
        raise IngestError("The YAML front matter must be a mapping of keys to values.")
    body_start = text.find("\n", end + 4)
    return meta, text[body_start + 1 :] if body_start >= 0 else ""


def load_pdf(data: bytes) -> LoadedFile:
    import io

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("The PDF is password-protected; save an unprotected copy and ingest that.")
        pages = [normalise_text(page.extract_text() or "") for page in reader.pages]
    except IngestError:
        raise
    except FileNotDecryptedError as error:
        raise IngestError("The PDF is password-protected; save an unprotected copy and ingest that.") from error
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise IngestError(f"The PDF is damaged or truncated and cannot be read ({type(error).__name__}).") from error
    if not pages:
        raise IngestError("The PDF has no pages.")
    if sum(len(p.strip()) for p in pages) < MIN_TEXT_CHARS:
        raise IngestError(
            "The PDF has no text layer (it looks like a scanned image); run it through OCR, e.g. ocrmypdf, then ingest the result."
        )
    return LoadedFile(format="pdf", pages=pages, outline=_outline(reader), pdf_title=_pdf_title(reader))


def _outline(reader: PdfReader) -> dict[int, list[str]]:
    """Top-level outline (bookmark) titles by the 1-based page they start on; empty when absent or broken."""
    starts: dict[int, list[str]] = {}
    try:
        for item in reader.outline:
            if isinstance(item, list):
                continue
            page = reader.get_destination_page_number(item)
            if page is not None and page >= 0:
                starts.setdefault(page + 1, []).append(str(item.title))
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return starts


def _pdf_title(reader: PdfReader) -> str:
    try:
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, TypeError):
        return ""
    return str(title).strip() if title else ""
