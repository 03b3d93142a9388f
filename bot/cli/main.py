"""Entry point: reads Settings once (the callback) and hands them to every command through the context."""

from __future__ import annotations

import logging
from importlib.metadata import version

import typer
from pydantic import AliasChoices, ValidationError

from bot.cli import admin, answers, corpus, learning, queue, review
from bot.cli.common import fails_cleanly, invalid, out
from bot.settings import Settings

app = typer.Typer(help="Learnloop: cited answers from reports and learning logs, and a learning loop.", no_args_is_help=True)


def variable(field: str) -> str:
    """The environment variable a settings field is read from, so a complaint names what to fix."""
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        return str(info.validation_alias.choices[0])
    return f"LEARNLOOP_{field.upper()}"


def show_version(wanted: bool) -> None:
    """`--version`: answered before settings are read, so it works whatever the environment holds."""
    if wanted:
        out.print(f"learnloop {version('learnloop')}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
    _version: bool = typer.Option(False, "--version", is_eager=True, callback=show_version, help="Print the installed version and exit."),
) -> None:
    """Read settings from the environment once, for whichever command runs."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with fails_cleanly():
        try:
            ctx.obj = Settings()
        except ValidationError as error:
            raise invalid(error, variable, prefix="invalid settings: ") from None


corpus.register(app)
answers.register(app)
learning.register(app)
admin.register(app)
review.register(app)
queue.register(app)
