"""Cleaning on real lines from the corpus: noise goes, every content word stays."""

import pytest

from ingest.clean import clean_heading, clean_inline, is_noise_line
from tests.conftest import REPO


@pytest.mark.parametrize(
    "line",
    [
        "4 \\( \\sigma \\) Introduction",
        "Introduction  $\\sim$  5",
        "8 \\square Introduction",
        "10 — Introduction",
        "Addendum  $\\sim$  49",
        "Index ~ 59",
        "77. 0\t\tW 0",
        "FOREWORD BY MARK ROGERS\t1",
        "appreciative model, 20\tcommunity, 50, 52",
    ],
)
def test_page_furniture_and_junk_lines_are_noise(line: str) -> None:
    assert is_noise_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "- 2 Local Vision – system change through a different type of leadership",
        "Seventy-five people from a diverse range of roles and organisations took part in the programme.",
        "Outcomes are not delivered by organisations!",
        "2015",
    ],
)
def test_content_lines_are_kept(line: str) -> None:
    assert not is_noise_line(line)


def test_every_furniture_line_of_the_handbook_is_caught() -> None:
    text = (REPO / "corpus/reports/outcomes-and-efficiency-leadership-handbook-selwyn-2012.md").read_text()
    for furniture in ("4 \\( \\sigma \\) Introduction", "Introduction  $\\sim$  5", "60 ~ Index"):
        assert furniture in text
        line = next(ln for ln in text.splitlines() if ln.strip() == furniture.strip())
        assert is_noise_line(line)


def test_inline_markup_is_removed_and_words_kept() -> None:
    raw = "the 23<sup>rd</sup> profession of government.<sup>4</sup> See [Goodhart's Law](https://en.wikipedia.org/wiki/Goodhart%27s\\_Law) and [here](#)."
    assert clean_inline(raw) == "the 23rd profession of government. See Goodhart's Law (https://en.wikipedia.org/wiki/Goodhart's_Law) and here."
    assert clean_inline("**Salami slicing** – Where a *percentage* saving") == "Salami slicing – Where a percentage saving"
    assert clean_inline("<p>Putting people before process.</p> <p>Abandon</p>") == "Putting people before process. Abandon"


def test_continuation_headings_join_their_section() -> None:
    assert clean_heading("The hurdles (continued)") == "The hurdles"
    assert clean_heading("**Chapter 3:**") == "Chapter 3"
