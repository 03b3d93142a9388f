"""Text with a NUL character is refused everywhere: PostgreSQL cannot store it, and no reader needs it.

One rule, two forms: `NoNulStr` for every string a client sends (pydantic refuses it, so the API
answers 422 naming the field), and `refuse_nul` for services reached without a model (Slack, CLI).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from index import InputRejected

NUL = "\x00"
NUL_MESSAGE = "must not contain a NUL character (\\u0000)"


def _no_nul(value: str) -> str:
    if NUL in value:
        raise PydanticCustomError("nul_character", NUL_MESSAGE)
    return value


NoNulStr = Annotated[str, AfterValidator(_no_nul)]


def refuse_nul(text: str, field: str) -> None:
    """Raise InputRejected naming `field` when `text` holds a NUL character."""
    if NUL in text:
        raise InputRejected(f"'{field}' {NUL_MESSAGE}.", field=field)
