"""Learning-loop commands: reflect, export-reflections."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import ValidationError

from bot.cli.common import console, fails_cleanly, print_json, services_from
from bot.prompts import Prompts
from bot.reflection_models import ReflectionCreate, ReflectionPublic
from index import InputRejected, LearnloopError


def register(app: typer.Typer) -> None:
    app.command()(reflect)
    app.command(name="export-reflections")(export_reflections)


def _ask_in_terminal(prompts: Prompts) -> dict:
    text = lambda name: prompts.text("reflection", name)  # noqa: E731 - a local shorthand
    return {
        "what_happened": typer.prompt(text("what_happened")),
        "what_we_learned": typer.prompt(text("what_we_learned")),
        "what_next": typer.prompt(text("what_next"), default="", show_default=False),
        "tags": [t for t in typer.prompt(text("tags"), default="", show_default=False).split(",") if t.strip()],
        "author": typer.prompt("Your name (optional)", default="", show_default=False),
        "team": typer.prompt("Team (optional)", default="", show_default=False),
        "place": typer.prompt("Place (optional)", default="", show_default=False),
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
        stored = ReflectionPublic.model_validate(reflection, from_attributes=True)
        stored.document_id = services.reflections.document_id(reflection.id)
    if as_json:
        print_json(stored.model_dump(mode="json"))
    else:
        console.print(f"Saved reflection {stored.id} ({stored.status}).")


def export_reflections(ctx: typer.Context) -> None:
    """Write published reflections as learning-log Markdown under corpus/learning-logs/."""
    with fails_cleanly():
        paths = services_from(ctx).reflections.export()
    console.print(f"Exported {len(paths)} reflections to learning-log files.")
