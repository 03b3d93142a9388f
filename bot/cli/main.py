"""Entry point: reads Settings once (the callback) and hands them to every command through the context."""

from __future__ import annotations

import logging

import typer
from pydantic import ValidationError
from rich.markup import escape

from bot.cli import answers, corpus, learning
from bot.cli.common import console
from bot.settings import Settings

app = typer.Typer(help="Learnloop: cited answers from reports and learning logs, and a learning loop.", no_args_is_help=True)


@app.callback()
def main(ctx: typer.Context, verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    """Read settings from the environment once, for whichever command runs."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        ctx.obj = Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_input=False))
        console.print(f"[red]error:[/red] invalid settings: {escape(problems)}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None


corpus.register(app)
answers.register(app)
learning.register(app)
