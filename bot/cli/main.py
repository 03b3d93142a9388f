"""Entry point: reads Settings once (the callback) and hands them to every command through the context."""

from __future__ import annotations

import logging

import typer

from bot.cli import answers, corpus, learning
from bot.settings import Settings

app = typer.Typer(help="Learnloop: cited answers from reports and learning logs, and a learning loop.", no_args_is_help=True)


@app.callback()
def main(ctx: typer.Context, verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    """Read settings from the environment once, for whichever command runs."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Settings()


corpus.register(app)
answers.register(app)
learning.register(app)
