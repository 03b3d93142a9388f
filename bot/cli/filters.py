"""The API's search filters as command-line options, shared by `search` and `ask`, checked by the
API's own Filters model so the terminal accepts exactly what GET /search and POST /ask accept."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from bot.cli.common import invalid
from bot.http.schemas import Filters
from index import SearchFilters

SourceTypeOption = Annotated[str | None, typer.Option("--type", help="report | learning_log | reflection")]
TagOption = Annotated[str | None, typer.Option("--tag", help="Only documents with this tag.")]
YearFromOption = Annotated[int | None, typer.Option("--year-from", help="Only documents from this year on.")]
YearToOption = Annotated[int | None, typer.Option("--year-to", help="Only documents up to this year.")]
DocumentOption = Annotated[int | None, typer.Option("--document", help="Only this document (an id from `learnloop documents`).")]

OPTION_OF = {"source_type": "--type", "document_id": "--document", "tag": "--tag", "year_from": "--year-from", "year_to": "--year-to"}


def search_filters(source_type: str | None, document_id: int | None, tag: str | None, year_from: int | None, year_to: int | None) -> SearchFilters:
    """Validated filters; a bad value is a LearnloopError naming its option."""
    try:
        filters = Filters(source_type=source_type, document_id=document_id, tag=tag, year_from=year_from, year_to=year_to)
    except ValidationError as error:
        raise invalid(error, lambda field: OPTION_OF.get(field, field)) from None
    return filters.to_search()
