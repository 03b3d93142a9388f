"""Helpers shared by the command modules: services from the context, JSON output, clean failures."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from bot.services import Services, build_services
from bot.settings import Settings
from index import LearnloopError

console = Console(stderr=True)


def services_from(ctx: typer.Context) -> Services:
    settings: Settings = ctx.obj
    return build_services(settings)


def print_json(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


@contextmanager
def fails_cleanly() -> Iterator[None]:
    """Turn a LearnloopError into a one-line message and exit status 1, never a traceback."""
    try:
        yield
    except LearnloopError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error
