"""Chunk boundaries, sections, page spans and offsets on real documents."""


from ingest.chunk import chunk_blocks
from ingest.clean import normalise_text
from ingest.load import load_file
from ingest.structure import parse_pdf_pages, parse_text
from tests.conftest import FIXTURES, REPO

REPORTS = REPO / "corpus" / "reports"


def _chunks(name: str, guess: bool):
    blocks = parse_text(normalise_text((REPORTS / name).read_text()), guess_headings=guess)
    return chunk_blocks(blocks, "Title")


def test_offsets_point_at_the_chunk_text_and_chunks_are_sentence_aligned() -> None:
    text, chunks = _chunks("coping-with-complexity-ccps-2018.md", False)
    assert len(chunks) > 40
    for chunk in chunks:
        assert text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.text[0].isupper() or not chunk.text[0].isalpha(), chunk.text[:60]
        assert len(chunk.text.split()) <= 260
        assert chunk.page_start is None and chunk.page_end is None


def test_markdown_headings_become_section_paths() -> None:
    _, chunks = _chunks("coping-with-complexity-ccps-2018.md", False)
    sections = {c.section for c in chunks}
    assert any(s.endswith("Potential model: Demand-led commissioning") for s in sections)
    vuca = next(c for c in chunks if "VUCA" in c.text)
    assert vuca.section.endswith("Why is commissioning complex?")


def test_plain_text_headings_are_recognised_and_continuations_merged() -> None:
    _, chunks = _chunks("revolution-will-be-improvised-vize.txt", True)
    sections = [c.section for c in chunks]
    assert "The hurdles" in sections and not any("(continued)" in s for s in sections)
    pebble = next(c for c in chunks if "throwing a pebble in a pool" in c.text)
    assert pebble.section == "Joined at the top"


def test_page_break_splits_are_rejoined_and_furniture_gone() -> None:
    text, _ = _chunks("outcomes-and-efficiency-leadership-handbook-selwyn-2012.md", False)
    assert "the sound comes out of a loudspeaker" in text
    assert "$\\sim$" not in text and "\\sigma" not in text
    assert "Goodhart, Charles, 17" not in text  # the flattened back-of-book index is gone


def test_repeated_pull_quotes_are_kept_once() -> None:
    text, _ = _chunks("revolution-will-be-improvised-vize.txt", True)
    assert text.count("There has always been lots of energy and passionate people") == 1


def test_pdf_chunks_carry_page_spans_and_outline_sections() -> None:
    path = FIXTURES / "pdfs" / "R-intro.pdf"
    loaded = load_file(path, path.read_bytes())
    _, chunks = chunk_blocks(parse_pdf_pages(loaded.pages, loaded.outline), "R")
    assert all(1 <= c.page_start <= c.page_end <= 113 for c in chunks)
    assert chunks[-1].page_end >= 100
    preface = next(c for c in chunks if c.section == "Preface")
    assert preface.page_start == 7
