"""Loaders on real awkward PDFs and on text in odd encodings: text or a clear message, never a crash."""

from pathlib import Path

import pytest

from index import IngestError
from ingest.load import decode_bytes, load_file
from tests.conftest import FIXTURES

PDFS = FIXTURES / "pdfs"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("libreoffice-writer-password.pdf", "password-protected"),
        ("empty.pdf", "empty"),
        ("invalid.pdf", "damaged or truncated"),
        ("linn.pdf", "no text layer"),
    ],
)
def test_unreadable_pdfs_fail_with_a_message_a_person_understands(name: str, message: str) -> None:
    path = PDFS / name
    with pytest.raises(IngestError, match=message):
        load_file(path, path.read_bytes())


def test_truncated_pdf_fails_cleanly(tmp_path: Path) -> None:
    data = (PDFS / "multicolumn.pdf").read_bytes()[:5000]
    with pytest.raises(IngestError):
        load_file(tmp_path / "cut.pdf", data)


def test_pdf_pages_keep_their_numbers_and_outline() -> None:
    path = PDFS / "R-intro.pdf"
    loaded = load_file(path, path.read_bytes())
    assert len(loaded.pages) == 113
    assert "Preface" in loaded.outline[7]
    assert "An Introduction to R" in loaded.pages[0]


def test_corrupt_stream_pdf_still_yields_its_text() -> None:
    path = PDFS / "zen_of_python_corrupted.pdf"
    assert "Beautiful is better than ugly" in load_file(path, path.read_bytes()).pages[0]


def test_arabic_text_survives() -> None:
    path = PDFS / "habibi.pdf"
    assert "habibi" in load_file(path, path.read_bytes()).pages[0]


def test_text_in_legacy_encoding_is_decoded() -> None:
    assert decode_bytes("Café – naïve “quotes”".encode("cp1252")) == "Café – naïve “quotes”"
    assert decode_bytes("\ufeffUTF-8 with BOM".encode("utf-8")) == "UTF-8 with BOM"


def test_front_matter_is_parsed_and_bad_front_matter_reported(tmp_path: Path) -> None:
    good = load_file(tmp_path / "log.md", b"---\nteam: Adults\ntags: [a, b]\n---\n\n## What happened\n\nWe tried a thing and it worked well.\n")
    assert good.front_matter == {"team": "Adults", "tags": ["a", "b"]}
    assert good.text.startswith("\n## What happened")
    with pytest.raises(IngestError, match="front matter"):
        load_file(tmp_path / "bad.md", b"---\nteam: [unclosed\n---\nbody text that is long enough\n")


def test_unsupported_type_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="Unsupported"):
        load_file(tmp_path / "sheet.xlsx", b"PK\x03\x04 not really")
