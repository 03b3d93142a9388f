"""Form input checked by the API's own pydantic models, with errors worded for the GOV.UK error
summary: one message per field, in the order the fields appear, each linking to its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from bot.nul import NoNulStr

# The same bounds as GET /search's `q` and GET /reflections' filters.
SearchText = TypeAdapter(Annotated[NoNulStr, Field(min_length=1, max_length=2000)])
ShortText = TypeAdapter(Annotated[NoNulStr, Field(max_length=200)])


def message(label: str, error: Mapping) -> str:
    """A GOV.UK-style sentence for one pydantic error on the field called `label`."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("missing", "string_too_short"):
        return f"Enter {label.lower()}"
    if kind == "too_long" and ctx.get("field_type") == "List":
        return f"{label} can have at most {ctx.get('max_length')} entries"
    if kind in ("string_too_long", "too_long"):
        return f"{label} must be {ctx.get('max_length')} characters or fewer"
    if kind == "nul_character":
        return f"{label} must not contain a NUL character"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{label} must be a whole number"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{label} must be between 1800 and 2200" if "year" in label.lower() else f"{label} is out of range"
    if kind == "literal_error":
        return f"Choose {label.lower()} from the list"
    return f"{label}: {error['msg']}"


def field_errors(error: ValidationError, labels: Mapping[str, str], prefix: str = "") -> dict[str, str]:
    """Field id -> first message, for the fields named in `labels` (others fall on the first field)."""
    found: dict[str, str] = {}
    first = next(iter(labels))
    for entry in error.errors():
        name = str(entry["loc"][0]) if entry["loc"] else first
        field = name if name in labels else first
        found.setdefault(prefix + field, message(labels[field], entry))
    return found


def summary(errors: Mapping[str, str]) -> list[dict[str, str]]:
    """The error summary's list: each message linking to the field it is about."""
    return [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
