"""Paging for list endpoints whose JSON shape is fixed (a list, or `{"gaps": [...]}`): the total
and the links to neighbouring pages go in headers, X-Total-Count and an RFC 8288 Link."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response

from bot.http.schemas import MAX_ID

Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="How many items to skip (see the Link header for the next page)")]
PAGED: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "X-Total-Count": {"description": "How many items match, across all pages", "required": True, "schema": {"type": "integer"}},
            "Link": {"description": 'RFC 8288 links to the next and previous pages, e.g. </documents?limit=100&offset=100>; rel="next"', "schema": {"type": "string"}},
        }
    }
}


def page_headers(request: Request, response: Response, total: int, limit: int, offset: int) -> None:
    """Set X-Total-Count and, when there is a next or previous page, Link (relative references that
    keep the request's other query parameters)."""
    response.headers["X-Total-Count"] = str(total)
    kept = [(key, value) for key, value in request.query_params.multi_items() if key not in ("limit", "offset")]

    def link(start: int, rel: str) -> str:
        return f'<{request.url.path}?{urlencode([*kept, ("limit", limit), ("offset", start)])}>; rel="{rel}"'

    links = []
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    if offset > 0:
        links.append(link(max(offset - limit, 0), "prev"))
    if links:
        response.headers["Link"] = ", ".join(links)
