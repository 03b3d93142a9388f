"""Learning-loop commands: reflect, export-reflections."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import ValidationError

from bot.cli.common import console, fails_cleanly, out, print_json, services_from
from bot.cli.progress import TerminalProgress
from bot.http.routes.reflections import public
from bot.prompts import Prompts
from bot.reflection_models import ReflectionCreate
from index import InputRejected, LearnloopError


def register(app: typer.Typer) -> None:
    app.command()(reflect)
    app.command(name="export-reflections")(export_reflections)


def _ask_in_terminal(prompts: Prompts) -> dict:
    """The questions go to standard error, so `reflect --json` leaves only the Reflection on standard output."""
    text = lambda name: prompts.text("reflection", name)  # noqa: E731 - a local shorthand
    return {
        "what_happened": typer.prompt(text("what_happened"), err=True),
        "what_we_learned": typer.prompt(text("what_we_learned"), err=True),
        "what_next": typer.prompt(text("what_next"), default="", show_default=False, err=True),
        "tags": [t for t in typer.prompt(text("tags"), default="", show_default=False, err=True).split(",") if t.strip()],
        "author": typer.prompt("Your name (optional)", default="", show_default=False, err=True),
        "team": typer.prompt("Team (optional)", default="", show_default=False, err=True),
        "place": typer.prompt("Place (optional)", default="", show_default=False, err=True),
    }


def reflect(
    ctx: typer.Context,
    json_file: Path = typer.Option(None, "--json-file", exists=True, dir_okay=False, help="Read the reflection from a JSON file."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored Reflection as JSON."),
) -> None:
    """Record a "what did we learn" reflection from the terminal; searchable at once."""
    with fails_cleanly():
        services = services_from(ctx)
        try:
            raw = json.loads(json_file.read_text(encoding="utf-8")) if json_file else _ask_in_terminal(services.prompts)
            data = ReflectionCreate.model_validate(raw)
        except (json.JSONDecodeError, ValidationError) as error:
            raise LearnloopError(f"The reflection is not valid: {error}") from error
        try:
            reflection = services.reflections.create(data, origin="cli")
        except InputRejected as error:
            raise LearnloopError(f"{error.field}: {error}") from error
        services.gap_rechecks.wait()  # a published reflection may close gaps: finish before the process ends
        stored = public(services, reflection)
    if as_json:
        print_json(stored.model_dump(mode="json"))
    else:
        out.print(f"Saved reflection {stored.id} ({stored.status}).")


def export_reflections(ctx: typer.Context) -> None:
    """Write published reflections as learning-log Markdown under corpus/learning-logs/.

    On a terminal, progress goes to standard error.
    """
    with fails_cleanly(), TerminalProgress(console) as progress:
        paths = services_from(ctx, progress).reflections.export(progress)
    out.print(f"Exported {len(paths)} reflections to learning-log files.")
