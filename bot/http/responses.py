"""The error responses routes document in OpenAPI: one shared table, picked per route by status code."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where the bad value is: body, query or path, then the field")
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error is `{"detail": ...}`: a sentence, or one entry per invalid field."""

    detail: str | list[FieldError]


_EXAMPLES: dict[int, tuple[str, object]] = {
    400: ("The body cannot be parsed, or the request cannot be served as asked.", "There was an error parsing the body"),
    401: ("No valid API key was sent.", "A valid API key is required: send 'Authorization: Bearer <key>'."),
    403: ("The API key's scope is too narrow.", "This API key has read scope; this request needs a key with write scope."),
    404: ("Nothing with that id.", "No reflection with id 'abc123'."),
    413: ("The request body is too large.", "The request body is larger than 256000 bytes."),
    429: ("Too many wrong API keys from this address in the last minute; no key is checked until Retry-After.", "Too many wrong API keys from this address: try again in 42 seconds."),
    422: ("A field is missing or invalid.", [{"loc": ["body", "question"], "msg": "must not contain a NUL character (\\u0000)", "type": "nul_character"}]),
    503: ("The database is not answering just now (or, for /readyz, the indexes are still loading or catching up).", "The database is not answering just now; try again in a few seconds."),
}
ERRORS: dict[int, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": description, "content": {"application/json": {"example": {"detail": example}}}}
    for code, (description, example) in _EXAMPLES.items()
}
ERRORS[503]["headers"] = ERRORS[429]["headers"] = {"Retry-After": {"description": "Seconds to wait before asking again", "schema": {"type": "integer"}}}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses for `codes`, for a route's `responses=`; a route that checks
    keys (401) also refuses an address that sent too many wrong ones (429, bot.http.guesses)."""
    wanted = set(codes) | ({429} if 401 in codes else set())
    return {code: ERRORS[code] for code in sorted(wanted)}
