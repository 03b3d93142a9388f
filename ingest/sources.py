"""Document metadata: `sources.toml` beside the reports, front matter in learning logs, the file name last."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

from index.errors import IngestError

SOURCES_FILE = "sources.toml"


def read_sources(folder: Path) -> dict[str, dict]:
    """File name -> metadata from `folder/sources.toml` (empty when there is none)."""
    path = folder / SOURCES_FILE
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise IngestError(f"{path} is not valid TOML: {error}") from error


def title_from_name(path: Path) -> str:
    """A readable title from a file name: 'my-report_2020.pdf' -> 'My report 2020'."""
    words = re.sub(r"[_\-]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def year_of(value: object) -> int | None:
    """A year from an int, a date or a string that starts with four digits (1000-2999; anything else is no year)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1000 <= value <= 2999 else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year
    if isinstance(value, str):
        head = value.lstrip()[:4]
        return int(head) if len(head) == 4 and head.isdecimal() else None
    return None


def as_list(value: object) -> list[str]:
    """Front-matter values that may be a list or a comma-separated string, as a clean list."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]
