"""Loaders on real awkward PDFs, text in odd encodings and hostile files: text or a clear message, never a crash or a stall."""

import io
import itertools
import time
import zlib
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject

from index import IngestError
from ingest.load import MAX_FRONT_MATTER_CHARS, LoadLimits, decode_bytes, load_file
from tests.conftest import FIXTURES

PDFS = FIXTURES / "pdfs"
# "Billion laughs": nine aliases of nine aliases ... 9**8 strings once expanded (by str(), JSON or a loop).
ALIAS_BOMB = (
    "---\ntitle: Laughs\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in itertools.pairwise("abcdefgh"))
    + "tags: *h\n---\n\n## What happened\n\nWe tried a thing and it worked well.\n"
).encode()


def blank_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
    good = load_file(
        tmp_path / "log.md", b"---\nteam: Adults\ntags: [a, b]\n---\n\n## What happened\n\nWe tried a thing and it worked well.\n"
    )
    assert good.front_matter == {"team": "Adults", "tags": ["a", "b"]}
    assert good.text.startswith("\n## What happened")
    with pytest.raises(IngestError, match="front matter"):
        load_file(tmp_path / "bad.md", b"---\nteam: [unclosed\n---\nbody text that is long enough\n")


def test_unsupported_type_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="Unsupported"):
        load_file(tmp_path / "sheet.xlsx", b"PK\x03\x04 not really")


def test_front_matter_with_aliases_is_refused_at_once(tmp_path: Path) -> None:
    start = time.perf_counter()
    with pytest.raises(IngestError, match=r"alias \(\*name\).*write each value out in full"):
        load_file(tmp_path / "bomb.md", ALIAS_BOMB)
    assert time.perf_counter() - start < 1.0


def test_oversized_or_deeply_nested_front_matter_is_refused(tmp_path: Path) -> None:
    long = f"---\nnotes: {'x' * MAX_FRONT_MATTER_CHARS}\n---\nbody text that is long enough\n".encode()
    with pytest.raises(IngestError, match="front matter is longer than 10,000 characters"):
        load_file(tmp_path / "long.md", long)
    nested = f"---\nkey: {'[' * 1500}{']' * 1500}\n---\nbody text that is long enough\n".encode()
    with pytest.raises(IngestError, match="nested too deeply"):
        load_file(tmp_path / "nested.md", nested)


def test_a_pdf_over_the_page_budget_is_refused_before_reading() -> None:
    with pytest.raises(IngestError, match="The PDF has 5 pages, more than the 4 Learnloop reads from one file; split it"):
        load_file(Path("many.pdf"), blank_pdf(5), LoadLimits(max_pages=4))
    with pytest.raises(IngestError, match="no text layer"):  # within the budget it is read as usual
        load_file(Path("many.pdf"), blank_pdf(4), LoadLimits(max_pages=4))


def test_text_over_the_character_budget_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="more than 1,000 characters of text"):
        load_file(PDFS / "R-intro.pdf", (PDFS / "R-intro.pdf").read_bytes(), LoadLimits(max_chars=1_000))
    with pytest.raises(IngestError, match="more than 1,000 characters of text"):
        load_file(tmp_path / "long.txt", b"words " * 200, LoadLimits(max_chars=1_000))


def test_pdf_extraction_stops_when_its_time_budget_is_spent() -> None:
    clock = itertools.count(step=10).__next__  # each look at the clock: ten seconds later
    with pytest.raises(IngestError, match=r"longer than 25 seconds \(stopped before page 3 of 6\)"):
        load_file(Path("slow.pdf"), blank_pdf(6), LoadLimits(seconds=25, clock=clock))


def test_pypdf_decompression_limit_is_in_force() -> None:
    """A page whose content stream inflates from 80 KB to 80 MB (over pypdf's 75 MB default)."""
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    bomb = StreamObject()
    bomb.set_data(zlib.compress(b" " * 80_000_000, 9))
    bomb[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(bomb)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(IngestError, match="possible decompression bomb"):
        load_file(Path("bomb.pdf"), out.getvalue())
