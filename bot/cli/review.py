"""`learnloop reflections list | approve | reject | delete`: review and erasure from the terminal.

Each goes through the ReflectionService methods behind PATCH and DELETE /reflections/{id}, so
approving indexes the reflection at once and deleting erases it everywhere, as over HTTP; `--json`
prints the API's Reflection shape.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bot.cli.common import console, counted, fails_cleanly, out, plain, print_json, services_from
from bot.http.routes.reflections import public
from bot.reflection_models import ReflectionPublic
from index import LearnloopError

STATUSES = ("pending", "published", "rejected")

reflections = typer.Typer(help="Review and erase reflections (what an admin API key may do).", no_args_is_help=True)
AsJson = Annotated[bool, typer.Option("--json", help="Print the Reflection as JSON.")]
ReflectionId = Annotated[str, typer.Argument(help="The reflection's id (from `learnloop reflections list`).")]


def register(app: typer.Typer) -> None:
    app.add_typer(reflections, name="reflections")


def not_found(reflection_id: str) -> LearnloopError:
    return LearnloopError(f"No reflection with id {reflection_id!r}: `learnloop reflections list --status pending` shows the ids.")


def show(reflection: ReflectionPublic, as_json: bool, done: str) -> None:
    if as_json:
        print_json(reflection.model_dump(mode="json"))
    else:
        out.print(f"{done} reflection {reflection.id}.")


@reflections.command("list")
def list_reflections(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="pending | published | rejected (default: all)."),
    limit: int = typer.Option(100, min=1, max=100_000, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print [Reflection] as JSON."),
) -> None:
    """Reflections, newest first, in any status."""
    with fails_cleanly():
        if status is not None and status not in STATUSES:
            raise LearnloopError(f"Unknown status {status!r}: use {', '.join(STATUSES)}.")
        services = services_from(ctx)
        found = [public(services, r) for r in services.reflections.list(status=status, limit=limit)]
    if as_json:
        print_json([r.model_dump(mode="json") for r in found])
        return
    table = Table("id", "status", "created", "origin", "team", "what we learned", title=counted(len(found), "reflection"))
    for r in found:
        table.add_row(r.id, r.status, f"{r.created_at:%Y-%m-%d}", r.origin, plain(r.team), plain(r.what_we_learned[:200]))
    out.print(table)


@reflections.command()
def approve(ctx: typer.Context, reflection_id: ReflectionId, as_json: AsJson = False) -> None:
    """Publish a reflection: searchable and citable as soon as this returns."""
    decide(ctx, reflection_id, "published", as_json, "Published")


@reflections.command()
def reject(ctx: typer.Context, reflection_id: ReflectionId, as_json: AsJson = False) -> None:
    """Reject a reflection: out of every index and export; the row stays, so it can still be approved."""
    decide(ctx, reflection_id, "rejected", as_json, "Rejected")


def decide(ctx: typer.Context, reflection_id: str, status: str, as_json: bool, done: str) -> None:
    """Set a reflection's status through the service behind PATCH; an approval waits for the gap
    re-check it starts, so the process does not end in the middle of it."""
    with fails_cleanly():
        services = services_from(ctx)
        reflection = services.reflections.set_status(reflection_id, status)
        if reflection is None:
            raise not_found(reflection_id)
        if status == "published":
            services.gap_rechecks.wait()
        show(public(services, reflection), as_json, done)


@reflections.command()
def delete(ctx: typer.Context, reflection_id: ReflectionId, as_json: AsJson = False) -> None:
    """Erase a reflection for good (row, catalog, both indexes, exported file, answers that quoted it).

    `--json` prints the reflection as it was.
    """
    with fails_cleanly():
        services = services_from(ctx)
        reflection = services.reflections.get(reflection_id)
        if not services.reflections.delete(reflection_id):
            raise not_found(reflection_id)
    if reflection is None:  # only a catalog entry left by an older version was there: no Reflection to print
        (console if as_json else out).print(f"Erased the catalog entry of reflection {reflection_id!r}; its row was already gone.", markup=False)
        return
    show(public(services, reflection), as_json, "Erased")
