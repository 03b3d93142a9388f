"""Looking after a deployment: the catalog (`documents`) and open knowledge gaps (`gaps`).

`--json` prints exactly what the HTTP API returns for the same resources (its response models)."""

from __future__ import annotations

import typer
from rich.table import Table

from bot.cli.common import catalog_from, counted, fails_cleanly, out, plain, print_json, services_from
from bot.cli.filters import SourceTypeOption, search_filters
from bot.http.schemas import DocumentPublic, Gap
from index import Catalog

PAGE = 500  # documents read per query


def register(app: typer.Typer) -> None:
    app.command()(documents)
    app.command()(gaps)


def all_documents(catalog: Catalog, source_type: str | None) -> list[DocumentPublic]:
    """The whole catalog, page by page, in the API's Document shape."""
    found: list[DocumentPublic] = []
    while page := catalog.list_documents(source_type, PAGE, len(found)):
        found += [DocumentPublic.model_validate(d, from_attributes=True) for d in page]
        if len(page) < PAGE:
            break
    return found


def documents(
    ctx: typer.Context,
    source_type: SourceTypeOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print [Document] as JSON."),
) -> None:
    """The catalog: every document with its id, type, year and title (ids are what `search --document` takes)."""
    with fails_cleanly():
        found = all_documents(catalog_from(ctx), search_filters(source_type, None, None, None, None).source_type)
    if as_json:
        print_json([d.model_dump(mode="json") for d in found])
        return
    table = Table("id", "type", "year", "title", "authors", "source", title=counted(len(found), "document"))
    for d in found:
        table.add_row(str(d.id), d.source_type, str(d.year or ""), plain(d.title), plain(", ".join(d.authors)), plain(d.source))
    out.print(table)


def gaps(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print [Gap] as JSON.")) -> None:
    """Open knowledge gaps: questions the corpus could not answer, or whose answer was unhelpful, grouped, newest first."""
    with fails_cleanly():
        found = [Gap.from_group(group) for group in services_from(ctx).gaps.gaps()]
    if as_json:
        print_json([g.model_dump(mode="json") for g in found])
        return
    table = Table("asked", "last asked", "why", "question", title=counted(len(found), "open knowledge gap"))
    for g in found:
        table.add_row(str(g.count), f"{g.last_asked:%Y-%m-%d %H:%M}", ", ".join(g.reasons), plain(g.question))
    out.print(table)
